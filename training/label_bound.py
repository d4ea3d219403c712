"""What the two accuracy targets of issue 14 ask of one model together, given how its labels disagree.

FER2013's own label and the FER+ crowd's majority (``training.metrics.ferplus_majority``) agree
on about two faces in three. Where they disagree, one answer is right by at most one of them, so
a FER2013 target and a FER+ target set together put a floor under the accuracy a model needs on
the faces where both labels agree. This script prints that floor beside what a model file reads.

Faces of a split fall in three groups (counts ``agreed``, ``disagreed``, ``unscored``; FER+
scores only the first two, FER2013 all three). A model reads right ``p`` of the agreed faces,
``q1`` of the disagreed ones by FER2013's label and ``q2`` by the crowd's (``q1 + q2 <= 1``),
and ``u`` of the unscored ones. The targets ask::

    FER2013:  agreed p + disagreed q1 + unscored u >= fer2013_target * all faces
    FER+:     agreed p + disagreed q2              >= ferplus_target * (agreed + disagreed)

``min_agreed_accuracy`` is the least ``p`` for which some split of the disagreed faces meets
both, given ``u`` and how many disagreed faces the model reads right by either label at all.

    python -m training.label_bound                       # labels of both test splits + the live file on PublicTest
    python -m training.label_bound --model M.onnx --split private
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.emotion_classifier import INT8_MODEL_PATH, OnnxEmotionClassifier
from training.data import DEFAULT_DATA, face_tensor, load_test_split
from training.evaluate import predict_classes
from training.metrics import ferplus_majority
from training.paired import inputs_present

__all__ = ["LabelGroups", "ModelReading", "label_groups", "main", "min_agreed_accuracy", "model_reading"]

ISSUE_FER2013_TARGET = 0.735
ISSUE_FERPLUS_TARGET = 0.82


@dataclass(frozen=True)
class LabelGroups:
    """A split's faces by how its two labels relate: masks ``(n,)`` of faces whose FER2013 label
    and FER+ majority agree, disagree, or that have no FER+ majority to score."""

    agreed: np.ndarray
    disagreed: np.ndarray
    unscored: np.ndarray

    @property
    def counts(self) -> tuple[int, int, int]:
        """``(agreed, disagreed, unscored)`` face counts."""
        return int(self.agreed.sum()), int(self.disagreed.sum()), int(self.unscored.sum())

    def line(self) -> str:
        a, d, u = self.counts
        return (f"{a + d + u} faces: labels agree on {a}, disagree on {d} ({a / max(a + d, 1):.1%} agreement "
                f"where FER+ has a majority), no FER+ majority on {u}")


def label_groups(labels: np.ndarray, majority: np.ndarray) -> LabelGroups:
    """Group faces by FER2013 ``labels`` ``(n,)`` against the FER+ ``majority`` ``(n,)`` (-1: none)."""
    labels, majority = np.asarray(labels), np.asarray(majority)
    if labels.shape != majority.shape:
        raise ValueError(f"labels {labels.shape} and majority {majority.shape} must describe the same faces")
    scored = majority >= 0
    return LabelGroups(agreed=scored & (labels == majority), disagreed=scored & (labels != majority),
                       unscored=~scored)


@dataclass(frozen=True)
class ModelReading:
    """How a model's top classes fall on a split's groups: ``agreed`` = p, ``disagreed_fer2013`` =
    q1, ``disagreed_ferplus`` = q2, ``unscored`` = u of the module notes, and both accuracies."""

    agreed: float
    disagreed_fer2013: float
    disagreed_ferplus: float
    unscored: float
    fer2013: float
    ferplus: float


def _share(hit: np.ndarray, mask: np.ndarray) -> float:
    return float(hit[mask].mean()) if mask.any() else float("nan")


def model_reading(predicted: np.ndarray, labels: np.ndarray, majority: np.ndarray) -> ModelReading:
    """The groups' shares of ``predicted`` ``(n,)`` top classes that each label calls right."""
    g = label_groups(labels, majority)
    by_fer2013, by_crowd = predicted == labels, predicted == majority
    scored = ~g.unscored
    return ModelReading(agreed=_share(by_fer2013, g.agreed), disagreed_fer2013=_share(by_fer2013, g.disagreed),
                        disagreed_ferplus=_share(by_crowd, g.disagreed), unscored=_share(by_fer2013, g.unscored),
                        fer2013=float(by_fer2013.mean()), ferplus=_share(by_crowd, scored))


def min_agreed_accuracy(groups: tuple[int, int, int], fer2013_target: float, ferplus_target: float,
                        unscored_accuracy: float, disagreed_right: float = 1.0) -> float | None:
    """Least share ``p`` of agreed faces a model must read right for both targets to be met, or
    ``None`` when none will do (``groups`` = ``(agreed, disagreed, unscored)`` counts).

    ``disagreed_right`` bounds ``q1 + q2``: the share of disagreed faces read right by either
    label (1 at best). The disagreed faces are split between the labels as the targets need; the
    need falls as ``p`` rises, so the least ``p`` is where the two needs just fit.
    """
    agreed, disagreed, unscored = groups
    if agreed <= 0:
        raise ValueError("no faces on which the labels agree")
    fer2013_need = fer2013_target * (agreed + disagreed + unscored) - unscored * unscored_accuracy
    ferplus_need = ferplus_target * (agreed + disagreed)

    def fits(p: float) -> bool:
        short = (max(0.0, fer2013_need - agreed * p), max(0.0, ferplus_need - agreed * p))  # faces
        if not disagreed:
            return max(short) <= 1e-9
        q1, q2 = (s / disagreed for s in short)
        return q1 <= 1.0 and q2 <= 1.0 and q1 + q2 <= disagreed_right + 1e-12

    if not fits(1.0):
        return None
    low, high = 0.0, 1.0
    if fits(low):
        return low
    for _ in range(60):  # bisection: fits() is monotone in p; 60 halvings is far below a face
        mid = (low + high) / 2
        low, high = (low, mid) if fits(mid) else (mid, high)
    return high


def _floor_line(groups: LabelGroups, fer2013_target: float, ferplus_target: float, u: float, s: float,
                what: str) -> str:
    p = min_agreed_accuracy(groups.counts, fer2013_target, ferplus_target, u, s)
    floor = "no share will do" if p is None else f"at least {p:.1%}"
    return f"  agreed faces read right, {what}: {floor}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.label_bound", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", type=Path, default=INT8_MODEL_PATH, help="ONNX file to read (default: the live file)")
    p.add_argument("--split", choices=("public", "private"), default="public",
                   help="split the model reads; PrivateTest only for a choice already made")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="fer2013.npz")
    p.add_argument("--fer2013-target", type=float, default=ISSUE_FER2013_TARGET)
    p.add_argument("--ferplus-target", type=float, default=ISSUE_FERPLUS_TARGET)
    args = p.parse_args(argv)
    if not inputs_present(args.model, args.data):
        return 2
    a, b = args.fer2013_target, args.ferplus_target
    print(f"targets: FER2013 {a:.1%}, FER+ majority {b:.1%}")
    split_faces = {}
    for split in ("public", "private"):
        images, labels, votes = load_test_split(args.data, split)
        majority = ferplus_majority(votes)
        groups = label_groups(labels, majority)
        split_faces[split] = (images, labels, majority, groups)
        print(f"{split}: {groups.line()}")
        print(_floor_line(groups, a, b, 1.0, 1.0, "a model right on every unscored face and every disagreed one"))
    images, labels, majority, groups = split_faces[args.split]
    with OnnxEmotionClassifier(args.model, threads=2) as clf:
        predicted = predict_classes(clf, face_tensor(images), progress=False)
    r = model_reading(predicted, labels, majority)
    print(f"{args.model.name} on {args.split}: FER2013 {r.fer2013:.2%}, FER+ majority {r.ferplus:.2%}; "
          f"agreed faces {r.agreed:.1%} right, disagreed {r.disagreed_fer2013:.1%} by FER2013 + "
          f"{r.disagreed_ferplus:.1%} by FER+, unscored {r.unscored:.1%}")
    either = r.disagreed_fer2013 + r.disagreed_ferplus
    print(_floor_line(groups, a, b, r.unscored, 1.0, "with its unscored faces, every disagreed one right"))
    print(_floor_line(groups, a, b, r.unscored, either, f"with its unscored faces and {either:.1%} of disagreed"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
