"""Weight blends of fine-tunes (``training.interpolate``): one network whose outputs lie between
its ends', a soup of several fine-tunes that is their parameter mean, and the blend that ships
chosen on PublicTest only."""

from __future__ import annotations

import torch

from training.interpolate import blend, soup
from training.model import EmotionNet, ModelConfig

SMALL = ModelConfig(widths=(8, 8, 8, 8), blocks=(1, 1, 1, 1))


def _net(seed: int) -> EmotionNet:
    torch.manual_seed(seed)
    net = EmotionNet(SMALL)
    for m in net.modules():  # BatchNorm statistics as a trained network has them, not the defaults
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    return net.eval()


def test_blend_ends_are_the_networks_themselves() -> None:
    a, b = _net(0), _net(1)
    x = torch.rand(4, 1, 48, 48)
    with torch.no_grad():
        assert torch.allclose(blend(a, b, 0.0)(x), a(x), atol=1e-6)
        assert torch.allclose(blend(a, b, 1.0)(x), b(x), atol=1e-6)
        assert not torch.allclose(blend(a, b, 0.5)(x), a(x), atol=1e-3)


def test_soup_of_one_is_that_network_and_of_two_is_their_midpoint() -> None:
    a, b = _net(2), _net(3)
    x = torch.rand(4, 1, 48, 48)
    with torch.no_grad():
        assert torch.allclose(soup([a])(x), a(x), atol=1e-6)
        assert torch.allclose(soup([a, b])(x), blend(a, b, 0.5)(x), atol=1e-6)
    first = next(iter(a.state_dict()))
    assert torch.allclose(soup([a, b]).state_dict()[first], (a.state_dict()[first] + b.state_dict()[first]) / 2)
