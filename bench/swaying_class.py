"""What a class that moves costs: ``python -m bench.swaying_class [--frames 60]``.

The live pipeline (``bot.pipeline.build_pipeline`` for a screen source: int8 model, names,
attention) in this process over a composed 7x7 1080p class (``bench.class_window``), one frame a
second of its clock, where every camera sways a few pixels out of step with the others (each
tile's video, not its name label, shifted by up to 3 px, as people move in their chairs) and
shows fresh noise. ``bench.live_cpu``'s class is still but for its noise; this one is what a
class looks like. Prints the median milliseconds of each stage and the mean CPU time of the
process per frame after 10 warm-up frames, and the detector calls. Not a test.
"""

from __future__ import annotations

import argparse
import logging
import math
import statistics
import time
from datetime import UTC, datetime

import numpy as np

from bench.class_window import class_states, with_noise
from bot.pipeline import build_pipeline
from vocab.protocols import CapturedFrame
from vocab.settings import Config, SourceKind, SourceSpec

WARM_UP = 10
SWAY_PX = 3.0
LABEL_SHARE = 0.22  # the bottom of each tile, where the app draws the name over the video


def swaying(image: np.ndarray, tiles: list[tuple[int, int, int, int]], k: int) -> np.ndarray:
    """``image`` with each tile's video (above its label band) shifted sideways by its sway at frame ``k``."""
    out = image.copy()
    for j, (x0, y0, x1, y1) in enumerate(tiles):
        yb = y0 + int((1 - LABEL_SHARE) * (y1 - y0))
        out[y0:yb, x0:x1] = np.roll(out[y0:yb, x0:x1], int(round(SWAY_PX * math.sin(0.9 * k + j))), axis=1)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.swaying_class", description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    pipeline = build_pipeline(Config(source=SourceSpec(SourceKind.SCREEN)))
    gallery = class_states(seed=0, grid=(7, 7), size_wh=(1920, 1080))["leave"]
    tiles = [(int(t.xyxy[0]), int(t.xyxy[1]), int(t.xyxy[2]), int(t.xyxy[3])) for t in gallery.tiles]
    rng = np.random.default_rng(0)
    cpu: list[float] = []
    stages: list[dict[str, float]] = []
    calls = 0
    try:
        for k in range(max(args.frames, WARM_UP + 1)):
            image = swaying(with_noise(gallery.image, rng), tiles, k)
            if k == WARM_UP:
                calls = pipeline.finder.detector_calls
            t = time.process_time()
            frame = pipeline.process(CapturedFrame(image, (0, 0, 1920, 1080)), k + 1, 1000.0 + k, datetime.now(UTC))
            for upkeep in pipeline.after_frame:
                upkeep()
            if k >= WARM_UP:
                cpu.append((time.process_time() - t) * 1000)
                stages.append(frame.timings_ms)
        n = len(cpu)
        medians = {name: statistics.median(s[name] for s in stages) for name in stages[0]}
        print(f"swaying 7x7 class, 1920x1080, {n} frames 1 s apart after {WARM_UP} warm-up frames")
        print("stage ms (median): " + ", ".join(f"{name} {ms:.1f}" for name, ms in medians.items()))
        print(f"CPU per frame (process, all threads): mean {statistics.mean(cpu):.1f} ms, "
              f"median {statistics.median(cpu):.1f} ms; detector calls a frame "
              f"{(pipeline.finder.detector_calls - calls) / n:.1f}")
    finally:
        pipeline.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
