"""The shipped model's real PrivateTest accuracy, measured through ONNX Runtime like the app runs it."""

from __future__ import annotations

from pathlib import Path

from training.evaluate import evaluate

MIN_PRIVATE_ACCURACY = 0.70


def test_shipped_model_private_test_accuracy(shipped_model: Path, fer2013_npz: Path) -> None:
    result = evaluate(shipped_model, "private", fer2013_npz, progress=False)
    assert result.n == 3589  # the full split, against the original FER2013 labels
    assert result.accuracy >= MIN_PRIVATE_ACCURACY, result.table_markdown()
