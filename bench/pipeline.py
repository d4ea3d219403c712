"""Per-stage milliseconds of the whole live pipeline: ``python -m bench.pipeline [repeats]``.

Capture (mss on the real display, or on a private Xvfb when there is none), tile finding and
face detection, name reading, tracking, attention, emotion classification, smoothing,
aggregation and storage (a real SQLite file through the background writer) for 1, 9, 25 and
49 tiles at 1080p, each frame with fresh camera noise and 1 s after the last (as a live class
at the default 1 fps). Two pipelines in the same run: ``full-cost`` (every tile detected and
every face classified on every frame, the float emotion model: what ran before change-based
re-detection) and ``live`` (what ``classmood run`` builds for a screen: unchanged tiles keep
their boxes, unchanged faces their expression, the int8 model). Prints the median of each
stage, the median end to end (capture -> store), the CPU milliseconds per frame
(``time.process_time``, all threads) and, over the counted frames, the face detector calls and
the faces read by the emotion model per frame (counts: the same on a loaded machine); not a test.
``python -m bench.pipeline 40`` counts 40 frames, long enough for the live path's periodic
refreshes (detections every ~30 s, sure expressions every ~10 s) to be in the figures.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from bench.class_window import with_noise
from bot.pipeline import Pipeline, build_pipeline
from db.engine import open_engine
from db.recorder import Recorder, SessionInfo
from tools.compose_gallery import compose_gallery, load_face_photos
from vocab.protocols import CapturedFrame
from vocab.settings import Config, Privacy

GRIDS = {1: (1, 1), 9: (3, 3), 25: (5, 5), 49: (7, 7)}
# Frames not counted: the models' first calls and the first full look of the live pipeline,
# which reads all of a new gallery's names (49 tiles: ~0.5 s, once).
WARM_UP = 8


def _capture_ms(repeats: int) -> float | None:
    """Median ms of one 1920x1080 mss grab, or None when no display can be had."""
    xvfb = None
    env_display = os.environ.get("DISPLAY")
    if not env_display and shutil.which("Xvfb"):
        os.environ["DISPLAY"] = ":97"
        xvfb = subprocess.Popen(["Xvfb", ":97", "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
    if not os.environ.get("DISPLAY"):
        return None
    try:
        import mss

        with mss.MSS() as sct:
            area = {"left": 0, "top": 0, "width": 1920, "height": 1080}
            sct.grab(area)
            times = []
            for _ in range(repeats):
                t = time.perf_counter()
                sct.grab(area)
                times.append((time.perf_counter() - t) * 1000)
        return statistics.median(times)
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait()
            del os.environ["DISPLAY"]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    repeats = int(args[0]) if args else 10
    capture = _capture_ms(repeats)
    photos = load_face_photos()
    config = Config()
    pipelines = {"full-cost": build_pipeline(config, full_cost=True), "live": build_pipeline(config)}
    print(f"ClassMood pipeline benchmark, 1920x1080, median of {repeats} frames 1 s apart "
          f"(after {WARM_UP} warm-up frames), {os.cpu_count()} cores")
    print(f"capture (mss 1920x1080 grab): {'n/a (no display)' if capture is None else f'{capture:.1f} ms'}")
    stage_names = ("detect", "names", "track", "attention", "classify", "smooth", "aggregate", "store")
    header = ("path", "tiles", "faces", *stage_names, "total", "cpu", "det/fr", "read/fr")
    print(" ".join(f"{h:>9}" for h in header))
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_engine(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        for n, grid in GRIDS.items():
            gallery = compose_gallery(photos, grid=grid, size_wh=(1920, 1080), seed=n, camera_off_frac=0.0)
            for name, pipeline in pipelines.items():
                rng = np.random.default_rng(n)
                info = SessionInfo(source="bench", live=True, privacy=Privacy.FULL, settings={}, model_sha256=None)
                recorder = Recorder(engine, info, commit_interval_s=3600)
                stages: dict[str, list[float]] = {}
                faces = 0
                t0 = 1000.0 * n  # each gallery starts afresh for the trackers and the kept results
                calls = _model_calls(pipeline)
                for i in range(repeats + WARM_UP):
                    if i == WARM_UP:
                        calls = _model_calls(pipeline)
                    image = with_noise(gallery.image, rng)
                    cpu = time.process_time()
                    frame = pipeline.process(CapturedFrame(image, (0, 0, 1920, 1080)), i + 1, t0 + i,
                                             datetime.now(UTC))
                    recorder.submit(frame)
                    t = time.perf_counter()
                    recorder._commit_pending()  # measured inline: one frame's rows in one transaction
                    store_ms = (time.perf_counter() - t) * 1000
                    cpu_ms = (time.process_time() - cpu) * 1000
                    if i < WARM_UP:
                        continue
                    faces = len(frame.faces)
                    total = sum(frame.timings_ms.values()) + store_ms + (capture or 0.0)
                    for k, v in {**frame.timings_ms, "store": store_ms, "total": total, "cpu": cpu_ms}.items():
                        stages.setdefault(k, []).append(v)
                recorder.close()
                med = {k: statistics.median(v) for k, v in stages.items()}
                med.update({k: (v - calls[k]) / repeats for k, v in _model_calls(pipeline).items()})
                cells = [name, n, faces, *(med.get(k, 0.0) for k in header[3:])]
                print(" ".join(f"{c:>9}" if isinstance(c, (int, str)) else f"{c:>9.1f}" for c in cells))
    for pipeline in pipelines.values():
        pipeline.close()
    return 0


def _model_calls(pipeline: Pipeline) -> dict[str, float]:
    """Face detector calls and faces read by the emotion model so far."""
    return {"det/fr": float(pipeline.finder.detector_calls),
            "read/fr": float(pipeline.emotion.faces_classified if pipeline.emotion is not None else 0)}


if __name__ == "__main__":
    raise SystemExit(main())
