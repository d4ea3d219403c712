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
        return (torch.rand(n, generator=gen, device=gen.device) * (hi - lo) + lo).to(dev)

    angle = u(-15, 15) * math.pi / 180
    scale = u(0.85, 1.15)
    flip = torch.where(torch.rand(n, generator=gen, device=gen.device) < 0.5, -1.0, 1.0).to(dev)
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
    erase = (torch.rand(n, generator=gen, device=gen.device) < 0.25).to(dev)
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


# ---------------------------------------------------------------------------- webcam degradations
#
# What a gallery tile does to a face before the model sees it, measured on the end-to-end proxy
# (training.proxy, PublicTest): the pipeline's crop is 1.0 +- 0.19 times FER2013's framing, its
# centre within +- 0.06 crop sides of FER2013's (bot.classify.face_crops); faces are 60-200 px on screen
# in 3x3..6x6 galleries and smaller in strips; streams are JPEG/H.264 at quality 30-70, often
# sent below the tile's resolution; rooms are dim or backlit; hands and masks cover mouths.

# JPEG's standard luminance quantisation table (ITU T.81, Annex K), quality 50.
_JPEG_Q50 = torch.tensor([
    [16, 11, 10, 16, 24, 40, 51, 61], [12, 12, 14, 19, 26, 58, 60, 55],
    [14, 13, 16, 24, 40, 57, 69, 56], [14, 17, 22, 29, 51, 87, 80, 62],
    [18, 22, 37, 56, 68, 109, 103, 77], [24, 35, 55, 64, 81, 104, 113, 92],
    [49, 64, 78, 87, 103, 121, 120, 101], [72, 92, 95, 98, 112, 100, 103, 99]], dtype=torch.float32)


def _dct_matrix(n: int = 8) -> torch.Tensor:
    k = torch.arange(n, dtype=torch.float32)
    m = torch.cos(math.pi * (2 * k[None, :] + 1) * k[:, None] / (2 * n)) * math.sqrt(2 / n)
    m[0] /= math.sqrt(2)
    return m


_DCT8 = _dct_matrix()


def jpeg_like(x: torch.Tensor, quality: torch.Tensor) -> torch.Tensor:
    """JPEG's lossy step on grey images: 8x8 block DCT, quantised with the standard luminance
    table scaled for ``quality`` ``(n,)`` (1..100, per image), and back.

    ``x`` ``(n, 1, h, w)`` in 0..1 with ``h`` and ``w`` multiples of 8. No chroma (the model
    sees grey) and no entropy coding (lossless); this is the part that makes blocks and rings.
    """
    n, _, h, w = x.shape
    if h % 8 or w % 8:
        raise ValueError(f"jpeg_like needs sides that are multiples of 8, got {h}x{w}")
    d = _DCT8.to(x.device)
    q = quality.to(x.device).float().clamp(1, 100)
    scale = torch.where(q < 50, 5000 / q, 200 - 2 * q).view(n, 1, 1, 1, 1)
    table = ((_JPEG_Q50.to(x.device) * scale + 50) / 100).floor().clamp(min=1)
    blocks = (x * 255 - 128).view(n, h // 8, 8, w // 8, 8).permute(0, 1, 3, 2, 4)  # (n, h/8, w/8, 8, 8)
    coef = d @ blocks @ d.T
    coef = torch.round(coef / table) * table
    out = (d.T @ coef @ d).permute(0, 1, 3, 2, 4).reshape(n, 1, h, w)
    return ((out + 128) / 255).clamp(0, 1)


def _gaussian_blur(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Per-image Gaussian blur, ``sigma`` ``(n,)`` in pixels (0 leaves the image as it is)."""
    n, _, h, w = x.shape
    r = 3
    t = torch.arange(-r, r + 1, dtype=x.dtype, device=x.device)
    s = sigma.to(x.device).clamp(min=1e-3).view(n, 1)
    k = torch.exp(-0.5 * (t[None, :] / s) ** 2)
    k = k / k.sum(dim=1, keepdim=True)  # (n, 7); sigma ~0 gives a delta
    xp = F.pad(x.view(1, n, h, w), (r, r, r, r), mode="replicate")
    xp = F.conv2d(xp, k.view(n, 1, 1, 2 * r + 1), groups=n)
    xp = F.conv2d(xp, k.view(n, 1, 2 * r + 1, 1), groups=n)
    return xp.view(n, 1, h, w)


def _through_screen(x: torch.Tensor, face_px: int, quality: torch.Tensor) -> torch.Tensor:
    """The face shown ``face_px`` wide (the stream's size on screen), JPEG-coded there, then read
    back to 48x48 as the pipeline does (area-like shrink, cubic growth)."""
    side = x.shape[-1]
    px = max(8, int(round(face_px / 8)) * 8)
    big = F.interpolate(x, size=(px, px), mode="bicubic", align_corners=False, antialias=px < side).clamp(0, 1)
    big = jpeg_like(big, quality)
    return F.interpolate(big, size=(side, side), mode="bilinear" if px > side else "bicubic",
                         align_corners=False, antialias=px > side).clamp(0, 1)


def webcam(x: torch.Tensor, gen: torch.Generator, p: float = 0.6) -> torch.Tensor:
    """Gallery-tile degradations on a random share ``p`` of the faces ``(n, 1, 48, 48)`` in 0..1.

    Per chosen face: detector-box jitter (scale and shift as measured on the proxy), low light
    (dark, flat; 20 %) or backlight (dark face, bright surround; 15 %), sensor noise, lens or
    motion blur (50 %), a lower-face occluder (hand or mask; 15 %), then the screen: the face
    shown at one size per batch, log-uniform 28-144 px (small faces are up-scaled by the
    pipeline, large ones shrunk), JPEG at quality 25-75 at that size, and read back to 48x48.
    Faces not chosen are returned unchanged.
    """
    n, dev = x.shape[0], x.device
    if n == 0 or p <= 0:
        return x

    def u(lo: float, hi: float) -> torch.Tensor:
        return (torch.rand(n, generator=gen, device=gen.device) * (hi - lo) + lo).to(dev)

    chosen = (torch.rand(n, generator=gen, device=gen.device) < p).to(dev).view(n, 1, 1, 1)
    y = x
    # Box jitter around FER2013's framing, as wide as the proxy measured BlazeFace's box to wander
    # (crop 1.0 +- 0.19 of that framing, centre +- 0.06 crop sides): bot.classify.face_crops
    # places its square where FER2013's framing is on average (before it did, the pipeline's crop
    # was 1.05x that framing and 0.07 crop sides low, and this jitter was centred there).
    crop = u(0.8, 1.25)
    theta = torch.zeros(n, 2, 3, device=dev)
    theta[:, 0, 0] = crop
    theta[:, 1, 1] = crop
    theta[:, 0, 2] = u(-0.12, 0.12) * 2
    theta[:, 1, 2] = u(-0.11, 0.11) * 2
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    y = F.grid_sample(y, grid, mode="bilinear", padding_mode="border", align_corners=False)

    light = torch.rand(n, generator=gen, device=gen.device).to(dev).view(n, 1, 1, 1)
    dark = (y * u(0.35, 0.7).view(n, 1, 1, 1) + u(0.0, 0.04).view(n, 1, 1, 1)) ** u(0.9, 1.3).view(n, 1, 1, 1)
    rows = torch.linspace(-1, 1, 48, device=dev).view(1, 1, 48, 1)
    cols = torch.linspace(-1, 1, 48, device=dev).view(1, 1, 1, 48)
    person = torch.sigmoid((1 - (cols / 0.75) ** 2 - ((rows - 0.1) / 0.9) ** 2) * 6)
    back = person * y * u(0.45, 0.7).view(n, 1, 1, 1) + (1 - person) * (y * 0.5 + 0.5)
    y = torch.where(light < 0.2, dark, torch.where(light < 0.35, back, y)).clamp(0, 1)

    noise = torch.randn(y.shape, generator=gen, device=gen.device).to(dev)
    y = (y + noise * u(0.0, 0.025).view(n, 1, 1, 1)).clamp(0, 1)
    blurred = (torch.rand(n, generator=gen, device=gen.device) < 0.5).to(dev)
    y = _gaussian_blur(y, torch.where(blurred, u(0.3, 1.0), torch.zeros(n, device=dev)))

    # Lower-face occluder: a flat, slightly textured patch from the mouth or nose down.
    occ = (torch.rand(n, generator=gen, device=gen.device) < 0.15).to(dev).view(n, 1, 1)
    top = (u(28, 36)).long().view(n, 1, 1)
    left = (u(4, 14)).long().view(n, 1, 1)
    right = (u(34, 44)).long().view(n, 1, 1)
    r = torch.arange(48, device=dev).view(1, 48, 1)
    c = torch.arange(48, device=dev).view(1, 1, 48)
    box = (occ & (r >= top) & (c >= left) & (c < right)).unsqueeze(1)
    patch = u(0.2, 0.95).view(n, 1, 1, 1) + torch.randn(y.shape, generator=gen, device=gen.device).to(dev) * 0.02
    y = torch.where(box, patch.clamp(0, 1), y)

    # Log-uniform 28..144 px: as many faces below 64 px (strips, 6x6 galleries) as above.
    face_px = int(math.exp(math.log(28) + float(torch.rand(1, generator=gen, device=gen.device)) * math.log(144 / 28)))
    y = _through_screen(y, face_px, u(25, 75))
    return torch.where(chosen, y, x)
