"""Rebuild the trainable torch network from a shipped ONNX file (a warm start without a checkpoint).

The export folds each BatchNorm into the convolution before it (``W' = W g / sqrt(v + eps)``,
``b' = beta - m g / sqrt(v + eps)``), so the file holds one weight and one bias per convolution.
Each conv gets ``W'`` back and its BatchNorm is rebuilt so that it computes ``z + b'`` exactly in
eval mode (``z = W' * x``) **and** approximately in train mode: the statistics of ``z`` on real
faces become the running mean/var, ``gamma = sqrt(var + eps)`` and ``beta = b' + mean``. Then
``gamma (z - mean) / sqrt(var + eps) + beta = z + b'`` for any mean/var, and in train mode the batch
statistics are close to the stored ones, so the first training steps continue the shipped model
instead of renormalising every channel to unit variance. (``gamma = 1, beta = b', mean = 0,
var = 1 - eps`` is also exact in eval mode, but in train mode it scales each channel by
``1/std(z)`` and drops the mean shift: the warm start would be thrown away on step one.)

The convolution initializers are read in graph order (``onnx::Conv_NNN`` weight then bias, as the
exporter names them), checked shape by shape against ``EmotionNet``'s convolutions in module
order; the head is ``members.0.head.weight/bias``. Only single-network files are supported.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn

from training.data import sha256_of_file
from training.model import EmotionNet, ModelConfig, load_checkpoint

log = logging.getLogger(__name__)

HEAD_WEIGHT = "members.0.head.weight"
HEAD_BIAS = "members.0.head.bias"


def _conv_layers(net: EmotionNet) -> list[tuple[nn.Conv2d, nn.BatchNorm2d]]:
    """Every (conv, its BatchNorm) pair of ``net`` in module order (the order of the ONNX graph)."""
    pairs: list[tuple[nn.Conv2d, nn.BatchNorm2d]] = []
    mods = list(net.features.modules())
    for i, m in enumerate(mods):
        if isinstance(m, nn.Conv2d):
            bn = mods[i + 1]
            if not isinstance(bn, nn.BatchNorm2d):
                raise ValueError(f"conv {i} of EmotionNet is not followed by a BatchNorm")
            pairs.append((m, bn))
    return pairs


def _folded_convs(model: onnx.ModelProto) -> list[tuple[np.ndarray, np.ndarray]]:
    """(weight, bias) of every Conv node, in graph order."""
    inits = {t.name: t for t in model.graph.initializer}
    out = []
    for node in model.graph.node:
        if node.op_type != "Conv":
            continue
        if len(node.input) != 3:
            raise ValueError(f"ONNX Conv {node.name} has no bias: not a BatchNorm-folded EmotionNet export")
        w, b = (np.array(numpy_helper.to_array(inits[name])) for name in node.input[1:])  # writable copies
        out.append((w, b))
    return out


def model_config_of(path: Path) -> ModelConfig:
    """The ``model_config`` metadata of an exported emotion model."""
    meta = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
    if "model_config" not in meta:
        raise ValueError(f"{path} has no model_config metadata: not an exported ClassMood emotion model")
    return ModelConfig.from_dict(json.loads(meta["model_config"]))


@torch.no_grad()
def _conv_output_stats(net: EmotionNet, x: torch.Tensor, batch: int = 512) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Per-channel mean and (biased) variance of every conv's output on faces ``x`` (eval mode)."""
    convs = [c for c, _ in _conv_layers(net)]
    sums = [torch.zeros(c.out_channels, dtype=torch.float64) for c in convs]
    sqs = [torch.zeros(c.out_channels, dtype=torch.float64) for c in convs]
    counts = [0] * len(convs)

    def hook_for(k: int):  # noqa: ANN202 - a forward hook
        def hook(_m: nn.Module, _inp: tuple, out: torch.Tensor) -> None:
            z = out.transpose(0, 1).reshape(out.shape[1], -1).double()
            sums[k] += z.sum(dim=1)
            sqs[k] += (z * z).sum(dim=1)
            counts[k] += z.shape[1]
        return hook

    handles = [c.register_forward_hook(hook_for(k)) for k, c in enumerate(convs)]
    was_training = net.training
    net.eval()
    try:
        for i in range(0, len(x), batch):
            net(x[i:i + batch])
    finally:
        for h in handles:
            h.remove()
        net.train(was_training)
    stats = []
    for s, q, n in zip(sums, sqs, counts, strict=True):
        mean = s / n
        stats.append((mean.float(), (q / n - mean * mean).clamp(min=0).float()))
    return stats


@torch.no_grad()
def load_onnx_weights(net: EmotionNet, path: Path, faces: torch.Tensor | None = None) -> dict:
    """Put the weights of the exported file ``path`` into ``net``; returns the lineage record.

    ``faces`` ``(n, 1, 48, 48)`` (a few thousand Training faces) set the BatchNorm statistics so
    train mode continues the model (see the module docstring); without them the BatchNorms are
    exact in eval mode only (mean 0, var ``1 - eps``, gamma 1, beta ``b'``).

    Raises:
        ValueError: the file's model config or convolution shapes differ from ``net``'s, or it
            holds an ensemble.
    """
    model = onnx.load(str(path))
    meta = {p.key: p.value for p in model.metadata_props}
    cfg = model_config_of(path)
    if cfg != net.cfg:
        raise ValueError(f"--init-from: {path} has model config {cfg.to_dict()}, this run wants {net.cfg.to_dict()}")
    if meta.get("ensemble_members", "1") != "1":
        raise ValueError(f"--init-from: {path} holds {meta['ensemble_members']} networks; only single-network files")
    folded = _folded_convs(model)
    layers = _conv_layers(net)
    if len(folded) != len(layers):
        raise ValueError(f"--init-from: {path} has {len(folded)} convolutions, EmotionNet {len(layers)}")
    for k, ((w, b), (conv, bn)) in enumerate(zip(folded, layers, strict=True)):
        if tuple(w.shape) != tuple(conv.weight.shape):
            raise ValueError(f"--init-from: conv {k} of {path} is {w.shape}, "
                             f"EmotionNet's is {tuple(conv.weight.shape)}")
        conv.weight.copy_(torch.from_numpy(w))
        bn.weight.fill_(1.0)
        bn.bias.copy_(torch.from_numpy(b))
        bn.register_buffer("running_mean", torch.zeros_like(bn.bias))
        bn.register_buffer("running_var", torch.full_like(bn.bias, 1.0 - bn.eps))
        bn.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))
    inits = {t.name: np.array(numpy_helper.to_array(t))
             for t in model.graph.initializer if t.name in (HEAD_WEIGHT, HEAD_BIAS)}
    net.head.weight.copy_(torch.from_numpy(inits[HEAD_WEIGHT]))
    net.head.bias.copy_(torch.from_numpy(inits[HEAD_BIAS]))
    if faces is not None and len(faces):
        # Valid because the net is exact in eval mode now: the hooks see the shipped model's z.
        for (mean, var), (_conv, bn) in zip(_conv_output_stats(net, faces), layers, strict=True):
            bias = bn.bias.clone()
            bn.register_buffer("running_mean", mean.clone())
            bn.register_buffer("running_var", var.clone())
            bn.weight.copy_(torch.sqrt(var + bn.eps))
            bn.bias.copy_(bias + mean)
    training = json.loads(meta.get("training", "{}"))
    log.info("starting from the weights of %s (BatchNorm statistics from %d faces)", path,
             0 if faces is None else len(faces))
    return {"path": str(path), "kind": "onnx", "sha256": sha256_of_file(path), "epoch": training.get("epoch"),
            "public_acc": training.get("public_acc"), "checkpoint_sha256": training.get("checkpoint_sha256"),
            "temperature": meta.get("temperature"), "bn_statistics_faces": 0 if faces is None else len(faces),
            "flip_average": meta.get("flip_average"), "zoom_average": meta.get("zoom_average")}


def net_from_onnx(path: Path, faces: torch.Tensor | None = None) -> tuple[EmotionNet, dict]:
    """A fresh ``EmotionNet`` (eval mode) holding the weights of ``path``, and the lineage record."""
    net = EmotionNet(model_config_of(path))
    info = load_onnx_weights(net, path, faces)
    return net.eval(), info


def net_from_file(path: Path, faces: torch.Tensor | None = None) -> EmotionNet:
    """The network in ``path``, in eval mode: an exported ``.onnx`` file (``net_from_onnx``, its
    BatchNorm statistics from ``faces``) or a training checkpoint (``.pt``)."""
    return net_from_onnx(path, faces)[0] if path.suffix == ".onnx" else load_checkpoint(path)[0]
