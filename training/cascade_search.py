"""The read stages of a file that carries a partner network, chosen on PublicTest:
``python -m training.cascade_search A.onnx B.onnx [--max-reads 2.30] [--max-small-reads 2.70]``.

A file that carries a partner (``training.partner``) reads each face in stages
(``models.view_cascade``): which reads, in which order, and from what doubt on is a choice, and
it is made here, on PublicTest only. Each network (A, the file's own; B, the partner; one-view
graphs, the very files to be joined) reads each of the four views of every face of
``training.paired``'s four measures once: FER2013, FER+ majority, the proxy and small tiles.
Every candidate is then scored from those readings by ``models.view_cascade.run_cascade``, the
function the runtime reads with, so a candidate's figures are the ones the joined file reads.

Candidates: the four stage shapes of ``SHAPES``, each with every pair of thresholds of
``FIRST_BELOW`` x ``SECOND_BELOW``. A candidate may make no more reads a face, on average, than
``--max-reads`` on the direct faces and ``--max-small-reads`` in small tiles (the defaults: the
live file's own 2.28 and 2.65, and a little). Of those, the one with the largest mean of the
four accuracies is printed last, as the ``--cascade`` JSON ``training.partner`` takes.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.emotion_classifier import OnnxEmotionClassifier
from models.view_cascade import VIEWS, CascadeReading, Read, ViewCascade, run_cascade, view_logits, views_of
from training.paired import add_face_arguments, inputs_present, split_faces
from training.partner import raw_reading

log = logging.getLogger(__name__)

A_FACE = Read(0, "face")
SHAPES: tuple[tuple[tuple[Read, ...], ...], ...] = (
    ((A_FACE,), (Read(1, "mirror"),), (Read(0, "mirror"), Read(1, "face"))),
    ((A_FACE,), (Read(1, "face"),), (Read(0, "mirror"), Read(1, "mirror"))),
    ((A_FACE,), (Read(0, "mirror"),), (Read(1, "face"), Read(1, "mirror"))),
    ((A_FACE,), (Read(1, "mirror"),), (Read(0, "zoom_mirror"), Read(1, "zoom"))),
)
FIRST_BELOW = tuple(round(0.60 + 0.05 * i, 2) for i in range(8))  # 0.60 .. 0.95
SECOND_BELOW = tuple(round(0.40 + 0.05 * i, 2) for i in range(9))  # 0.40 .. 0.80


@dataclass(frozen=True)
class Measure:
    """One measure's faces as readings of every (network, view), ``(n, 7)`` logits each, and
    their labels."""

    readings: Mapping[Read, np.ndarray]
    labels: np.ndarray

    def subset(self, rows: np.ndarray) -> Measure:
        return Measure({r: v[rows] for r, v in self.readings.items()}, self.labels[rows])


@dataclass(frozen=True)
class Scored:
    """A candidate cascade: the fraction of each measure's faces it reads right, and the mean
    number of reads a face it makes there."""

    cascade: ViewCascade
    accuracy: dict[str, float]
    reads: dict[str, float]

    @property
    def mean_accuracy(self) -> float:
        return float(np.mean(list(self.accuracy.values())))

    def line(self) -> str:
        figures = "  ".join(f"{name} {acc:.2%} ({self.reads[name]:.2f} reads)" for name, acc in self.accuracy.items())
        return f"mean {self.mean_accuracy:.2%}  {figures}  {short(self.cascade)}"


def short(cascade: ViewCascade) -> str:
    """``A face | B mirror <0.9 | A zoom_mirror, B zoom <0.45``: A the file's own network, B the
    partner, each stage after the first read under its threshold."""
    stages = [", ".join(f"{'AB'[r.network]} {r.view}" for r in stage) for stage in cascade.stages]
    return " | ".join([stages[0], *(f"{s} <{t:g}" for s, t in zip(stages[1:], cascade.below, strict=True))])


def read_views(paths: tuple[Path, ...], faces: np.ndarray) -> dict[Read, np.ndarray]:
    """Every view of ``faces`` read once by each file's one-view graph (network = its index)."""
    out: dict[Read, np.ndarray] = {}
    for network, path in enumerate(paths):
        (probs,) = raw_reading(path, views_of(faces, list(VIEWS)))
        for view, part in zip(VIEWS, np.split(probs, len(VIEWS)), strict=True):
            out[Read(network, view)] = view_logits(part)
    return out


def cascade_reading(measure: Measure, cascade: ViewCascade) -> CascadeReading:
    """What a file with ``cascade`` reads on the measure's faces, from the readings made once."""
    def read_stage(rows: np.ndarray, stage: tuple[Read, ...]) -> np.ndarray:
        return np.sum([measure.readings[r][rows] for r in stage], axis=0)

    return run_cascade(read_stage, len(measure.labels), cascade)


def score(measures: Mapping[str, Measure], cascade: ViewCascade) -> Scored:
    accuracy, reads = {}, {}
    for name, m in measures.items():
        reading = cascade_reading(m, cascade)
        accuracy[name] = float((reading.probabilities.argmax(axis=1) == m.labels).mean())
        reads[name] = float(reading.views.mean())
    return Scored(cascade, accuracy, reads)


def search(measures: Mapping[str, Measure], max_reads: Mapping[str, float]) -> list[Scored]:
    """Every candidate of the module notes within ``max_reads`` (measure -> the most reads a face
    allowed there), best mean accuracy first; of equals, the one that reads the first measure's
    faces fewest times."""
    kept = []
    for shape in SHAPES:
        for first in FIRST_BELOW:
            for second in SECOND_BELOW:
                scored = score(measures, ViewCascade(shape, (first, second)))
                if all(scored.reads[name] <= limit for name, limit in max_reads.items()):
                    kept.append(scored)
    return sorted(kept, key=lambda s: (-round(s.mean_accuracy, 9), s.reads[next(iter(s.reads))]))


def public_measures(model_a: Path, model_b: Path, data: Path, proxy_faces: int, seed: int) -> dict[str, Measure]:
    """``training.paired``'s four PublicTest measures, read by both networks."""
    faces = split_faces(data, "public", proxy_faces, seed)
    paths = (model_a, model_b)
    direct = Measure(read_views(paths, faces.direct), faces.labels)
    crowd = np.flatnonzero(faces.majority >= 0)
    measures = {"FER2013": direct,
                "FER+ majority": Measure(direct.subset(crowd).readings, faces.majority[crowd])}
    for name, (x, labels) in faces.proxies.items():
        measures[name] = Measure(read_views(paths, x), labels)
    return measures


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.cascade_search", description=__doc__.split("\n\n")[0])
    p.add_argument("model_a", type=Path, metavar="A.onnx", help="the file's own network (one view)")
    p.add_argument("model_b", type=Path, metavar="B.onnx", help="the partner network (one view)")
    p.add_argument("--max-reads", type=float, default=2.30, help="most reads a face, direct PublicTest faces")
    p.add_argument("--max-small-reads", type=float, default=2.70, help="most reads a face in small tiles")
    p.add_argument("--top", type=int, default=10, help="candidates printed")
    add_face_arguments(p)
    args = p.parse_args(argv)
    if not inputs_present(args.model_a, args.model_b, args.data):
        return 2
    with OnnxEmotionClassifier(args.model_a, threads=1) as clf:
        own = clf.view_cascade or ViewCascade(((A_FACE,),), ())
    measures = public_measures(args.model_a, args.model_b, args.data, args.proxy_faces, args.seed)
    print(f"A alone, as its file reads: {score(measures, own).line()}")
    found = search(measures, {"FER2013": args.max_reads, "small tiles": args.max_small_reads})
    if not found:
        log.error("no candidate reads at most %.2f views a face direct and %.2f in small tiles",
                  args.max_reads, args.max_small_reads)
        return 1
    for scored in reversed(found[:args.top]):
        print(scored.line())
    print(f"--cascade '{found[0].cascade.to_json()}'")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
