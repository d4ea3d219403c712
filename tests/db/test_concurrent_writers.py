"""Three classes recorded at once into one new database, each by its own process.

They race to create the schema, then interleave their commits: each must get its own session,
its own participant ids, and every row it wrote. (Processes running a real ``Recorder``; the full
``classmood run`` pipeline is exercised in tests/bot.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select
from storage_helpers import count_rows

from db.engine import open_engine
from db.schema import ObservationRow, ParticipantRow, SchemaInfo, SessionRow, session_scope
from db.tables import SCHEMA_VERSION
from vocab.timefmt import aware_utc as _aware

HERE = Path(__file__).resolve().parent
WRITERS, FRAMES, FACES = 3, 60, 12


def test_three_processes_write_one_database_at_once(db_url: str) -> None:
    paths = [str(HERE.parents[1]), str(HERE.parent), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    procs = [subprocess.Popen([sys.executable, str(HERE / "recorder_process.py"), db_url, str(FRAMES), str(FACES)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env, cwd=HERE.parents[1])
             for _ in range(WRITERS)]
    try:
        for p in procs:  # all imported: now let them open the new database together
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        results = []
        for p in procs:
            out, err = p.communicate(timeout=60)
            assert p.returncode == 0, err[-2000:]
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert all(r["committed"] == FRAMES and r["error"] is None for r in results), results
    ids = sorted(r["session_id"] for r in results)
    assert len(set(ids)) == WRITERS

    engine = open_engine(db_url)
    for sid in ids:
        assert count_rows(engine, sid) == (FRAMES * FACES, FRAMES, FACES)
    with session_scope(engine) as s:
        sessions = s.scalars(select(SessionRow).order_by(SessionRow.id)).all()
        assert [r.id for r in sessions] == ids
        assert all(r.status == "complete" and r.frames == FRAMES for r in sessions)
        # They really overlapped: every session started before any of them ended.
        assert max(_aware(r.started_utc) for r in sessions) < min(_aware(r.ended_utc) for r in sessions if r.ended_utc)
        crossed = s.scalar(select(func.count()).select_from(ObservationRow)
                           .join(ParticipantRow, ObservationRow.participant_id == ParticipantRow.id)
                           .where(ObservationRow.session_id != ParticipantRow.session_id))
        assert crossed == 0, "an observation points at another class's participant"
        assert s.scalar(select(func.count(func.distinct(ParticipantRow.id)))) == WRITERS * FACES
        assert s.scalars(select(SchemaInfo.version)).all() == [SCHEMA_VERSION]
