"""Emotion model latency: ``python -m bench.emotion [MODEL.onnx] [--threads 2] [--runs 50]``.

Prints median and 90th-percentile milliseconds of one ``predict`` call for 1, 9, 25 and 49
faces (49 = a full 7x7 gallery, the frame budget that matters) through ONNX Runtime, plus the
model file size and the views read a face. Each call reads a new draw of real PublicTest faces
where ``--data`` is here (a view cascade costs what the faces make it), else random pixels.
Not a test: numbers depend on the machine and on what else it is running.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from models.emotion_classifier import DEFAULT_MODEL_PATH
from training.data import DEFAULT_DATA
from training.timing import cpu_description, split_faces, time_batches
from vocab.errors import ModelError

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.emotion", description=__doc__.split("\n\n")[0])
    p.add_argument("model", type=Path, nargs="?", default=DEFAULT_MODEL_PATH, metavar="MODEL.onnx")
    p.add_argument("--threads", type=int, default=2, help="ONNX Runtime intra-op threads (app default: 2)")
    p.add_argument("--runs", type=int, default=50, help="timed calls per batch size")
    p.add_argument("--batches", type=int, nargs="+", default=[1, 9, 25, 49], help="faces per call")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="fer2013.npz: PublicTest faces to time on")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    faces = split_faces(args.data)
    if faces is None:
        log.warning("no %s: timing on random pixels (a view cascade's cost depends on the faces)", args.data)
    try:
        timings = time_batches(args.model, tuple(args.batches), threads=args.threads, runs=args.runs, faces=faces)
    except ModelError as e:
        log.error("%s", e)
        return 2
    size_mb = args.model.stat().st_size / 1e6
    what = "PublicTest faces" if faces is not None else "random pixels"
    print(f"{args.model} ({size_mb:.2f} MB), ONNX Runtime, {args.threads} threads, {args.runs} runs per batch "
          f"of {what}, on {cpu_description()}")
    print(f"{'faces':>5}  {'median ms':>9}  {'p90 ms':>7}  {'ms/face':>7}  {'views/face':>10}")
    for t in timings:
        print(f"{t.batch:>5}  {t.median_ms:>9.2f}  {t.p90_ms:>7.2f}  {t.median_ms / t.batch:>7.2f}  "
              f"{t.views_per_face:>10.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
