"""The floor two accuracy targets put under a model's reading of the faces where FER2013 and FER+ agree."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from training.label_bound import label_groups, main, min_agreed_accuracy, model_reading

# 100 faces: the labels agree on 60, disagree on 30, and FER+ has no majority on 10.
GROUPS = (60, 30, 10)


def test_both_targets_tight_meet_where_the_disagreed_faces_just_split() -> None:
    # FER2013 needs 70 - 10 x 0.5 = 65 faces, FER+ 0.8 x 90 = 72; from the agreed ones 60p each,
    # the rest from 30 disagreed faces shared out: (65 - 60p) + (72 - 60p) <= 30 -> p >= 107/120.
    assert min_agreed_accuracy(GROUPS, 0.7, 0.8, unscored_accuracy=0.5) == pytest.approx(107 / 120)


def test_fewer_disagreed_faces_read_right_raise_the_floor() -> None:
    # (65 - 60p) + (72 - 60p) <= 27 -> p >= 110/120.
    assert min_agreed_accuracy(GROUPS, 0.7, 0.8, 0.5, disagreed_right=0.9) == pytest.approx(110 / 120)


def test_a_loose_fer2013_target_leaves_only_the_crowd_to_meet() -> None:
    # FER2013 wants 30 - 5 = 25 faces, met by the agreed ones alone; FER+ 72 - 60p <= 30 -> p >= 0.7.
    assert min_agreed_accuracy(GROUPS, 0.3, 0.8, 0.5) == pytest.approx(0.7)


def test_targets_no_model_can_meet_together_have_no_floor() -> None:
    # Even p = 1: FER+ wants 89.1 - 60 = 29.1 disagreed faces, FER2013 99 - 5 - 60 = 34 > 30.
    assert min_agreed_accuracy(GROUPS, 0.99, 0.99, 0.5) is None
    assert min_agreed_accuracy(GROUPS, 0.7, 0.8, 0.5, disagreed_right=0.3) is None  # 60 + 9 < 72


def test_model_reading_counts_each_group_by_the_label_that_scores_it() -> None:
    labels = np.array([0, 1, 2, 3, 4, 5])
    crowd = np.array([0, 1, 3, 4, -1, -1])  # agreed 0, 1; disagreed 2, 3; unscored 4, 5
    read = np.array([0, 0, 2, 4, 4, 0])
    r = model_reading(read, labels, crowd)
    assert (r.agreed, r.disagreed_fer2013, r.disagreed_ferplus, r.unscored) == (0.5, 0.5, 0.5, 0.5)
    assert r.fer2013 == pytest.approx(3 / 6) and r.ferplus == pytest.approx(2 / 4)
    assert label_groups(labels, crowd).counts == (2, 2, 2)


def test_the_tool_prints_each_splits_groups_and_the_live_files_floor(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """A made-up data file of 6 faces per test split, votes set by hand: the counts printed are the
    hand counts, and the live file's reading is followed by its floor."""
    votes_for = {0: 4, 3: 1, 6: 0}  # FER2013 class -> its FER+ column (Angry, Happy, Neutral)
    labels = np.array([0, 3, 6, 0, 3, 6] * 2 + [6], dtype=np.uint8)
    crowd = [0, 3, 6, 3, 6, None] * 2 + [6]  # per split: 3 agree, 2 disagree, 1 unscored; one Training row
    votes = np.zeros((13, 10), np.uint8)
    for row, cls in enumerate(crowd):
        votes[row, 8 if cls is None else votes_for[cls]] = 10  # None: the crowd said "unknown"
    usage = np.array([1] * 6 + [2] * 6 + [0], np.uint8)
    images = np.random.default_rng(0).integers(0, 256, (13, 48, 48), dtype=np.uint8)
    data = tmp_path / "fer.npz"
    np.savez(data, images=images, labels=labels, usage=usage, ferplus_votes=votes)
    assert main(["--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert out.count("6 faces: labels agree on 3, disagree on 2 (60.0% agreement") == 2, out
    assert "emotion_int8.onnx on public: FER2013" in out
    assert out.count("agreed faces read right") == 4
    assert main(["--data", str(tmp_path / "missing.npz")]) == 2


def test_with_no_disagreed_faces_the_agreed_ones_carry_both_targets() -> None:
    # 60 agreed + 10 unscored read at 0.5: FER2013 0.7 x 70 - 5 = 44 -> p >= 44/60; FER+ 0.8 x 60 = 48 -> 0.8.
    assert min_agreed_accuracy((60, 0, 10), 0.7, 0.8, 0.5) == pytest.approx(0.8)
