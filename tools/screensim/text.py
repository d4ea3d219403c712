"""Text as the apps draw it: a real TrueType font (diacritics included), measured and cut.

OpenCV's Hershey fonts have no "ã" or "ł", and OCR tests need the real glyphs, so text goes
through Pillow with the DejaVu Sans that ships inside matplotlib (Pillow's built-in font when
matplotlib is absent). Only the text's own small region is converted, so drawing stays cheap.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from tools.screensim.truth import XYXY

ELLIPSIS = "…"

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@lru_cache(maxsize=64)
def font(size_px: int, bold: bool = False) -> Font:
    """DejaVu Sans (bold) at ``size_px``; Pillow's default font if it cannot be found."""
    try:
        import matplotlib

        name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
        path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name
        return ImageFont.truetype(str(path), max(6, int(size_px)))
    except (ImportError, OSError):
        return ImageFont.load_default()


def text_size(text: str, size_px: int, bold: bool = False) -> tuple[int, int]:
    """Width and height in pixels of ``text`` drawn at ``size_px``."""
    x0, y0, x1, y1 = font(size_px, bold).getbbox(text or " ")
    return int(x1 - min(x0, 0)), int(y1 - min(y0, 0))


def fit(text: str, size_px: int, max_w: int, bold: bool = False) -> str:
    """``text`` cut with "…" so it fits ``max_w`` pixels, as the apps cut long names."""
    if text_size(text, size_px, bold)[0] <= max_w:
        return text
    for n in range(len(text) - 1, 0, -1):
        cut = text[:n].rstrip() + ELLIPSIS
        if text_size(cut, size_px, bold)[0] <= max_w:
            return cut
    return ELLIPSIS


def draw_text(image: np.ndarray, xy: tuple[int, int], text: str, size_px: int,
              colour_bgr: tuple[int, int, int], bold: bool = False) -> XYXY:
    """Draw ``text`` with its top-left at ``xy`` into ``image`` (BGR, in place); its box."""
    w, h = text_size(text, size_px, bold)
    x0, y0 = int(xy[0]), int(xy[1])
    H, W = image.shape[:2]
    cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(W, x0 + w + 2), min(H, y0 + h + 2)
    if cx1 <= cx0 or cy1 <= cy0:
        return (x0, y0, x0, y0)
    region = Image.fromarray(np.ascontiguousarray(image[cy0:cy1, cx0:cx1, ::-1]))
    ImageDraw.Draw(region).text((x0 - cx0, y0 - cy0), text, font=font(size_px, bold),
                                fill=tuple(int(c) for c in colour_bgr[::-1]))
    image[cy0:cy1, cx0:cx1] = np.asarray(region)[:, :, ::-1]
    return (cx0, cy0, cx1, cy1)
