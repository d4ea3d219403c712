"""Wall-clock latency of the emotion model through ONNX Runtime, per batch of faces.

Shared by ``bench/emotion.py`` and the model card so both report the same measurement:
one ``predict`` call on a batch (49 = a full 7x7 gallery), after warm-up runs, on a fixed
number of ONNX Runtime threads. Face content does not change the cost of this CNN, so random
pixels stand in for faces. No torch import.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.emotion_classifier import OnnxEmotionClassifier
from models.preprocessing import FACE_SIZE_PX

GALLERY_FACES = 49


@dataclass(frozen=True)
class BatchTiming:
    """Latency of one ``predict`` call on ``batch`` faces, over ``runs`` timed calls."""

    batch: int
    median_ms: float
    p90_ms: float
    runs: int


def time_batches(model_path: Path | None, batch_sizes: tuple[int, ...] = (1, 9, 25, GALLERY_FACES),
                 threads: int = 2, runs: int = 30, warmup_runs: int = 3, seed: int = 0) -> list[BatchTiming]:
    """Median and 90th-percentile ms per ``predict`` call for each batch size.

    Args:
        model_path: ONNX file (``None``: the packaged ``models/emotion.onnx``).
        threads: ONNX Runtime intra-op threads (the app's budget is 2).
        runs: timed calls per batch size; ``warmup_runs`` untimed calls come first
            (the first calls allocate buffers and are not representative).
    """
    rng = np.random.default_rng(seed)
    out = []
    with OnnxEmotionClassifier(model_path, threads=threads) as clf:
        for n in batch_sizes:
            faces = rng.random((n, 1, FACE_SIZE_PX, FACE_SIZE_PX), dtype=np.float32)
            for _ in range(warmup_runs):
                clf.predict(faces)
            ms = np.empty(runs)
            for i in range(runs):
                t0 = time.perf_counter()
                clf.predict(faces)
                ms[i] = (time.perf_counter() - t0) * 1000
            out.append(BatchTiming(n, float(np.median(ms)), float(np.percentile(ms, 90)), runs))
    return out
