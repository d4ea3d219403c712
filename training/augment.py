"""Batch augmentation on tensors: cheap enough to run on the training device itself."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random mirror, rotation/scale/shift, brightness/contrast and erasing.

    ``x``: ``(n, 1, 48, 48)`` in 0..1. Webcam faces arrive mirrored, tilted, off-centre and
    under any light, so the network must not care about those.
    """
    n, dev = x.shape[0], x.device

    def u(lo: float, hi: float) -> torch.Tensor:
        return (torch.rand(n, generator=gen) * (hi - lo) + lo).to(dev)

    angle = u(-15, 15) * math.pi / 180
    scale = u(0.85, 1.15)
    flip = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0).to(dev)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos * flip, -sin, u(-0.1, 0.1)], 1),
                         torch.stack([sin * flip, cos, u(-0.1, 0.1)], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)

    contrast = u(0.7, 1.3).view(n, 1, 1, 1)
    brightness = u(-0.15, 0.15).view(n, 1, 1, 1)
    mean = x.mean(dim=(2, 3), keepdim=True)
    x = ((x - mean) * contrast + mean + brightness).clamp(0, 1)

    # Random erasing: a grey box over a quarter of the faces (hands, glasses, occlusions).
    erase = (torch.rand(n, generator=gen) < 0.25).to(dev)
    if erase.any():
        s = 48
        h = (u(0.15, 0.4) * s).long()
        w = (u(0.15, 0.4) * s).long()
        top = (u(0, 1) * (s - h)).long()
        left = (u(0, 1) * (s - w)).long()
        rows = torch.arange(s, device=dev).view(1, s, 1)
        cols = torch.arange(s, device=dev).view(1, 1, s)
        box = ((rows >= top.view(n, 1, 1)) & (rows < (top + h).view(n, 1, 1))
               & (cols >= left.view(n, 1, 1)) & (cols < (left + w).view(n, 1, 1)) & erase.view(n, 1, 1))
        x = torch.where(box.unsqueeze(1), u(0, 1).view(n, 1, 1, 1), x)
    return x
