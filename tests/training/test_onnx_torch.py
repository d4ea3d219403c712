"""The recogniser's ONNX graph run by PyTorch: same numbers as ONNX Runtime, and trained numbers
written back into the same graph.

Real parts: the shipped PP-OCRv6 recogniser, ONNX Runtime, torch on CPU.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from models.ort_session import ort
from models.text_reader import DEFAULT_REC_PATH
from training.onnx_torch import OnnxGraphModule, write_weights
from training.text_features import find_head
from training.text_finetune import BACKBONE_OUT, LAST_STAGE_IN


def _ort(path: Path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


@pytest.fixture(scope="module")
def line() -> np.ndarray:
    """Two line-shaped inputs as the reader builds them (-1..1, 48 px high), of odd widths."""
    rng = np.random.default_rng(3)
    return rng.uniform(-1, 1, (2, 3, 48, 184)).astype(np.float32)


def test_the_graph_in_torch_gives_what_onnx_runtime_gives(line: np.ndarray) -> None:
    module = OnnxGraphModule(DEFAULT_REC_PATH)
    with torch.no_grad():
        mine = module(torch.from_numpy(line)).numpy()
    theirs = _ort(DEFAULT_REC_PATH, line)
    assert mine.shape == theirs.shape
    assert np.abs(mine - theirs).max() < 1e-4


@pytest.mark.parametrize("start", [BACKBONE_OUT, LAST_STAGE_IN])
def test_starting_inside_the_graph_gives_the_same_answer(line: np.ndarray, start: str) -> None:
    model = onnx.load(str(DEFAULT_REC_PATH))
    model.graph.output.append(onnx.helper.make_tensor_value_info(start, onnx.TensorProto.FLOAT, None))
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    probs, columns = session.run(None, {session.get_inputs()[0].name: line})
    top = OnnxGraphModule(DEFAULT_REC_PATH, start=start)
    with torch.no_grad():
        assert np.abs(top(torch.from_numpy(columns)).numpy() - probs).max() < 1e-4
    # Only the layers above the start are parameters: none of the backbone's first convolutions.
    whole = OnnxGraphModule(DEFAULT_REC_PATH)
    first = [n.input[1] for n in model.graph.node if n.op_type == "Conv"][:10]
    assert set(top.names) < set(whole.names) and not set(first) & set(top.names)


def test_trained_weights_go_back_into_the_same_graph(tmp_path: Path, line: np.ndarray) -> None:
    head = find_head(onnx.load(str(DEFAULT_REC_PATH)))
    module = OnnxGraphModule(DEFAULT_REC_PATH, output=head.features)
    optimiser = torch.optim.Adam(module.parameters(), lr=1e-3)
    for _ in range(3):  # move the features somewhere else
        loss = (module(torch.from_numpy(line)) - 1.0).pow(2).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    out = tmp_path / "trained.onnx"
    write_weights(module, DEFAULT_REC_PATH, out)
    with torch.no_grad():
        expected = OnnxGraphModule(DEFAULT_REC_PATH)
        for name in module.names:  # the same new numbers, run by the untouched layers above
            expected.parameter_of(name).copy_(module.parameter_of(name))
        want = expected(torch.from_numpy(line)).numpy()
    written, shipped = _ort(out, line), _ort(DEFAULT_REC_PATH, line)
    assert np.abs(written - want).max() < 1e-4
    assert np.abs(written - shipped).max() > 1e-3
    before, after = onnx.load(str(DEFAULT_REC_PATH)).graph, onnx.load(str(out)).graph
    assert [n.op_type for n in before.node] == [n.op_type for n in after.node]


def test_an_operator_it_does_not_know_is_refused_by_name(tmp_path: Path) -> None:
    x = onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 4])
    y = onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 4])
    graph = onnx.helper.make_graph([onnx.helper.make_node("Celu", ["x"], ["y"], name="odd")], "g", [x], [y])
    path = tmp_path / "odd.onnx"
    onnx.save(onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 12)]), str(path))
    with pytest.raises(ValueError, match="Celu"):
        OnnxGraphModule(path)
