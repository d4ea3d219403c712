"""Where the tiles go inside the app's stage: gallery, speaker + filmstrip, share + strip.

Galleries reuse ``tools.compose_gallery.grid_layout`` (equal 16:9 tiles, the unequal last
row centred); the others are the shapes Zoom, Teams and Meet use when someone speaks or
shares: one large area plus a row (top) or column (side) of small tiles.
"""

from __future__ import annotations

from dataclasses import dataclass

from tools.compose_gallery import grid_layout
from tools.screensim.truth import XYXY


@dataclass(frozen=True)
class Placement:
    """Tile boxes in screen pixels with their roles, and the shared-content box if any."""

    tiles: list[tuple[XYXY, str]]
    share_xyxy: XYXY | None = None


def gallery(stage: XYXY, rows: int, cols: int, n_tiles: int, gap_px: int, margin_px: int,
            aspect: float = 16 / 9) -> Placement:
    """``n_tiles`` (≤ rows·cols) equal tiles, the last row centred."""
    x0, y0, x1, y1 = stage
    boxes = grid_layout(rows, cols, (x1 - x0, y1 - y0), n_tiles=n_tiles, gap_px=gap_px,
                        margin_px=margin_px, aspect=aspect)
    return Placement([((a + x0, b + y0, c + x0, d + y0), "gallery") for a, b, c, d in boxes])


def _strip(area: XYXY, n: int, side: str, gap_px: int, thumb_frac: float) -> tuple[list[XYXY], XYXY]:
    """``n`` 16:9 thumbnails along the top or right of ``area``; the remaining main area."""
    x0, y0, x1, y1 = area
    w, h = x1 - x0, y1 - y0
    if side == "top":
        sh = max(36, int(h * thumb_frac))
        sw = int(sh * 16 / 9)
        n = max(1, min(n, (w + gap_px) // (sw + gap_px)))
        sx = x0 + (w - n * sw - (n - 1) * gap_px) // 2
        boxes = [(sx + i * (sw + gap_px), y0, sx + i * (sw + gap_px) + sw, y0 + sh) for i in range(n)]
        return boxes, (x0, y0 + sh + gap_px, x1, y1)
    sw = max(64, int(w * thumb_frac))
    sh = int(sw * 9 / 16)
    n = max(1, min(n, (h + gap_px) // (sh + gap_px)))
    sy = y0 + (h - n * sh - (n - 1) * gap_px) // 2
    boxes = [(x1 - sw, sy + i * (sh + gap_px), x1, sy + i * (sh + gap_px) + sh) for i in range(n)]
    return boxes, (x0, y0, x1 - sw - gap_px, y1)


def _fit_16_9(area: XYXY) -> XYXY:
    x0, y0, x1, y1 = area
    w, h = x1 - x0, y1 - y0
    bw = int(min(w, h * 16 / 9))
    bh = int(bw * 9 / 16)
    bx, by = x0 + (w - bw) // 2, y0 + (h - bh) // 2
    return (bx, by, bx + bw, by + bh)


def speaker(stage: XYXY, n_strip: int, side: str, gap_px: int, margin_px: int) -> Placement:
    """The speaker large (first tile), ``n_strip`` others in a filmstrip on ``side``."""
    x0, y0, x1, y1 = stage
    area = (x0 + margin_px, y0 + margin_px, x1 - margin_px, y1 - margin_px)
    strip, main = _strip(area, n_strip, side, gap_px, 0.16 if side == "top" else 0.15)
    return Placement([(_fit_16_9(main), "speaker")] + [(b, "strip") for b in strip])


def share(stage: XYXY, n_strip: int, side: str, gap_px: int, margin_px: int) -> Placement:
    """Shared content (a slide) large, ``n_strip`` small tiles (4-8 typical) on ``side``."""
    x0, y0, x1, y1 = stage
    area = (x0 + margin_px, y0 + margin_px, x1 - margin_px, y1 - margin_px)
    strip, main = _strip(area, n_strip, side, gap_px, 0.13 if side == "top" else 0.14)
    return Placement([(b, "strip") for b in strip], share_xyxy=_fit_16_9(main))
