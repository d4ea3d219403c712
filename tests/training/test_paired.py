"""Two model files compared face by face: which faces differ, and whether that is beyond chance."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from training.paired import main, mcnemar_exact, paired_accuracy


def test_mcnemar_matches_the_binomial_worked_by_hand() -> None:
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(5, 0) == pytest.approx(2 / 32)  # 5 faces, all one way: 2 x (1/2)^5
    assert mcnemar_exact(3, 1) == pytest.approx(2 * (1 + 4) / 16)  # P(X <= 1) of Binomial(4, 1/2), both tails
    assert mcnemar_exact(1, 3) == mcnemar_exact(3, 1)
    assert mcnemar_exact(10, 10) == 1.0


def test_mcnemar_handles_thousands_of_differing_faces() -> None:
    assert 0.0 < mcnemar_exact(1600, 1400) < 0.001  # 2**3000 overflows a float; the test does not
    assert mcnemar_exact(1505, 1495) > 0.8


def test_paired_accuracy_counts_the_faces_only_one_file_reads_right() -> None:
    labels = np.array([0, 1, 2, 3, 4])
    a = np.array([0, 1, 2, 0, 0])  # right on faces 0, 1, 2
    b = np.array([0, 0, 0, 3, 0])  # right on faces 0, 3
    r = paired_accuracy("toy", a, b, labels)
    assert (r.faces, r.right_a, r.right_b, r.only_a, r.only_b) == (5, 3, 2, 2, 1)
    assert r.p_value == 1.0 and r.better is None  # 2 faces against 1 is a coin's work
    assert r.same_top == 2  # faces 0 and 4: both read class 0


def test_a_file_right_on_many_more_faces_is_called_better() -> None:
    labels = np.zeros(40, int)
    a = np.zeros(40, int)
    b = np.where(np.arange(40) < 12, 1, 0)  # wrong on 12 faces A reads right
    r = paired_accuracy("toy", a, b, labels)
    assert r.better == "A" and r.p_value == pytest.approx(2 / 2**12)
    assert "A better" in r.line()


def test_files_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="same faces"):
        paired_accuracy("toy", np.zeros(3, int), np.zeros(4, int), np.zeros(3, int))


def test_the_shipped_files_compare_at_their_card_accuracies(shipped_model: Path, fer2013_npz: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """The float and int8 files on PublicTest: each file's FER2013 figure is the one the model card
    measured for it with training.evaluate, and the proxies are read for both on the same faces."""
    fast = shipped_model.with_name("emotion_int8.onnx")
    card = json.loads(shipped_model.with_suffix(".json").read_text(encoding="utf-8"))
    assert main([str(shipped_model), str(fast), "--data", str(fer2013_npz), "--proxy-faces", "60"]) == 0
    lines = {line.split(":")[0]: line for line in capsys.readouterr().out.splitlines()}
    fer = lines["FER2013"]
    assert f"A {card['evaluation']['public_test_accuracy']:.2%}" in fer, fer
    assert f"B {card['fast_variant_int8']['public_test_accuracy']:.2%}" in fer, fer
    assert "of 3589 faces" in fer
    for measure in ("FER+ majority", "proxy", "small tiles"):
        assert "McNemar p = " in lines[measure], lines


def test_a_missing_file_is_one_line(tmp_path: Path, fer2013_npz: Path, shipped_model: Path,
                                    caplog: pytest.LogCaptureFixture) -> None:
    assert main([str(tmp_path / "none.onnx"), str(shipped_model), "--data", str(fer2013_npz)]) == 2
    assert "no file at" in caplog.text
