"""Wall-clock latency of the emotion model through ONNX Runtime, per batch of faces.

Shared by ``bench/emotion.py`` and the model card so both report the same measurement:
one ``predict`` call on a batch (49 = a full 7x7 gallery), after warm-up runs, on a fixed
number of ONNX Runtime threads. A graph that reads its own views costs the same whatever the
faces; a file with a view cascade (``models.view_cascade``) reads more views of unsure faces,
so it is timed on real faces (``split_faces``: PublicTest, each call a new draw) where there are
some, and random pixels stand in otherwise. No torch import.
"""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.emotion_classifier import OnnxEmotionClassifier
from models.preprocessing import FACE_SIZE_PX, face_tensor
from training.data import DEFAULT_DATA, load_test_split

GALLERY_FACES = 49
CPUINFO = Path("/proc/cpuinfo")


def cpu_description(cpuinfo: Path = CPUINFO) -> str:
    """The processor, and whether it has the int8 dot-product instructions (VNNI) that an int8
    file's speed depends on, e.g. ``AMD EPYC, AVX2 without VNNI``; where the system does not
    say (no ``/proc/cpuinfo``), the architecture and the system's own processor name."""
    plain = f"{platform.machine()} {platform.processor() or platform.system()}".strip()
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return plain
    fields = {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in text.splitlines()[:40] if ":" in line)}
    if "flags" not in fields:  # not x86: VNNI is an x86 extension
        return fields.get("model name", plain)
    flags = set(fields["flags"].split())
    if flags & {"avx512_vnni", "avx_vnni"}:
        isa = "VNNI"
    elif "avx2" in flags:
        isa = "AVX2 without VNNI"
    else:
        isa = "no AVX2"
    return f"{fields.get('model name', plain)}, {isa}"


@dataclass(frozen=True)
class BatchTiming:
    """Latency of one ``predict`` call on ``batch`` faces, over ``runs`` timed calls."""

    batch: int
    median_ms: float
    p90_ms: float
    runs: int
    views_per_face: float  # views the network ran on, per face (a cascade's cost)
    real_faces: bool


def split_faces(data: Path = DEFAULT_DATA, split: str = "public") -> np.ndarray | None:
    """``(n, 1, 48, 48)`` faces of a FER2013 test split, or None when the data is not here."""
    return face_tensor(load_test_split(data, split)[0]) if data.is_file() else None


def time_batches(model_path: Path | None, batch_sizes: tuple[int, ...] = (1, 9, 25, GALLERY_FACES),
                 threads: int = 2, runs: int = 30, warmup_runs: int = 3, seed: int = 0,
                 faces: np.ndarray | None = None) -> list[BatchTiming]:
    """Median and 90th-percentile ms per ``predict`` call for each batch size.

    Args:
        model_path: ONNX file (``None``: the packaged ``models/emotion.onnx``).
        threads: ONNX Runtime intra-op threads (the app's budget is 2).
        runs: timed calls per batch size; ``warmup_runs`` untimed calls come first
            (the first calls allocate buffers and are not representative).
        faces: ``(m, 1, 48, 48)`` real faces to draw each call's batch from; None: random pixels.
    """
    rng = np.random.default_rng(seed)
    out = []
    with OnnxEmotionClassifier(model_path, threads=threads) as clf:
        def batch(n: int) -> np.ndarray:
            if faces is None:
                return rng.random((n, 1, FACE_SIZE_PX, FACE_SIZE_PX), dtype=np.float32)
            return faces[rng.choice(len(faces), n, replace=False)]

        for n in batch_sizes:
            for _ in range(warmup_runs):
                clf.predict(batch(n))
            clf.faces_read = clf.views_read = 0
            ms = np.empty(runs)
            for i in range(runs):
                x = batch(n)
                t0 = time.perf_counter()
                clf.predict(x)
                ms[i] = (time.perf_counter() - t0) * 1000
            out.append(BatchTiming(n, float(np.median(ms)), float(np.percentile(ms, 90)), runs,
                                   clf.views_read / clf.faces_read, faces is not None))
    return out
