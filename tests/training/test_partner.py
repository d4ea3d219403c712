"""``training.partner``: one file with two networks, read by the runtime's cascade where a face is
unsure, and by any other tool as its first network alone."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from toy_emotion_model import GOOD_METADATA, toy_model, toy_weights

from models.emotion_classifier import OnnxEmotionClassifier
from models.ort_session import ort, session_options
from models.view_cascade import Read, ViewCascade
from training.partner import main, write_joined
from vocab.errors import ModelError

ONE_VIEW = {**GOOD_METADATA, "temperature": "1.0", "training": json.dumps({"checkpoint_sha256": "ab" * 32})}


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _faces(n: int) -> np.ndarray:
    return np.random.default_rng(5).random((n, 1, 48, 48), dtype=np.float32) * 30  # spread-out logits


def _pair(tmp_path: Path) -> tuple[Path, Path]:
    return (toy_model(tmp_path / "a.onnx", metadata=ONE_VIEW, seed=0),
            toy_model(tmp_path / "b.onnx", metadata=ONE_VIEW, seed=1))


def test_unsure_faces_are_read_by_the_partner_too(tmp_path: Path) -> None:
    faces = _faces(40)
    wa, wb = toy_weights(seed=0), toy_weights(seed=1)
    a_face = faces.reshape(40, -1) @ wa
    b_face, b_mirror = faces.reshape(40, -1) @ wb, faces[..., ::-1].reshape(40, -1) @ wb
    sure = _softmax(a_face).max(axis=1)
    t = float(np.median(sure))
    cascade = ViewCascade(((Read(0, "face"),), (Read(1, "face"), Read(1, "mirror"))), (t,))
    out = write_joined(*_pair(tmp_path), cascade, tmp_path / "joined.onnx", faces[:8])
    with OnnxEmotionClassifier(out, threads=1) as clf:
        got = clf.predict(faces)
        assert clf.views_read == 40 + 2 * int((sure < t).sum())
    want = np.where((sure >= t)[:, None], _softmax(a_face), _softmax((a_face + b_face + b_mirror) / 3))
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert 0 < (sure < t).sum() < 40
    # A tool that feeds only the face (the runtime's contract) reads network A alone.
    session = ort.InferenceSession(str(out), session_options(1), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["face"] and len(session.get_outputs()) == 1
    np.testing.assert_allclose(session.run(None, {"face": faces})[0], _softmax(a_face), atol=1e-5)
    partner = json.loads(OnnxEmotionClassifier(out, threads=1).metadata["partner"])
    assert partner["model_config"] == {"widths": [1]} and len(partner["file_sha256"]) == 64
    assert partner["training"] == {"checkpoint_sha256": "ab" * 32}  # where the partner came from


def test_a_cascade_that_reads_a_partner_the_file_lacks_is_one_line(tmp_path: Path) -> None:
    cascade = ViewCascade(((Read(0, "face"),), (Read(1, "face"),)), (0.7,))
    path = toy_model(tmp_path / "emotion.onnx", metadata={**ONE_VIEW, "view_cascade": cascade.to_json()})
    with pytest.raises(ModelError) as err:
        OnnxEmotionClassifier(path, threads=1)
    assert "\n" not in str(err.value) and "partner" in str(err.value) and str(path) in str(err.value)


def test_graphs_that_average_views_are_not_joined(tmp_path: Path, fer2013_npz: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    a, _ = _pair(tmp_path)
    b = toy_model(tmp_path / "four.onnx", metadata={**ONE_VIEW, "flip_average": "true"}, seed=1)
    cascade = '{"stages": [[[0, "face"]], [[1, "face"]]], "below": [0.7]}'
    assert main([str(a), str(b), "--cascade", cascade, "--out", str(tmp_path / "j.onnx"),
                 "--data", str(fer2013_npz)]) == 1
    assert "averages views" in caplog.text and not (tmp_path / "j.onnx").exists()
