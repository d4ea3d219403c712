"""Weight blends of fine-tunes (``training.interpolate``): one network whose outputs lie between
its ends', a soup of several fine-tunes that is their parameter mean, and the blend that ships
chosen on PublicTest only."""

from __future__ import annotations

from pathlib import Path

import torch

from training.interpolate import blend, choose, describe_tuned, soup
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


def test_the_rule_keeps_a_blend_level_with_the_start_and_ranks_the_rest() -> None:
    shipped = 2501 / 3589  # the shipped model's PublicTest accuracy: 69.685 %, printed as 69.69 %
    level = (0.5, 2501 / 3589, 0.72, 0.649)
    under = (1.0, 2500 / 3589, 0.73, 0.651)
    above = (0.3, 2503 / 3589, 0.72, 0.648)
    assert choose([above, level, under], shipped, by_proxy=True) == level  # the best proxy at the floor
    assert choose([above, level, under], shipped, by_proxy=False) == above  # FER+ tied: the better FER2013
    assert choose([under], shipped, by_proxy=True) is None  # one face under the start is not kept


def test_the_card_tells_the_runs_of_a_soup_apart() -> None:
    """Two runs save epochs under the same names; the card must still say which run is which."""
    runs = [Path("runs/emotion_r2_s4/epoch_016_ema.pt"), Path("runs/emotion_r2_s5/epoch_016_ema.pt")]
    soup_of_two = describe_tuned(runs)
    assert soup_of_two == "mean(emotion_r2_s4/epoch_016_ema.pt + emotion_r2_s5/epoch_016_ema.pt)"
    assert describe_tuned([Path("runs/emotion_v4ft_s2/epoch_016_ema.pt")]) == "emotion_v4ft_s2/epoch_016_ema.pt"
    assert describe_tuned([Path("blend.pt")]) == "blend.pt"
