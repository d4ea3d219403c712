"""Time the detection stage on composed 1080p galleries: ``python -m bench.detect``.

Prints, per gallery size, the median milliseconds of tile finding, of the detector calls and of
the whole stage, and the number of detector calls.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np

from bot.detect import FaceFinder
from bot.tiles import find_tiles
from models.face_detector import MediaPipeFaceDetector
from tools.compose_gallery import compose_gallery, load_face_photos
from vocab.types import FrameResult


class _CountingDetector:
    def __init__(self, inner: MediaPipeFaceDetector):
        self.inner, self.calls, self.ms = inner, 0, 0.0

    def detect(self, image_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = time.perf_counter()
        out = self.inner.detect(image_bgr)
        self.ms += (time.perf_counter() - t) * 1000
        self.calls += 1
        return out

    def close(self) -> None:
        pass


def main(argv: Sequence[str] | None = None) -> int:
    repeats = int(argv[0]) if argv else 5
    photos = load_face_photos()
    print("tiles  find_tiles_ms  detector_ms  calls  ms_per_call  stage_ms")
    with MediaPipeFaceDetector() as mp_detector:
        counting = _CountingDetector(mp_detector)
        finder = FaceFinder(counting)
        for grid in ((1, 1), (3, 3), (5, 5), (7, 7)):
            g = compose_gallery(photos, grid=grid, size_wh=(1920, 1080), seed=1, camera_off_frac=0)
            frame = FrameResult(0, 0.0, datetime.now(UTC), (0, 0, 1920, 1080), image=g.image)
            finder(frame)  # warm-up
            tiles_ms, det_ms, stage_ms, calls = [], [], [], 0
            for _ in range(repeats):
                t = time.perf_counter()
                find_tiles(g.image)
                tiles_ms.append((time.perf_counter() - t) * 1000)
                counting.calls, counting.ms = 0, 0.0
                t = time.perf_counter()
                finder(frame)
                stage_ms.append((time.perf_counter() - t) * 1000)
                det_ms.append(counting.ms)
                calls = counting.calls
            det = float(np.median(det_ms))
            print(f"{len(g.tiles):5d}  {np.median(tiles_ms):13.1f}  {det:11.1f}  {calls:5d}  "
                  f"{det / max(calls, 1):11.2f}  {np.median(stage_ms):8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
