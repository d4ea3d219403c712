"""Storing the calibration temperature in an ONNX file: weights untouched, runtime applies it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from models.emotion_classifier import OnnxEmotionClassifier, SmallFaceTemperature
from training.calibrate import FIT_KEY, update_card, write_temperature
from vocab.labels import EMOTIONS


def _toy(path: Path) -> Path:
    w = helper.make_tensor("w", TensorProto.FLOAT, (48 * 48, 7),
                           np.random.default_rng(0).normal(size=48 * 48 * 7).astype(np.float32) * 0.05)
    graph = helper.make_graph(
        [helper.make_node("Flatten", ["face"], ["flat"], axis=1), helper.make_node("MatMul", ["flat", "w"], ["z"]),
         helper.make_node("Softmax", ["z"], ["probabilities"], axis=1)], "toy",
        [helper.make_tensor_value_info("face", TensorProto.FLOAT, ["N", 1, 48, 48])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 7])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for k, v in {"labels": json.dumps(list(EMOTIONS)), "input_spec": "{}", "model_config": "{}",
                 "flip_average": "false"}.items():
        model.metadata_props.add(key=k, value=v)
    onnx.save(model, str(path))
    return path


def test_write_temperature_keeps_weights_and_runtime_applies_it(tmp_path: Path) -> None:
    path = _toy(tmp_path / "emotion.onnx")
    weights = [t.SerializeToString() for t in onnx.load(str(path)).graph.initializer]
    faces = np.random.default_rng(1).random((16, 1, 48, 48), dtype=np.float32)
    with OnnxEmotionClassifier(path, threads=1) as clf:
        raw = clf.predict(faces)
    fit = {"temperature": 1.25, "split": "PublicTest"}
    sha = write_temperature(path, 1.25, fit)
    sha = write_temperature(path, 1.25, fit)  # again: replaces, does not pile up keys
    model = onnx.load(str(path))
    assert [t.SerializeToString() for t in model.graph.initializer] == weights
    meta = [p.key for p in model.metadata_props]
    assert meta.count("temperature") == 1 and meta.count(FIT_KEY) == 1 and "labels" in meta
    with OnnxEmotionClassifier(path, threads=1) as clf:
        assert clf.temperature == 1.25 and clf.sha256 == sha
        got = clf.predict(faces)
    expected = np.exp(np.log(raw) / 1.25)  # softmax(log p / T), written out here
    np.testing.assert_allclose(got, expected / expected.sum(axis=1, keepdims=True), atol=1e-6)
    assert (got.argmax(1) == raw.argmax(1)).all() and np.allclose(got.sum(1), 1, atol=1e-5)
    assert not list(tmp_path.glob("*.partial"))

    card = tmp_path / "emotion.json"
    card.write_text(json.dumps({"onnx": {"sha256": "0" * 64, "size_bytes": 1, "opset": 17}}), encoding="utf-8")
    update_card(card, path, fit)
    section = json.loads(card.read_text(encoding="utf-8"))["onnx"]
    assert section["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() == sha
    assert section["size_bytes"] == path.stat().st_size and section["calibration"] == fit and section["opset"] == 17


def test_the_small_face_rule_is_written_read_back_and_removed(tmp_path: Path) -> None:
    path = _toy(tmp_path / "emotion.onnx")
    rule = SmallFaceTemperature(below_px=50.0, power=0.55)
    write_temperature(path, 1.03, {"temperature": 1.03}, rule)
    with OnnxEmotionClassifier(path, threads=1) as clf:
        assert clf.temperature == 1.03 and clf.small_faces == rule
    write_temperature(path, 1.03, {"temperature": 1.03})  # refitted with no rule: none left behind
    with OnnxEmotionClassifier(path, threads=1) as clf:
        assert clf.small_faces is None
    assert [p.key for p in onnx.load(str(path)).metadata_props].count("temperature") == 1
