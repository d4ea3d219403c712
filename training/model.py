"""The emotion CNN: a small residual network for 48x48 grayscale faces.

A stride-2 stem brings the face to 24x24 at once: the expression cues (mouth, brows, eyes)
survive that resolution, and it makes every later layer four times cheaper, which is what lets
49 faces a frame run on a laptop CPU. The config is a dataclass stored in every checkpoint so
anything can rebuild the network from the checkpoint alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from models.view_cascade import ZOOM_CROP_PX  # the zoomed view: the central 44x44 pixels, enlarged


@dataclass(frozen=True)
class ModelConfig:
    widths: tuple[int, ...] = (32, 64, 128, 256)
    blocks: tuple[int, ...] = (1, 2, 2, 1)
    dropout: float = 0.2
    num_classes: int = 7
    # The stem's second convolution: 2 (the shipped student) halves the face to 24x24 at once;
    # 1 keeps all 48x48 pixels (a teacher, which has the compute to spare).
    stem_stride: int = 2
    # Input normalisation baked into the graph (FER2013 Training pixel mean/std on 0..1).
    mean: float = 0.508
    std: float = 0.255

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        d = dict(d)
        d["widths"], d["blocks"] = tuple(d["widths"]), tuple(d["blocks"])
        return cls(**d)


def _conv_bn_relu(c_in: int, c_out: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class ResidualBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = _conv_bn_relu(c_in, c_out, stride)
        self.conv2 = nn.Sequential(nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out))
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.conv2(self.conv1(x)) + self.shortcut(x))


class EmotionNet(nn.Module):
    """``(n, 1, 48, 48)`` pixels in 0..1 -> ``(n, 7)`` logits."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        layers: list[nn.Module] = [_conv_bn_relu(1, cfg.widths[0], 1),
                                   _conv_bn_relu(cfg.widths[0], cfg.widths[0], cfg.stem_stride)]
        c = cfg.widths[0]
        for stage, (width, n_blocks) in enumerate(zip(cfg.widths, cfg.blocks, strict=True)):
            for j in range(n_blocks):
                layers.append(ResidualBlock(c, width, 2 if (j == 0 and stage > 0) else 1))
                c = width
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(c, cfg.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - self.cfg.mean) / self.cfg.std
        return self.head(self.dropout(self.features(x).mean(dim=(2, 3))))


def load_checkpoint(path: Path) -> tuple[EmotionNet, dict]:
    """The network in eval mode, rebuilt from the checkpoint's own ``model_config``, and the checkpoint dict."""
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path} (train one with `python -m training.train`)")
    ck = torch.load(path, map_location="cpu", weights_only=False)
    net = EmotionNet(ModelConfig.from_dict(ck["model_config"]))
    net.load_state_dict(ck["model"])
    return net.eval(), ck


def view_count(flip_average: bool, zoom_average: bool) -> int:
    """How many views of each face the exported graph runs the network on."""
    return (2 if flip_average else 1) * (2 if zoom_average else 1)




def zoomed(x: torch.Tensor) -> torch.Tensor:
    """The centre of each face, slightly enlarged: one of the test-time views."""
    m = (x.shape[-1] - ZOOM_CROP_PX) // 2
    crop = x[..., m:m + ZOOM_CROP_PX, m:m + ZOOM_CROP_PX]
    return nn.functional.interpolate(crop, size=x.shape[-2:], mode="bilinear", align_corners=False)


class ExportedEmotionNet(nn.Module):
    """What ships: probabilities from the mean logits of a few views of each face.

    Views (test-time augmentation, chosen on PublicTest): the face; with ``flip_average`` its
    mirror image; with ``zoom_average`` also the slightly enlarged centre (and its mirror).
    With several networks (snapshots of one training, e.g. the end of each LR cycle) their
    logits are averaged too. All views of all faces run as one batch per network, so the cost
    is networks x views x one face.
    """

    def __init__(self, nets: EmotionNet | Sequence[EmotionNet], flip_average: bool, zoom_average: bool = False) -> None:
        super().__init__()
        members = [nets] if isinstance(nets, EmotionNet) else list(nets)
        if not members:
            raise ValueError("ExportedEmotionNet needs at least one network")
        self.members = nn.ModuleList(members)
        self.num_classes = members[0].cfg.num_classes
        self.flip_average = flip_average
        self.zoom_average = zoom_average

    @property
    def views(self) -> int:
        return view_count(self.flip_average, self.zoom_average)

    @torch.no_grad()
    def probabilities(self, x: torch.Tensor, batch: int = 512) -> torch.Tensor:
        """``(n, classes)``: what the shipped graph reads on each face of ``x`` ``(n, 1, 48, 48)``,
        ``batch`` faces a call."""
        return torch.cat([self(x[i:i + batch]) for i in range(0, len(x), batch)])

    def classes(self, x: torch.Tensor, batch: int = 512) -> np.ndarray:
        """``(n,)`` int64: the top class of each face of ``x`` ``(n, 1, 48, 48)``, ``batch`` faces a call."""
        return self.probabilities(x, batch).argmax(dim=1).numpy()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        views = [x, zoomed(x)] if self.zoom_average else [x]
        if self.flip_average:
            views += [torch.flip(v, dims=[3]) for v in views]
        if len(views) == 1 and len(self.members) == 1:
            return torch.softmax(self.members[0](x), dim=1)
        n = x.shape[0]
        batch = torch.cat(views, dim=0) if len(views) > 1 else x
        # Slices, not a reshape: ONNX Reshape reads a 0 in the target shape as "keep this
        # dimension", which breaks an empty batch (N = 0).
        parts = [out[i * n:(i + 1) * n] for out in (m(batch) for m in self.members) for i in range(len(views))]
        total = parts[0]
        for part in parts[1:]:
            total = total + part
        return torch.softmax(total / len(parts), dim=1)


def count_macs(net: nn.Module) -> int:
    """Multiply-accumulates of one 48x48 face through the convolutions and the head."""
    total = 0

    def hook(mod: nn.Module, _inp: tuple, out: torch.Tensor) -> None:
        nonlocal total
        if isinstance(mod, nn.Conv2d):
            k = mod.kernel_size[0] * mod.kernel_size[1]
            total += out[0].numel() * mod.in_channels // mod.groups * k
        elif isinstance(mod, nn.Linear):
            total += mod.in_features * mod.out_features

    handles = [m.register_forward_hook(hook) for m in net.modules()]
    was_training = net.training
    net.eval()
    with torch.no_grad():
        net(torch.zeros(1, 1, 48, 48))
    net.train(was_training)
    for h in handles:
        h.remove()
    return total
