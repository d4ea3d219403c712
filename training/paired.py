"""Two emotion files, face by face: ``python -m training.paired A.onnx B.onnx [--split public]``.

Whether one model file reads more faces right than another, and whether the difference is more
than chance. Both files read the very same faces; the faces right under only one of them are
all that differ, and the exact McNemar test (a two-sided binomial test on those faces) gives the
chance of a split at least that uneven if both files were equally good. A cheaper variant
(fewer test-time views, int8) is judged this way rather than by a difference in points: on
3,589 faces six faces are 0.17 points, and two equally good files differ by more than that
about half the time.

Measures, each on the faces of one split (PublicTest unless ``--split private`` is asked for,
which is then PrivateTest's one reading):

- ``FER2013``: every face of the split, 48x48 direct, the split's own labels;
- ``FER+ majority``: the faces whose crowd majority is one of the 7 classes, that label;
- ``proxy``: a seeded sample in simulated gallery tiles through the product's detector and crop
  (``training.proxy``), FER2013 labels, the faces the detector found;
- ``small tiles``: the same sample in small tiles (7x7 galleries, filmstrips, a laptop screen).

The proxies are read once and given to both files, so both see the same crops. Top classes only:
temperatures do not change them.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from math import comb
from pathlib import Path

import cv2
import numpy as np

from models.emotion_classifier import OnnxEmotionClassifier
from models.preprocessing import face_tensor
from training.data import DEFAULT_DATA, load_test_split
from training.measure import predict_probs
from training.metrics import ferplus_majority
from training.proxy import SMALL_TILE_SIZES_WH, TILE_SIZES_WH, product_finder, proxy_seed, read_proxy

log = logging.getLogger(__name__)

SIGNIFICANT_BELOW = 0.05


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value: the chance, were both files equally good, that the
    ``only_a + only_b`` faces right under one file alone split at least this unevenly (each
    face a fair coin). 1.0 when no face differs."""
    if only_a < 0 or only_b < 0:
        raise ValueError("face counts cannot be negative")
    n = only_a + only_b
    if n == 0:
        return 1.0
    tail = sum(comb(n, k) for k in range(min(only_a, only_b) + 1))
    return min(1.0, 2 * tail / 2**n)  # exact integers: no overflow however many faces differ


@dataclass(frozen=True)
class PairedAccuracy:
    """Two files on the same ``faces``: how many each got right, how many only one of them did,
    the McNemar p-value of that split, and on how many both gave the same top class."""

    measure: str
    faces: int
    right_a: int
    right_b: int
    only_a: int
    only_b: int
    p_value: float
    same_top: int

    @property
    def better(self) -> str | None:
        """``"A"`` or ``"B"`` when that file is right more often at p < 0.05, else None."""
        if self.p_value >= SIGNIFICANT_BELOW:
            return None
        return "A" if self.only_a > self.only_b else "B"

    def line(self) -> str:
        verdict = f"{self.better} better" if self.better else "no difference beyond chance"
        return (f"{self.measure}: A {self.right_a / self.faces:.2%}, B {self.right_b / self.faces:.2%} "
                f"of {self.faces} faces; right only under A {self.only_a}, only under B {self.only_b}; "
                f"McNemar p = {self.p_value:.3f} ({verdict}); same top class on {self.same_top / self.faces:.2%}")


def paired_accuracy(measure: str, pred_a: np.ndarray, pred_b: np.ndarray, labels: np.ndarray) -> PairedAccuracy:
    """Compare two files' top classes ``pred_a``, ``pred_b`` on the same faces with ``labels``."""
    if not (len(pred_a) == len(pred_b) == len(labels)):
        raise ValueError("both files must read the same faces")
    ok_a, ok_b = pred_a == labels, pred_b == labels
    only_a, only_b = int((ok_a & ~ok_b).sum()), int((~ok_a & ok_b).sum())
    return PairedAccuracy(measure, len(labels), int(ok_a.sum()), int(ok_b.sum()), only_a, only_b,
                          mcnemar_exact(only_a, only_b), int((pred_a == pred_b).sum()))


@dataclass(frozen=True)
class SplitFaces:
    """A split's faces for the four measures: every face 48x48 direct with its FER2013 label and
    crowd majority (-1 where there is none), and each proxy's faces the detector found with their
    labels."""

    direct: np.ndarray
    labels: np.ndarray
    majority: np.ndarray
    proxies: dict[str, tuple[np.ndarray, np.ndarray]]

    def measures(self, tops: Callable[[np.ndarray], np.ndarray]) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """``(measure, top classes, labels)`` for each measure, from ``tops(faces)``; the FER+
        majority measure reuses the direct reading of its faces."""
        direct = tops(self.direct)
        crowd = self.majority >= 0
        return [("FER2013", direct, self.labels), ("FER+ majority", direct[crowd], self.majority[crowd]),
                *((name, tops(x), labels) for name, (x, labels) in self.proxies.items())]


def split_faces(data: Path, split: str, proxy_faces: int, seed: int) -> SplitFaces:
    """The faces of the module notes' measures on ``split``; the proxies' galleries are seeded,
    so every tool that compares files on a split reads the very same crops."""
    images, y, votes = load_test_split(data, split)
    sample = np.sort(np.random.default_rng(seed).choice(len(y), size=min(proxy_faces, len(y)), replace=False))
    proxies: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    with product_finder() as find:
        for name, tiles, small in (("proxy", TILE_SIZES_WH, False), ("small tiles", SMALL_TILE_SIZES_WH, True)):
            reading = read_proxy(images[sample], find, seed=proxy_seed(seed, split, small), tile_sizes_wh=tiles)
            proxies[name] = (reading.tensor[reading.found], y[sample][reading.found])
            log.info("%s: %d of %d faces found", name, int(reading.found.sum()), len(sample))
    return SplitFaces(face_tensor(images), y, ferplus_majority(votes), proxies)


def compare_files(model_a: Path, model_b: Path, data: Path, split: str, proxy_faces: int,
                  seed: int) -> list[PairedAccuracy]:
    """The four measures of the module notes, A against B, on ``split``. Each file reads the
    split's faces once: the FER+ majority measure is a subset of the FER2013 one."""
    faces = split_faces(data, split, proxy_faces, seed)
    with OnnxEmotionClassifier(model_a, threads=1) as a, OnnxEmotionClassifier(model_b, threads=1) as b:
        read_a = faces.measures(lambda x: predict_probs(a, x).argmax(1))
        read_b = faces.measures(lambda x: predict_probs(b, x).argmax(1))
    return [paired_accuracy(name, top_a, top_b, labels)
            for (name, top_a, labels), (_, top_b, _) in zip(read_a, read_b, strict=True)]


def add_face_arguments(p: argparse.ArgumentParser) -> None:
    """The options that pick a split's faces (``split_faces``), shared by the tools that read them."""
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="fer2013.npz")
    p.add_argument("--proxy-faces", type=int, default=3589, help="faces sampled for the two proxies")
    p.add_argument("--seed", type=int, default=0)


def inputs_present(*paths: Path) -> bool:
    """Log as a tool does, one thread for OpenCV and OpenMP (the session is timed and shared);
    False, after one line, when an input file is missing."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    cv2.setNumThreads(1)
    for path in paths:
        if not path.is_file():
            log.error("no file at %s", path)
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.paired", description=__doc__.split("\n\n")[0])
    p.add_argument("model_a", type=Path, metavar="A.onnx")
    p.add_argument("model_b", type=Path, metavar="B.onnx")
    p.add_argument("--split", choices=("public", "private"), default="public",
                   help="PublicTest to choose; PrivateTest only for the one reading of a choice made")
    add_face_arguments(p)
    args = p.parse_args(argv)
    if not inputs_present(args.model_a, args.model_b, args.data):
        return 2
    print(f"A = {args.model_a}, B = {args.model_b}, {args.split} split")
    for result in compare_files(args.model_a, args.model_b, args.data, args.split, args.proxy_faces, args.seed):
        print(result.line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
