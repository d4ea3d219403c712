"""FER2013 (+ FER+ votes) loading, cleaning and training targets.

Rules (see ``../shared/data/fer2013/README.md``): train on Usage=Training, choose checkpoints
on PublicTest, report PrivateTest once. Cleaning touches Training only: blank images and exact
copies of any test image are dropped so the test splits measure generalisation, not memory.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.preprocessing import face_tensor
from training.metrics import CONTEMPT_COLUMN, FERPLUS_COLUMN_OF_CLASS, NOT_FACE_COLUMN, UNKNOWN_COLUMN
from vocab.labels import EMOTIONS

log = logging.getLogger(__name__)

# The shared data folder sits next to the repository; CLASSMOOD_SHARED points elsewhere.
SHARED_DIR = Path(os.environ.get("CLASSMOOD_SHARED") or Path(__file__).resolve().parents[2] / "shared")
DEFAULT_DATA = SHARED_DIR / "data" / "fer2013" / "fer2013.npz"
SPLITS = {"train": 0, "public": 1, "private": 2}
BLANK_STD_GREY = 2.0


def load_test_split(data: Path, split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every row of a test split: images ``(n, 48, 48)``, FER2013 labels, FER+ votes ``(n, 10)``."""
    d = np.load(data)
    rows = np.flatnonzero(d["usage"] == SPLITS[split])
    return d["images"][rows], d["labels"][rows].astype(np.int64), d["ferplus_votes"][rows]


@dataclass(frozen=True)
class Split:
    """One split: images ``(n, 48, 48)`` uint8, FER2013 labels ``(n,)`` and the raw FER+ votes
    ``(n, 10)`` (training targets are built from them by ``ferplus_targets``)."""

    images: np.ndarray
    labels: np.ndarray
    votes: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def tensor(self) -> np.ndarray:
        """Model input ``(n, 1, 48, 48)`` float32 through the shared preprocessing."""
        return face_tensor(self.images)


@dataclass(frozen=True)
class CleaningReport:
    blank_dropped: int
    test_duplicates_dropped: int
    not_face_dropped: int = 0


def sha256_of_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()




def not_face_rows(votes: np.ndarray) -> np.ndarray:
    """``(n,)`` bool: rows whose FER+ majority (more than any other column) is "not a face"."""
    others = np.delete(votes, NOT_FACE_COLUMN, axis=1).max(axis=1)
    return votes[:, NOT_FACE_COLUMN].astype(np.int64) > others


def contempt_label_distribution(votes: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``(7,)``: the FER2013 labels of faces whose FER+ majority is contempt, as a distribution.

    FER2013 has no contempt class; this is how its own labellers filed such faces, so contempt
    votes can be turned into FER2013 classes without guessing. Uniform when no row qualifies.
    """
    others = np.delete(votes, CONTEMPT_COLUMN, axis=1).max(axis=1)
    rows = votes[:, CONTEMPT_COLUMN].astype(np.int64) > others
    counts = np.bincount(labels[rows], minlength=len(EMOTIONS)).astype(np.float32)
    return counts / counts.sum() if counts.sum() > 0 else np.full(len(EMOTIONS), 1 / len(EMOTIONS), np.float32)


def ferplus_targets(votes: np.ndarray, labels: np.ndarray, unknown: str = "drop", contempt: str = "drop",
                    contempt_dist: np.ndarray | None = None) -> np.ndarray:
    """FER+ votes as ``(n, 7)`` distributions, with a choice for the votes FER2013 has no class for.

    Args:
        votes: ``(n, 10)`` FER+ vote counts (file order); labels: ``(n,)`` FER2013 labels.
        unknown: "drop" leaves "unknown" votes out; "uniform" spreads each evenly over the 7
            classes (the annotator could not tell, and the target says so).
        contempt: "drop" leaves contempt votes out; "fer2013" spreads each as ``contempt_dist``
            (``contempt_label_distribution`` of the training rows).

    Not-a-face votes are always left out. A row with no usable vote falls back to its FER2013
    one-hot label.
    """
    mass = votes[:, list(FERPLUS_COLUMN_OF_CLASS)].astype(np.float32)
    if unknown == "uniform":
        mass += votes[:, [UNKNOWN_COLUMN]].astype(np.float32) / len(EMOTIONS)
    elif unknown != "drop":
        raise ValueError(f"unknown must be 'drop' or 'uniform', got {unknown!r}")
    if contempt == "fer2013":
        if contempt_dist is None:
            raise ValueError("contempt='fer2013' needs contempt_dist")
        mass += votes[:, [CONTEMPT_COLUMN]].astype(np.float32) * np.asarray(contempt_dist, np.float32)[None, :]
    elif contempt != "drop":
        raise ValueError(f"contempt must be 'drop' or 'fer2013', got {contempt!r}")
    total = mass.sum(axis=1, keepdims=True)
    onehot = np.eye(len(EMOTIONS), dtype=np.float32)[labels]
    return np.where(total > 0, mass / np.maximum(total, 1e-6), onehot)


def load_splits(npz_path: Path, max_per_split: int | None = None,
                drop_not_face: bool = False) -> tuple[dict[str, Split], CleaningReport]:
    """Read the npz and return ``{"train", "public", "private"}`` splits, Training cleaned.

    ``drop_not_face`` also drops Training rows whose FER+ majority is "not a face"
    (``CleaningReport.not_face_dropped``); test splits are never touched.
    """
    if not npz_path.is_file():
        raise FileNotFoundError(f"FER2013 data not found at {npz_path} (see training/README.md)")
    d = np.load(npz_path)
    images, labels, usage, votes = d["images"], d["labels"].astype(np.int64), d["usage"], d["ferplus_votes"]

    test_hashes = {hashlib.blake2b(images[i].tobytes(), digest_size=16).digest()
                   for i in np.flatnonzero(usage != SPLITS["train"])}
    keep = np.ones(len(labels), dtype=bool)
    train_rows = np.flatnonzero(usage == SPLITS["train"])
    blank = train_rows[images[train_rows].reshape(len(train_rows), -1).std(axis=1) < BLANK_STD_GREY]
    dup = np.array([i for i in train_rows
                    if hashlib.blake2b(images[i].tobytes(), digest_size=16).digest() in test_hashes],
                   dtype=np.int64)
    keep[blank] = False
    keep[dup] = False
    not_face = np.zeros(0, np.int64)
    if drop_not_face:
        not_face = train_rows[not_face_rows(votes[train_rows]) & keep[train_rows]]
        keep[not_face] = False
    report = CleaningReport(blank_dropped=len(blank), test_duplicates_dropped=len(dup),
                            not_face_dropped=len(not_face))
    splits = {}
    for name, code in SPLITS.items():
        rows = np.flatnonzero((usage == code) & keep)
        if max_per_split is not None:
            rows = rows[:max_per_split]
        splits[name] = Split(images[rows], labels[rows], votes[rows])
    log.info("FER2013: %s; dropped from Training: %d blank, %d copies of test images, %d not faces (FER+)",
             {k: len(v) for k, v in splits.items()}, report.blank_dropped, report.test_duplicates_dropped,
             report.not_face_dropped)
    return splits, report
