"""A tiny emotion model file that follows the runtime's contract: a linear softmax over the
pixels, whose output a test can compute itself (``toy_weights``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from vocab.labels import EMOTIONS

GOOD_METADATA = {"labels": json.dumps(list(EMOTIONS)), "input_spec": json.dumps({"shape": ["N", 1, 48, 48]}),
                 "model_config": json.dumps({"widths": [1]}), "flip_average": "false"}


def toy_model(path: Path, in_shape: tuple = ("N", 1, 48, 48), n_out: int = 7,
              metadata: dict[str, str] | None = None, seed: int = 0) -> Path:
    """A tiny linear softmax classifier with a chosen input shape, output width, metadata and
    weights (``toy_weights(seed=seed)``)."""
    flat = int(np.prod([d for d in in_shape[1:]]))
    w = helper.make_tensor("w", TensorProto.FLOAT, (flat, n_out), toy_weights(flat, n_out, seed))
    graph = helper.make_graph(
        [helper.make_node("Flatten", ["face"], ["flat"], axis=1),
         helper.make_node("MatMul", ["flat", "w"], ["logits"]),
         helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1)],
        "toy", [helper.make_tensor_value_info("face", TensorProto.FLOAT, list(in_shape))],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [in_shape[0], n_out])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for k, v in (GOOD_METADATA if metadata is None else metadata).items():
        model.metadata_props.add(key=k, value=v)
    onnx.save(model, str(path))
    return path


def toy_weights(flat: int = 48 * 48, n_out: int = 7, seed: int = 0) -> np.ndarray:
    """``(flat, n_out)`` the toy model's weights: its logits are ``faces.reshape(n, -1) @ toy_weights()``."""
    return np.random.default_rng(seed).normal(size=(flat, n_out)).astype(np.float32) * 0.01
