"""Scoring logic and report files of ``training.evaluate`` (pure numpy; no model needed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from classmood.cli import main as cli_main
from training.evaluate import Evaluation, main, write_report

LABELS = ("a", "b", "c")


def _result(y_true: list[int], y_pred: list[int]) -> Evaluation:
    return Evaluation.from_predictions(np.array(y_true), np.array(y_pred), LABELS, "private", "m.onnx", "0" * 64)


@pytest.mark.parametrize(("y_true", "y_pred", "accuracy", "recall", "precision"), [
    ([0, 1, 2], [0, 1, 2], 1.0, (1, 1, 1), (1, 1, 1)),
    ([0, 0, 1, 1], [0, 1, 1, 1], 0.75, (0.5, 1, 0), (1, 2 / 3, 0)),   # class c absent: 0, not NaN
    ([0, 0, 0, 2], [1, 1, 1, 1], 0.0, (0, 0, 0), (0, 0, 0)),
])
def test_scores(y_true: list[int], y_pred: list[int], accuracy: float, recall: tuple, precision: tuple) -> None:
    r = _result(y_true, y_pred)
    assert r.n == len(y_true) and r.accuracy == pytest.approx(accuracy)
    assert r.recall == pytest.approx(recall) and r.precision == pytest.approx(precision)
    assert np.array(r.confusion).sum() == len(y_true)


def test_confusion_rows_are_true_labels() -> None:
    assert _result([0, 0, 1], [2, 2, 1]).confusion == ((0, 0, 2), (0, 1, 0), (0, 0, 0))


def test_report_files(tmp_path: Path) -> None:
    paths = write_report(_result([0, 1, 2, 2], [0, 1, 2, 1]), tmp_path / "eval")
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = paths["markdown"].read_text()
    assert "accuracy 0.7500" in table and "| c | 2 | 0.500 | 1.000 |" in table
    assert json.loads(paths["json"].read_text())["recall"] == {"a": 1.0, "b": 1.0, "c": 0.5}


def test_missing_model_is_a_model_error_exit_code(tmp_path: Path, fer2013_npz: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """A missing model exits 4 whether eval runs as ``classmood eval`` or ``python -m training.evaluate``."""
    flags = ["--split", "public", "--data", str(fer2013_npz), "--out-dir", str(tmp_path / "eval")]
    assert main([str(tmp_path / "none.onnx"), *flags]) == 4
    assert cli_main(["eval", str(tmp_path / "none.onnx"), *flags]) == 4
    err = capsys.readouterr().err
    assert "emotion model not found" in err and err.count("\n") == 1
    assert cli_main(["eval", str(tmp_path / "none.onnx"), "--data", str(tmp_path / "no.npz")]) == 2


def test_runtime_side_never_imports_torch() -> None:
    """evaluate/classifier/timing run in the app's environment, where torch is not installed."""
    code = ("import sys, training.evaluate, training.timing, models.emotion_classifier; "
            "sys.exit('torch' in sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])
