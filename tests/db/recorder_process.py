"""One ``classmood run``'s storage in its own process, for the concurrent-writers test.

``python tests/db/recorder_process.py URL FRAMES FACES``: prints ``ready`` once imported, waits for
a line on stdin (so that several processes open the database at once), records FRAMES frames of
FACES faces through a real ``Recorder`` and prints ``{"session_id": ..., "committed": ...}``.
"""

from __future__ import annotations

import json
import sys
import time

from storage_helpers import make_frame, session_info

from db.engine import open_engine
from db.recorder import Recorder


def main(argv: list[str]) -> int:
    url, n_frames, n_faces = argv[0], int(argv[1]), int(argv[2])
    print("ready", flush=True)
    sys.stdin.readline()
    engine = open_engine(url)
    rec = Recorder(engine, session_info(source="screen"), commit_interval_s=0.2)
    for fid in range(1, n_frames + 1):
        rec.submit(make_frame(fid, list(range(1, n_faces + 1))))
        time.sleep(0.02)
    rec.close()
    print(json.dumps({"session_id": rec.session_id, "committed": rec.health.frames_committed,
                      "error": rec.health.last_error}))
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
