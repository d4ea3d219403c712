"""An ONNX graph run by PyTorch, its weights trainable, and written back into the same graph.

Fine-tuning the name reader's recogniser below its last layer needs gradients through a graph
that exists only as ONNX. Converters rebuild such a graph as PyTorch modules and export a new
graph afterwards (which changes what the product runs, and ``onnx2torch`` does not take this
graph's ``SAME_UPPER`` convolutions); here the graph is walked node by node with PyTorch's own
operators, every float initializer that is a weight (more than one number, not a batch norm's
running statistics) is a parameter, and ``write_weights`` puts the trained values back into a
copy of the original file: the product runs the very graph it ran before, with new numbers.

Only the operators the shipped recogniser uses are implemented (opset 11); an unknown one is
refused by name when the graph is loaded, not in the middle of training.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

Value = torch.Tensor


def _attrs(node: onnx.NodeProto) -> dict:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _same_upper(x: Value, kernel: list[int], strides: list[int], value: float) -> Value:
    """Pad ``x`` as ONNX's ``SAME_UPPER`` does: output size ceil(in / stride), extra on the end."""
    pads = []
    for axis, (k, s) in enumerate(zip(kernel, strides, strict=True)):
        size = x.shape[2 + axis]
        total = max(0, (-(-size // s) - 1) * s + k - size)
        pads.append((total // 2, total - total // 2))
    flat = [p for pair in reversed(pads) for p in pair]  # F.pad wants the last axis first
    return F.pad(x, flat, value=value)


def _conv(x: Value, w: Value, b: Value | None, a: dict) -> Value:
    strides = a.get("strides", [1, 1])
    if a.get("auto_pad", b"NOTSET") == b"SAME_UPPER":
        x = _same_upper(x, a["kernel_shape"], strides, 0.0)
        padding: tuple[int, int] = (0, 0)
    else:
        p = a.get("pads", [0, 0, 0, 0])
        if p[0] != p[2] or p[1] != p[3]:
            x = F.pad(x, (p[1], p[3], p[0], p[2]))
            padding = (0, 0)
        else:
            padding = (p[0], p[1])
    return F.conv2d(x, w, b, stride=strides, padding=padding, dilation=a.get("dilations", [1, 1]),
                    groups=a.get("group", 1))


def _max_pool(x: Value, a: dict) -> Value:
    if a.get("auto_pad", b"NOTSET") == b"SAME_UPPER":
        x = _same_upper(x, a["kernel_shape"], a["strides"], float("-inf"))
    return F.max_pool2d(x, a["kernel_shape"], a["strides"])


def _avg_pool(x: Value, a: dict) -> Value:
    if any(a.get("pads", [0])) or a.get("ceil_mode", 0):
        raise ValueError("AveragePool with padding or ceil_mode is not implemented")
    return F.avg_pool2d(x, a["kernel_shape"], a["strides"])


def _slice(x: Value, starts: Value, ends: Value, axes: Value | None = None, steps: Value | None = None) -> Value:
    index = [slice(None)] * x.dim()
    axes_list = axes.tolist() if axes is not None else list(range(len(starts)))
    steps_list = steps.tolist() if steps is not None else [1] * len(starts)
    for s, e, axis, step in zip(starts.tolist(), ends.tolist(), axes_list, steps_list, strict=True):
        size = x.shape[axis]
        index[axis] = slice(max(-size, min(s, size)), max(-size - 1, min(e, size)), step)
    return x[tuple(index)]


def _reshape(x: Value, shape: Value) -> Value:
    dims = [x.shape[i] if d == 0 else d for i, d in enumerate(shape.tolist())]  # 0 keeps the input's size
    return x.reshape(dims)


def _layer_of(node: onnx.NodeProto) -> Callable[..., Value]:
    """The PyTorch function computing ``node`` from its inputs."""
    a = _attrs(node)
    op = node.op_type
    simple: dict[str, Callable[..., Value]] = {
        "Add": torch.add, "Sub": torch.sub, "Mul": torch.mul, "Div": torch.div, "Pow": torch.pow,
        "MatMul": torch.matmul, "Erf": torch.erf, "Sqrt": torch.sqrt, "Relu": F.relu, "Sigmoid": torch.sigmoid,
        "Identity": lambda x: x,
    }
    if op in simple:
        return simple[op]
    table: dict[str, Callable[..., Value]] = {
        "Conv": lambda x, w, b=None: _conv(x, w, b, a),
        "MaxPool": lambda x: _max_pool(x, a),
        "AveragePool": lambda x: _avg_pool(x, a),
        "HardSigmoid": lambda x: torch.clamp(a.get("alpha", 0.2) * x + a.get("beta", 0.5), 0.0, 1.0),
        "ReduceMean": lambda x: x.mean(dim=a["axes"], keepdim=bool(a.get("keepdims", 1))),
        "Softmax": lambda x: torch.softmax(x, dim=a.get("axis", 1)),
        "Transpose": lambda x: x.permute(a["perm"]),
        "Concat": lambda *xs: torch.cat(xs, dim=a["axis"]),
        "Shape": lambda x: torch.tensor(x.shape, dtype=torch.int64),
        "Slice": _slice,
        "Squeeze": lambda x: x.squeeze(tuple(a["axes"])) if "axes" in a else x.squeeze(),
        "Unsqueeze": lambda x: _unsqueeze(x, a["axes"]),
        "Reshape": _reshape,
        "BatchNormalization": lambda x, g, b, m, v: F.batch_norm(x, m, v, g, b, False, 0.0, a.get("epsilon", 1e-5)),
    }
    if op not in table:
        raise ValueError(f"operator {op} ({node.name}) is not implemented")
    return table[op]


def _unsqueeze(x: Value, axes: list[int]) -> Value:
    for axis in sorted(axes):
        x = x.unsqueeze(axis)
    return x


def _is_weight(name: str, array: np.ndarray, stats: set[str]) -> bool:
    """Trainable: a float initializer of more than one number that is not a running statistic."""
    return array.dtype == np.float32 and array.size > 1 and name not in stats


class OnnxGraphModule(torch.nn.Module):
    """The graph of an ONNX file as a module; ``forward(x)`` gives the tensor named ``output``.

    ``output`` lets training stop before a final softmax and take its input (the logits);
    ``start`` lets it begin at an inner tensor (the nodes after the one making it), so layers
    below that are run once, outside training, and their output kept. The nodes after ``start``
    must not read any other tensor made before it.
    """

    def __init__(self, path: Path, output: str | None = None, start: str | None = None):
        super().__init__()
        model = onnx.load(str(path))
        self.input_name = start or model.graph.input[0].name
        self.output_name = output or model.graph.output[0].name
        stats = {n.input[i] for n in model.graph.node if n.op_type == "BatchNormalization" for i in (3, 4)}
        self.nodes = _nodes_between(model, path, start, self.output_name)
        used = {name for inputs, _, _ in self.nodes for name in inputs}
        self.names: dict[str, str] = {}  # initializer name -> parameter key
        self.constants: dict[str, torch.Tensor] = {}
        weights = torch.nn.ParameterDict()
        for k, init in enumerate(model.graph.initializer):
            if init.name not in used:
                continue
            array = numpy_helper.to_array(init)
            if _is_weight(init.name, array, stats):
                key = f"w{k}"
                weights[key] = torch.nn.Parameter(torch.from_numpy(array.copy()))
                self.names[init.name] = key
            else:
                self.constants[init.name] = torch.from_numpy(np.array(array))
        self.weights = weights

    def parameter_of(self, initializer: str) -> torch.nn.Parameter:
        """The parameter holding the initializer named ``initializer``."""
        return self.weights[self.names[initializer]]

    def forward(self, x: Value) -> Value:
        values: dict[str, Value] = {self.input_name: x}
        for inputs, outputs, fn in self.nodes:
            args = [self._value(name, values) for name in inputs if name]
            values[outputs[0]] = fn(*args)
        return values[self.output_name]

    def _value(self, name: str, values: dict[str, Value]) -> Value:
        if name in values:
            return values[name]
        if name in self.names:
            return self.weights[self.names[name]]
        return self.constants[name]


def _nodes_between(model: onnx.ModelProto, path: Path, start: str | None,
                   output: str) -> list[tuple[list[str], list[str], Callable[..., Value]]]:
    """``(inputs, outputs, function)`` of the nodes after the one making ``start`` (all, for
    None), up to the one making ``output``."""
    graph_nodes = list(model.graph.node)
    if start is not None:
        made = [k for k, node in enumerate(graph_nodes) if start in node.output]
        if not made:
            raise ValueError(f"no tensor named {start} in {path}")
        graph_nodes = graph_nodes[made[0] + 1:]
    nodes = []
    for node in graph_nodes:
        nodes.append((list(node.input), list(node.output), _layer_of(node)))
        if output in node.output:
            return nodes
    raise ValueError(f"no tensor named {output} in {path}")


def write_weights(module: OnnxGraphModule, source: Path, out: Path) -> None:
    """A copy of ``source`` with every trainable initializer set to ``module``'s value."""
    model = onnx.load(str(source))
    put_weights(module, model)
    onnx.save(model, str(out))


def put_weights(module: OnnxGraphModule, model: onnx.ModelProto) -> None:
    """Set every initializer of ``model`` that ``module`` trains to ``module``'s value."""
    for init in model.graph.initializer:
        if init.name in module.names:
            array = module.parameter_of(init.name).detach().cpu().numpy().astype(np.float32)
            init.CopyFrom(numpy_helper.from_array(array, init.name))
