"""Cutting a trained network narrower (``training.prune``) and teaching the cut one the full
one's reading (``distill_from``)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch
from one_class_nets import one_class_checkpoint
from torch import nn

from training.config import recipe_config
from training.data import load_splits
from training.model import EmotionNet, ModelConfig, ResidualBlock, load_checkpoint
from training.prune import prune, recalibrate
from training.train import train
from vocab.errors import ConfigError
from vocab.labels import EMOTIONS

CFG = ModelConfig(widths=(8, 16, 32, 64))


def _net(seed: int = 0) -> EmotionNet:
    """A small network with BatchNorms that are not the identity (as a trained one's are not)."""
    torch.manual_seed(seed)
    net = EmotionNet(CFG).eval()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    return net


def _silence(layer: nn.Sequential, channels: torch.Tensor) -> None:
    """Make ``layer`` (conv, BatchNorm[, ReLU]) output exactly zero on ``channels``."""
    with torch.no_grad():
        layer[0].weight[channels] = 0
        layer[1].weight[channels] = 0
        layer[1].bias[channels] = 0


def _net_with_dead_half(seed: int = 0) -> EmotionNet:
    """``_net`` with a random half of every layer's channels carrying nothing: the stream a
    stage's blocks add into is silenced in every layer that writes to it, each block's inner
    channels in its first convolution; each group its own random half."""
    net = _net(seed)
    g = torch.Generator().manual_seed(seed)

    def half(n: int) -> torch.Tensor:
        return torch.randperm(n, generator=g)[: n // 2]

    stream = None
    for unit in net.features:
        if isinstance(unit, ResidualBlock):
            _silence(unit.conv1, half(unit.conv1[0].out_channels))
            if not isinstance(unit.shortcut, nn.Identity):
                stream = half(unit.conv2[0].out_channels)
                _silence(unit.shortcut, stream)
            _silence(unit.conv2, stream)
        else:
            stream = half(unit[0].out_channels)
            _silence(unit, stream)
    return net


def test_keeping_every_channel_reproduces_the_network() -> None:
    net, faces = _net(), torch.rand(64, 1, 48, 48)
    with torch.no_grad():
        assert torch.equal(prune(net, 1.0, faces)(faces), net(faces))


def test_cutting_the_channels_that_carry_nothing_changes_no_reading() -> None:
    # Half of every layer is dead, a different half in each: a cut to 50 % must find exactly
    # those, keep the residual sums adding matching channels, and read every face as before,
    # with a quarter of the multiply-accumulates.
    net, faces = _net_with_dead_half(), torch.rand(128, 1, 48, 48)
    small = prune(net, 0.5, faces)
    assert small.cfg.widths == (4, 8, 16, 32)
    with torch.no_grad():
        assert torch.allclose(small(faces), net(faces), atol=1e-5)
        # Not by luck: a cut that kept dead channels (here, of an unrelated network) reads differently.
        assert not torch.allclose(prune(_net_with_dead_half(1), 0.5, faces)(faces), net(faces), atol=1e-2)


def test_recalibration_restores_normalised_activations() -> None:
    # After a cut, BatchNorm statistics are stale; measured again, each BatchNorm sees its own
    # input with mean 0 and variance 1 in train mode, i.e. its running statistics match it.
    net, faces = _net(), torch.rand(256, 1, 48, 48)
    small = prune(net, 0.5, faces)
    recalibrate(small, faces)
    first = small.features[0]
    with torch.no_grad():
        z = first[0]((faces - CFG.mean) / CFG.std)
    assert torch.allclose(first[1].running_mean, z.mean(dim=(0, 2, 3)), atol=1e-4)
    assert not small.training


def test_prune_refuses_a_share_outside_zero_to_one() -> None:
    with pytest.raises(ValueError, match="keep"):
        prune(_net(), 0.0, torch.rand(4, 1, 48, 48))


def test_a_cut_student_learns_the_reading_of_the_network_it_was_cut_from(fer2013_npz: Path, tmp_path: Path) -> None:
    """A narrow student that starts out reading every face as Happy, fine-tuned with
    ``distill_from`` a wider network that reads every face as Fear, comes to say Fear: the
    clean-face reading is the wider network's, not the student's own."""
    wide = one_class_checkpoint(tmp_path / "wide_fear.pt", ModelConfig(widths=(8, 16, 16, 16), blocks=(1, 1, 1, 1)),
                                 "Fear", 20.0)
    narrow = ModelConfig(widths=(4, 8, 8, 8), blocks=(1, 1, 1, 1))
    start = one_class_checkpoint(tmp_path / "narrow_happy.pt", narrow, "Happy", 5.0)
    cfg = replace(recipe_config("v8slim"), data=fer2013_npz, epochs=3, batch_size=32, lr=0.05, max_per_split=128,
                  threads=1, device="cpu", label_smoothing=0.0, model=narrow, init_from=start, distill_weight=1.0,
                  distill_from=wide, webcam_p=0.0, out_dir=tmp_path / "run")
    train(cfg)
    net, ck = load_checkpoint(tmp_path / "run" / "epoch_003_raw.pt")
    faces = torch.from_numpy(load_splits(fer2013_npz, 128)[0]["public"].tensor())
    with torch.no_grad():
        assert float((net(faces).argmax(1) == EMOTIONS.index("Fear")).float().mean()) > 0.9
    assert ck["distillation"]["distill_from"] == str(wide) and str(wide) in ck["distillation"]["by"]
    with pytest.raises(ConfigError, match="distill-from"):
        train(replace(cfg, distill_from=tmp_path / "missing.pt", out_dir=tmp_path / "run2"))


def test_distill_from_without_a_distillation_share_is_refused() -> None:
    with pytest.raises(ConfigError, match="distill_from"):
        replace(recipe_config("v8slim"), distill_weight=0.0)
