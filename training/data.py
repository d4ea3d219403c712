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
from vocab.labels import EMOTIONS

log = logging.getLogger(__name__)

# The shared data folder sits next to the repository; CLASSMOOD_SHARED points elsewhere.
SHARED_DIR = Path(os.environ.get("CLASSMOOD_SHARED") or Path(__file__).resolve().parents[2] / "shared")
DEFAULT_DATA = SHARED_DIR / "data" / "fer2013" / "fer2013.npz"
SPLITS = {"train": 0, "public": 1, "private": 2}
# FER+ vote columns: neutral, happiness, surprise, sadness, anger, disgust, fear, contempt,
# unknown, not-a-face. Index of each FER2013 class (Angry..Neutral) in that order:
_FERPLUS_COLUMN_OF_CLASS = (4, 5, 6, 1, 3, 2, 0)
BLANK_STD_GREY = 2.0


@dataclass(frozen=True)
class Split:
    """One split: images ``(n, 48, 48)`` uint8, FER2013 labels ``(n,)``, soft targets ``(n, 7)``."""

    images: np.ndarray
    labels: np.ndarray
    ferplus: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def tensor(self) -> np.ndarray:
        """Model input ``(n, 1, 48, 48)`` float32 through the shared preprocessing."""
        return face_tensor(self.images)


@dataclass(frozen=True)
class CleaningReport:
    blank_dropped: int
    test_duplicates_dropped: int


def sha256_of_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def ferplus_distribution(votes: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """FER+ votes as a ``(n, 7)`` distribution over the FER2013 classes.

    Contempt, unknown and not-a-face votes have no FER2013 class and are left out; a row with
    no usable vote falls back to its FER2013 one-hot label.
    """
    mapped = votes[:, list(_FERPLUS_COLUMN_OF_CLASS)].astype(np.float32)
    total = mapped.sum(axis=1, keepdims=True)
    onehot = np.eye(len(EMOTIONS), dtype=np.float32)[labels]
    return np.where(total > 0, mapped / np.maximum(total, 1), onehot)


def load_splits(npz_path: Path, max_per_split: int | None = None) -> tuple[dict[str, Split], CleaningReport]:
    """Read the npz and return ``{"train", "public", "private"}`` splits, Training cleaned."""
    if not npz_path.is_file():
        raise FileNotFoundError(f"FER2013 data not found at {npz_path} (see training/README.md)")
    d = np.load(npz_path)
    images, labels, usage = d["images"], d["labels"].astype(np.int64), d["usage"]
    soft = ferplus_distribution(d["ferplus_votes"], labels)

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
    report = CleaningReport(blank_dropped=len(blank), test_duplicates_dropped=len(dup))
    splits = {}
    for name, code in SPLITS.items():
        rows = np.flatnonzero((usage == code) & keep)
        if max_per_split is not None:
            rows = rows[:max_per_split]
        splits[name] = Split(images[rows], labels[rows], soft[rows])
    log.info("FER2013: %s; dropped from Training: %d blank, %d copies of test images",
             {k: len(v) for k, v in splits.items()}, report.blank_dropped, report.test_duplicates_dropped)
    return splits, report
