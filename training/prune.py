"""A narrower student cut from a trained one: ``python -m training.prune MODEL --keep 0.75 --out START.pt``.

Why: the shipped network reads a face with 62.6 M multiply-accumulates, four views a face; 49
faces take 36-39 ms on two cores of an Intel Xeon VM, over the 25 ms target (22 ms on an AMD
EPYC VM). Every stage of the network costs about the same, so fewer channels everywhere is
what makes it cheaper: ``--keep 0.75`` keeps 75 % of every layer's channels, 56 % of the
multiply-accumulates. A network cut from the trained one starts from what it learnt; the cut
is then fine-tuned (recipe ``v8slim``) with the full network's reading as most of the target.

Which channels stay: the ones that carry the most, measured as the mean absolute activation of
each channel on Training faces (eval mode). Channels joined by a residual connection (the
stream a stage's blocks add into, and the stem output that stage 0's first block adds to) are
one group, scored together and cut with one set of indices, so every sum still adds matching
channels. A block's inner channels (after its first convolution) are scored alone. After the
cut every BatchNorm's running statistics are measured again on Training faces, since a layer
that lost inputs no longer sees the distribution it was normalised for.

Writes a checkpoint that ``training.train --init-from`` reads (``model``, ``model_config``,
``epoch`` 0, ``public_acc``: PublicTest accuracy after the cut, mirror-averaged).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import cast

import numpy as np
import torch
from torch import nn

from training.data import DEFAULT_DATA, load_splits, sha256_of_file
from training.model import EmotionNet, ResidualBlock, count_macs
from training.onnx_weights import net_from_file
from training.train import public_accuracy

log = logging.getLogger(__name__)

SCORING_FACES = 2048
BN_FACES = 4096


def _units(net: EmotionNet) -> list[nn.Module]:
    """The stem's two layers and the residual blocks, in order."""
    return list(net.features)


def channel_groups(net: EmotionNet) -> list[int]:
    """The group (0, 1, ...) of each unit's output channels, units as ``_units``: a residual block
    with an identity shortcut writes into its input's group; every other unit (the stem's layers,
    a block that changes width or stride) starts a new one."""
    groups: list[int] = []
    for unit in _units(net):
        same = isinstance(unit, ResidualBlock) and isinstance(unit.shortcut, nn.Identity)
        groups.append(groups[-1] if same else (groups[-1] + 1 if groups else 0))
    return groups


@torch.no_grad()
def channel_scores(net: EmotionNet, faces: torch.Tensor) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Mean absolute activation of each channel on ``faces``: one array per output group
    (summed over the units that write into it) and one per block's inner channels."""
    groups = channel_groups(net)
    group_scores: list[np.ndarray | None] = [None] * (max(groups) + 1)
    inner: list[np.ndarray] = []
    hooks = []

    def add_group(g: int) -> Callable[[nn.Module, tuple, torch.Tensor], None]:
        def hook(_m: nn.Module, _i: tuple, out: torch.Tensor) -> None:
            s = out.abs().mean(dim=(0, 2, 3)).numpy()
            group_scores[g] = s if group_scores[g] is None else group_scores[g] + s
        return hook

    def add_inner(_m: nn.Module, _i: tuple, out: torch.Tensor) -> None:
        inner.append(out.abs().mean(dim=(0, 2, 3)).numpy())

    for unit, g in zip(_units(net), groups, strict=True):
        hooks.append(unit.register_forward_hook(add_group(g)))
        if isinstance(unit, ResidualBlock):
            hooks.append(unit.conv1.register_forward_hook(add_inner))
    was_training = net.training
    net.eval()
    for i in range(0, len(faces), 256):
        net(faces[i:i + 256])
    net.train(was_training)
    for h in hooks:
        h.remove()
    return [s if s is not None else np.zeros(0) for s in group_scores], inner


def _top(scores: np.ndarray, keep: int) -> torch.Tensor:
    return torch.from_numpy(np.sort(np.argsort(-scores, kind="stable")[:keep]))


def _cut_conv_bn(src: nn.Module, dst: nn.Module, rows: torch.Tensor, cols: torch.Tensor) -> None:
    """Copy the conv weights of ``src`` (a conv, BatchNorm[, ReLU] sequence; output channels
    ``rows``, input channels ``cols``) and its BatchNorm's parameters for ``rows`` into ``dst``."""
    src_seq, dst_seq = cast(nn.Sequential, src), cast(nn.Sequential, dst)
    conv, bn, to_conv, to_bn = src_seq[0], src_seq[1], dst_seq[0], dst_seq[1]
    cast(nn.Conv2d, to_conv).weight.copy_(cast(nn.Conv2d, conv).weight[rows][:, cols])
    for name in ("weight", "bias", "running_mean", "running_var"):
        getattr(to_bn, name).copy_(getattr(bn, name)[rows])


@torch.no_grad()
def prune(net: EmotionNet, keep: float, faces: torch.Tensor) -> EmotionNet:
    """A copy of ``net`` with ``round(keep * width)`` channels a layer, the highest scoring on
    ``faces`` (``channel_scores``); BatchNorm statistics as copied (``recalibrate`` renews them)."""
    if not 0 < keep <= 1:
        raise ValueError(f"keep must be in (0, 1], got {keep}")
    widths = tuple(max(1, round(w * keep)) for w in net.cfg.widths)
    small = EmotionNet(replace(net.cfg, widths=widths)).eval()
    group_scores, inner_scores = channel_scores(net, faces)
    groups = channel_groups(net)
    units, small_units = _units(net), _units(small)
    kept_groups = [_top(s, max(1, round(len(s) * keep))) for s in group_scores]
    cols = torch.tensor([0])  # the one grey input channel
    inner_i = 0
    for unit, small_unit, g in zip(units, small_units, groups, strict=True):
        rows = kept_groups[g]
        if not isinstance(unit, ResidualBlock):  # a stem layer
            _cut_conv_bn(unit, small_unit, rows, cols)
        else:
            to = cast(ResidualBlock, small_unit)
            mid = _top(inner_scores[inner_i], cast(nn.Conv2d, cast(nn.Sequential, to.conv1)[0]).out_channels)
            inner_i += 1
            _cut_conv_bn(unit.conv1, to.conv1, mid, cols)
            _cut_conv_bn(unit.conv2, to.conv2, rows, mid)
            if not isinstance(unit.shortcut, nn.Identity):
                _cut_conv_bn(unit.shortcut, to.shortcut, rows, cols)
        cols = rows
    small.head.weight.copy_(net.head.weight[:, cols])
    small.head.bias.copy_(net.head.bias)
    return small


@torch.no_grad()
def recalibrate(net: EmotionNet, faces: torch.Tensor, batch: int = 256) -> None:
    """Measure every BatchNorm's running mean/var again on ``faces`` (a cumulative average over
    train-mode passes; the weights are not touched). Leaves ``net`` in eval mode."""
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    net.train()
    for i in range(0, len(faces), batch):
        net(faces[i:i + batch])
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = 0.1
    net.eval()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.prune", description=__doc__.split("\n\n")[0])
    p.add_argument("model", type=Path, help="the trained network: an exported .onnx file or a checkpoint .pt")
    p.add_argument("--keep", type=float, default=0.75, help="share of every layer's channels kept")
    p.add_argument("--out", type=Path, required=True, help="checkpoint to write (for training.train --init-from)")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    splits, _ = load_splits(args.data)
    train_x = torch.from_numpy(splits["train"].tensor())
    rows = torch.from_numpy(np.random.default_rng(args.seed).permutation(len(train_x)))
    public_x, public_y = torch.from_numpy(splits["public"].tensor()), torch.from_numpy(splits["public"].labels)
    net = net_from_file(args.model, train_x[:BN_FACES])
    small = prune(net, args.keep, train_x[rows[:SCORING_FACES]])
    recalibrate(small, train_x[rows[:BN_FACES]])
    before, after = public_accuracy(net, public_x, public_y)[1], public_accuracy(small, public_x, public_y)[1]
    log.info("widths %s -> %s, %.1f -> %.1f M multiply-accumulates a view; PublicTest (mirror) %.4f -> %.4f "
             "before fine-tuning", list(net.cfg.widths), list(small.cfg.widths), count_macs(net) / 1e6,
             count_macs(small) / 1e6, before, after)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": small.state_dict(), "model_config": small.cfg.to_dict(), "epoch": 0, "public_acc": after,
                "pruned_from": {"path": str(args.model), "sha256": sha256_of_file(args.model), "keep": args.keep,
                                "public_acc_before": before}}, args.out)
    log.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
