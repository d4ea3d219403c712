"""Packing the training data for a machine that cannot read ../shared, and unpacking it there."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from training import pack
from training.data import load_splits


def test_pack_and_unpack_keep_every_pixel_label_and_vote(fer2013_npz: Path, tmp_path: Path) -> None:
    written = pack.pack(fer2013_npz, tmp_path / "packed", max_per_split=300)
    rebuilt = pack.unpack(tmp_path / "packed", tmp_path / "fer.npz")
    source, _ = load_splits(fer2013_npz, 300, drop_not_face=True)
    again, report = load_splits(rebuilt, drop_not_face=True)
    for split in ("train", "public"):
        assert np.array_equal(again[split].images, source[split].images)
        assert np.array_equal(again[split].labels, source[split].labels)
        assert np.array_equal(again[split].votes, source[split].votes)
    assert len(again["private"]) == 0  # PrivateTest stays behind
    assert report.test_duplicates_dropped == 0 and report.not_face_dropped == 0  # cleaned before packing
    assert written < 0.8 * 600 * 48 * 48  # smaller than the raw pixels


def test_unpack_of_a_folder_without_faces_says_so(tmp_path: Path) -> None:
    np.savez(tmp_path / "rows.npz", labels=np.zeros(1, np.uint8))
    with pytest.raises(FileNotFoundError, match="training.pack"):
        pack.unpack(tmp_path, tmp_path / "x.npz")
