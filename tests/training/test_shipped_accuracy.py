"""The shipped model's real PrivateTest accuracy, measured through ONNX Runtime like the app runs it."""

from __future__ import annotations

from pathlib import Path

from training.evaluate import evaluate

# The floor. What the shipped file and its int8 variant measure is in models/emotion.json.
MIN_PRIVATE_ACCURACY = 0.70


def test_shipped_model_private_test_accuracy(shipped_model: Path, fer2013_npz: Path) -> None:
    result = evaluate(shipped_model, "private", fer2013_npz, progress=False)
    assert result.n == 3589  # the full split, against the original FER2013 labels
    assert result.accuracy >= MIN_PRIVATE_ACCURACY, result.table_markdown()


def test_fast_int8_variant_keeps_the_accuracy(shipped_model: Path, fer2013_npz: Path, emotion_contract) -> None:
    """``models/emotion_int8.onnx``: same contract, the same floor, at most 1 point below the float model."""
    fast = shipped_model.with_name("emotion_int8.onnx")
    assert fast.is_file(), "build it: python -m training.quantize models/emotion.onnx --out models/emotion_int8.onnx"
    emotion_contract(fast)
    float_acc = evaluate(shipped_model, "private", fer2013_npz, progress=False).accuracy
    int8_acc = evaluate(fast, "private", fer2013_npz, progress=False).accuracy
    assert int8_acc >= MIN_PRIVATE_ACCURACY and int8_acc >= float_acc - 0.01, (float_acc, int8_acc)


def test_live_variant_gives_the_float_files_answers_reading_fewer_views(shipped_model: Path,
                                                                         fer2013_npz: Path) -> None:
    """The live default reads a face's mirror and zoomed views only where it is unsure: on
    PublicTest it gives the four-view float file's top class to nearly every face for well
    under four views a face."""
    from models.emotion_classifier import INT8_MODEL_PATH, OnnxEmotionClassifier
    from training.timing import split_faces

    faces = split_faces(fer2013_npz)
    assert faces is not None
    with OnnxEmotionClassifier(shipped_model, threads=2) as full, \
            OnnxEmotionClassifier(INT8_MODEL_PATH, threads=2) as live:
        agree = (full.predict(faces).argmax(1) == live.predict(faces).argmax(1)).mean()
        assert full.views_read == 4 * len(faces)
        assert live.views_read <= 3.0 * len(faces), live.views_read / len(faces)
    assert agree >= 0.97, agree
