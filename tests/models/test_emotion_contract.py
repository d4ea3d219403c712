"""The shipped emotion model's contract, and how the runtime wrapper reports broken files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from toy_emotion_model import GOOD_METADATA, toy_model

from models.emotion_classifier import DEFAULT_MODEL_PATH, OnnxEmotionClassifier
from vocab.errors import ModelError
from vocab.labels import EMOTIONS


def _assert_one_line_naming(err: pytest.ExceptionInfo, path: Path, *words: str) -> None:
    msg = str(err.value)
    assert "\n" not in msg and str(path) in msg, msg
    for word in words:
        assert word in msg, msg


def test_shipped_model_follows_contract(shipped_model: Path, emotion_contract) -> None:
    emotion_contract(shipped_model)


def test_default_path_is_the_package_file() -> None:
    assert DEFAULT_MODEL_PATH == Path(__file__).resolve().parents[2] / "models" / "emotion.onnx"


def test_shipped_model_sha256_and_labels(shipped_model: Path) -> None:
    import hashlib

    with OnnxEmotionClassifier(threads=1) as clf:
        assert clf.path == shipped_model
        assert clf.sha256 == hashlib.sha256(shipped_model.read_bytes()).hexdigest()
        assert clf.labels == EMOTIONS


def test_missing_file_is_model_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.onnx"
    with pytest.raises(ModelError) as err:
        OnnxEmotionClassifier(path)
    _assert_one_line_naming(err, path, "not found", "python -m training.export")


@pytest.mark.parametrize("content", [b"", b"this is not an onnx file\n" * 50, b"\x08\x07\x12\x03abc\xff\xff\xff"],
                         ids=["empty", "text", "garbage-protobuf"])
def test_corrupt_file_is_model_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "emotion.onnx"
    path.write_bytes(content)
    with pytest.raises(ModelError) as err:
        OnnxEmotionClassifier(path)
    _assert_one_line_naming(err, path, "python -m training.export")


def test_truncated_model_is_model_error(tmp_path: Path) -> None:
    good = toy_model(tmp_path / "good.onnx").read_bytes()
    path = tmp_path / "emotion.onnx"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(ModelError) as err:
        OnnxEmotionClassifier(path)
    _assert_one_line_naming(err, path)


@pytest.mark.parametrize(("in_shape", "n_out", "metadata", "expected"), [
    (("N", 3, 48, 48), 7, None, "expected tensor(float) [N, 1, 48, 48]"),
    (("N", 1, 64, 64), 7, None, "expected tensor(float) [N, 1, 48, 48]"),
    ((1, 1, 48, 48), 7, None, "expected tensor(float) [N, 1, 48, 48]"),
    (("N", 1, 48, 48), 8, None, "expected tensor(float) [N, 7]"),
    (("N", 1, 48, 48), 7, {}, "lacks metadata"),
    (("N", 1, 48, 48), 7, {**GOOD_METADATA, "labels": '["a","b","c","d","e","f","g"]'}, "has labels"),
    (("N", 1, 48, 48), 7, {**GOOD_METADATA, "labels": "not json"}, "unreadable metadata"),
    (("N", 1, 48, 48), 7, {**GOOD_METADATA, "flip_average": "maybe"}, "flip_average"),
    (("N", 1, 48, 48), 7, {**GOOD_METADATA, "temperature": "warm"}, "temperature"),
    (("N", 1, 48, 48), 7, {**GOOD_METADATA, "temperature": "0"}, "temperature"),
    (("N", 1, 48, 48), 7, {**GOOD_METADATA, "temperature": "nan"}, "temperature"),
], ids=["3-channel", "64px", "fixed-batch", "8-classes", "no-metadata", "wrong-labels", "bad-json", "bad-flag",
        "temperature-text", "temperature-zero", "temperature-nan"])
def test_wrong_contract_is_model_error(tmp_path: Path, in_shape: tuple, n_out: int,
                                       metadata: dict | None, expected: str) -> None:
    path = toy_model(tmp_path / "emotion.onnx", in_shape, n_out, metadata)
    with pytest.raises(ModelError) as err:
        OnnxEmotionClassifier(path)
    _assert_one_line_naming(err, path, expected)


def test_toy_model_predicts_any_batch_and_closes(tmp_path: Path) -> None:
    clf = OnnxEmotionClassifier(toy_model(tmp_path / "emotion.onnx"), threads=1)
    assert clf.flip_average is False and clf.model_config == {"widths": [1]}
    for n in (0, 1, 49):
        probs = clf.predict(np.full((n, 1, 48, 48), 0.5, dtype=np.float32))
        assert probs.shape == (n, 7) and probs.dtype == np.float32
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match=r"\(n, 1, 48, 48\)"):
        clf.predict(np.zeros((2, 48, 48), dtype=np.float32))
    clf.close()
    clf.close()
    with pytest.raises(ModelError, match="closed"):
        clf.predict(np.zeros((1, 1, 48, 48), dtype=np.float32))


@pytest.mark.parametrize("temperature", [0.5, 1.07, 2.0])
def test_stored_temperature_is_applied(tmp_path: Path, temperature: float) -> None:
    """A file with ``temperature`` metadata returns softmax(log p / T) of the graph's output:
    rows still sum to 1, the top class is unchanged, and a file without it is untouched."""
    plain = toy_model(tmp_path / "plain.onnx")
    tempered = toy_model(tmp_path / "tempered.onnx", metadata={**GOOD_METADATA, "temperature": str(temperature)})
    faces = np.random.default_rng(4).random((32, 1, 48, 48), dtype=np.float32) * 40  # spread-out logits
    with OnnxEmotionClassifier(plain, threads=1) as a, OnnxEmotionClassifier(tempered, threads=1) as b:
        assert a.temperature == 1.0 and b.temperature == temperature
        raw, got = a.predict(faces), b.predict(faces)
    expected = np.exp(np.log(raw) / temperature)  # softmax(log p / T), written out here
    np.testing.assert_allclose(got, expected / expected.sum(axis=1, keepdims=True), atol=1e-6)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-5)
    assert (got.argmax(axis=1) == raw.argmax(axis=1)).all()
    assert np.abs(got - raw).max() > 1e-3  # the temperature did something
    assert (got.max(axis=1) < raw.max(axis=1)).all() == (temperature > 1)


def test_small_faces_are_read_less_surely_when_the_file_says_so(tmp_path: Path) -> None:
    """With ``small_face_temperature`` {below 50 px, power 1}, a face 25 px wide gets twice the
    file's temperature; faces 50 px and wider, and calls that give no widths, get the file's."""
    meta = {**GOOD_METADATA, "temperature": "1.2", "small_face_temperature": json.dumps({"below_px": 50, "power": 1})}
    path = toy_model(tmp_path / "small.onnx", metadata=meta)
    plain = toy_model(tmp_path / "plain.onnx")
    faces = np.random.default_rng(4).random((4, 1, 48, 48), dtype=np.float32) * 40
    with OnnxEmotionClassifier(plain, threads=1) as a, OnnxEmotionClassifier(path, threads=1) as b:
        raw = a.predict(faces)
        got = b.predict(faces, np.array([25.0, 50.0, 120.0, 10.0]))
        no_widths = b.predict(faces)
        with pytest.raises(ValueError, match="face_px"):
            b.predict(faces, np.ones(3))

    def tempered(p: np.ndarray, t: float) -> np.ndarray:  # softmax(log p / T), written out here
        e = np.exp(np.log(p) / t)
        return e / e.sum()

    for row, t in ((0, 2.4), (1, 1.2), (2, 1.2), (3, 6.0)):
        np.testing.assert_allclose(got[row], tempered(raw[row], t), atol=1e-6)
        np.testing.assert_allclose(no_widths[row], tempered(raw[row], 1.2), atol=1e-6)
    assert (got.argmax(axis=1) == raw.argmax(axis=1)).all()
    assert got[0].max() < no_widths[0].max() and got[3].max() < got[0].max()


@pytest.mark.parametrize("rule", ['{"below_px": 50}', '{"below_px": -3, "power": 1}', '{"below_px": 50, "power": NaN}',
                                  "fifty", '{"below_px": "x", "power": 1}'])
def test_a_broken_small_face_rule_is_one_line(tmp_path: Path, rule: str) -> None:
    path = toy_model(tmp_path / "emotion.onnx", metadata={**GOOD_METADATA, "small_face_temperature": rule})
    with pytest.raises(ModelError) as err:
        OnnxEmotionClassifier(path, threads=1)
    _assert_one_line_naming(err, path, "small_face_temperature")
