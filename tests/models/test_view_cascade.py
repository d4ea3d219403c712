"""The view cascade: extra views of a face are read only where the views so far are unsure, and
each face's answer is the average of exactly the views it was read with."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from toy_emotion_model import GOOD_METADATA, toy_model, toy_weights

from models.emotion_classifier import OnnxEmotionClassifier
from models.view_cascade import ViewCascade, mirrored, zoomed
from vocab.errors import ModelError


def _faces(n: int, seed: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 1, 48, 48), dtype=np.float32)


def test_the_zoomed_view_is_the_centre_enlarged_as_opencv_does_it() -> None:
    faces = _faces(5)
    for face, got in zip(faces, zoomed(faces), strict=True):
        want = cv2.resize(face[0, 2:46, 2:46], (48, 48), interpolation=cv2.INTER_LINEAR)
        np.testing.assert_allclose(got[0], want, atol=1e-5)
    np.testing.assert_array_equal(mirrored(faces)[:, 0, :, 0], faces[:, 0, :, 47])


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_each_face_is_read_with_the_views_its_doubt_calls_for(tmp_path: Path) -> None:
    """Logits of each view worked out here from the toy model's weights; thresholds at the
    medians, so some faces stop at one view, some at two and some take all four."""
    faces = _faces(60) * 30  # spread-out logits
    w = toy_weights()

    def logits(x: np.ndarray) -> np.ndarray:
        return x.reshape(len(x), -1) @ w

    z = zoomed(faces)
    one, two = logits(faces), (logits(faces) + logits(faces[..., ::-1])) / 2
    four = (2 * two + logits(z) + logits(z[..., ::-1])) / 4
    sure1, sure2 = _softmax(one).max(1), _softmax(two).max(1)
    a = float(np.median(sure1))
    b = float(np.median(sure2[sure1 < a]))
    path = toy_model(tmp_path / "cascade.onnx",
                     metadata={**GOOD_METADATA, "view_cascade": json.dumps({"mirror_below": a, "zoom_below": b})})
    with OnnxEmotionClassifier(path, threads=1) as clf:
        assert clf.view_cascade == ViewCascade.of_views(a, b)
        got = clf.predict(faces)
        expect_views = np.where(sure1 >= a, 1, np.where(sure2 >= b, 2, 4))
        assert clf.faces_read == 60 and clf.views_read == expect_views.sum()
    assert {1, 2, 4} == set(expect_views.tolist())
    want = np.where((expect_views == 1)[:, None], _softmax(one),
                    np.where((expect_views == 2)[:, None], _softmax(two), _softmax(four)))
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_thresholds_of_zero_read_one_view_and_of_one_read_all_four(tmp_path: Path) -> None:
    faces = _faces(8)
    w = toy_weights()
    z = zoomed(faces)
    views = [faces, faces[..., ::-1], z, z[..., ::-1]]
    four = _softmax(sum(v.reshape(8, -1) @ w for v in views) / 4)
    for (a, b), want, per_face in (((0.0, 0.0), _softmax(faces.reshape(8, -1) @ w), 1), ((1.0, 1.0), four, 4)):
        path = toy_model(tmp_path / f"c{a}.onnx",
                         metadata={**GOOD_METADATA, "view_cascade": json.dumps({"mirror_below": a, "zoom_below": b})})
        with OnnxEmotionClassifier(path, threads=1) as clf:
            np.testing.assert_allclose(clf.predict(faces), want, atol=1e-5)
            assert clf.views_read == 8 * per_face
            assert clf.predict(np.zeros((0, 1, 48, 48), np.float32)).shape == (0, 7)


@pytest.mark.parametrize("text", ['{"mirror_below": 0.8}', '{"mirror_below": 1.5, "zoom_below": 0.6}',
                                  '{"mirror_below": NaN, "zoom_below": 0.6}', "often",
                                  '{"stages": [[[2, "face"]]], "below": []}',
                                  '{"stages": [[[0, "face"]], [[0, "nose"]]], "below": [0.5]}',
                                  '{"stages": [[[0, "face"]], [[0, "mirror"]]], "below": []}',
                                  '{"stages": [[[0, "face"]], []], "below": [0.5]}'])
def test_a_broken_cascade_is_one_line(tmp_path: Path, text: str) -> None:
    path = toy_model(tmp_path / "emotion.onnx", metadata={**GOOD_METADATA, "view_cascade": text})
    with pytest.raises(ModelError) as err:
        OnnxEmotionClassifier(path, threads=1)
    assert "\n" not in str(err.value) and "view_cascade" in str(err.value) and str(path) in str(err.value)


def test_a_cascade_on_a_graph_that_averages_its_own_views_is_refused(tmp_path: Path) -> None:
    cascade = json.dumps({"mirror_below": 0.8, "zoom_below": 0.6})
    meta = {**GOOD_METADATA, "flip_average": "true", "view_cascade": cascade}
    with pytest.raises(ModelError, match="averages its own views"):
        OnnxEmotionClassifier(toy_model(tmp_path / "emotion.onnx", metadata=meta), threads=1)
