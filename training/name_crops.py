"""Name labels cut from rendered galleries the way the product cuts them, with the text shown.

Galleries of made-up names (``training.name_corpus``) are drawn by the screen simulator's label
renderer (``tools.name_labels``: Zoom, Teams, Meet and camera-off styles over webcam-like
backdrops) at random grids, screen sizes, text sizes, fonts and compression; each frame is read
by the product's own ``bot.names.NameReader``, and each tile's label crop, the box the reader
took its name from, is kept with the text the tile shows. A crop whose read is far from that
text (the reader took an avatar's initials, or cut the label) is dropped: the pair would teach
the wrong thing.

Fonts are split: ``TRAIN_FONTS`` are drawn here; ``HELD_OUT_FONTS`` (three of the families
``bench.names`` uses) never are, so the benchmark shows what fine-tuning does on type it never saw.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from bot.names import NameReader
from models.text_reader import OnnxTextReader
from tools.name_labels import STYLES, font_installed, render_gallery
from training.name_corpus import NameMaker

TRAIN_FONTS = ("DejaVu Sans", "Lato", "Lato Light", "Lato Medium", "Lato Semibold", "Roboto", "Roboto Light",
               "Roboto Medium", "Roboto Condensed", "NanumGothic", "NanumBarunGothic", "NanumSquare",
               "NanumSquareRound")
HELD_OUT_FONTS = ("Liberation Sans", "Open Sans", "DejaVu Sans Condensed")
# Where TRAIN_FONTS come from on Debian/Ubuntu (DejaVu Sans ships with the project).
TRAIN_FONT_PACKAGES = ("fonts-lato", "fonts-roboto", "fonts-nanum")
GRIDS = ((3, 3), (4, 3), (4, 4), (5, 4), (5, 5), (6, 5), (6, 6), (7, 7))
SCREENS_WH = ((1280, 720), (1920, 1080), (1920, 1080), (2560, 1440))
TEXT_PX = (9, 17)  # label text heights drawn, inclusive
LOSSLESS_SHARE = 0.3  # frames kept lossless (a live capture); the rest JPEG as a shared or saved screen
JPEG_QUALITY = (55, 95)
MIN_READ_SIMILARITY = 0.6  # difflib ratio of the reader's text to the truth, casefolded


@dataclass(frozen=True)
class LabelCrop:
    """One name label as the product cuts it: ``image`` BGR uint8, the ``text`` shown, how drawn."""

    image: np.ndarray
    text: str
    read: str  # what the reader made of it, before any fine-tuning
    style: str
    font: str
    px: int
    jpeg: int  # quality, 0 for lossless


def similar(truth: str, read: str) -> float:
    """How alike two texts are, 0..1 (difflib's ratio, casefolded)."""
    return difflib.SequenceMatcher(None, truth.casefold(), read.casefold()).ratio()


def gallery_crops(reader: OnnxTextReader, maker: NameMaker, rng: np.random.Generator) -> list[LabelCrop]:
    """The label crops of one random rendered gallery."""
    cols, rows = GRIDS[int(rng.integers(len(GRIDS)))]
    size_wh = SCREENS_WH[int(rng.integers(len(SCREENS_WH)))]
    style = STYLES[int(rng.integers(len(STYLES)))]
    px = int(rng.integers(TEXT_PX[0], TEXT_PX[1] + 1))
    jpeg = 0 if rng.random() < LOSSLESS_SHARE else int(rng.integers(JPEG_QUALITY[0], JPEG_QUALITY[1] + 1))
    order = [TRAIN_FONTS[int(i)] for i in rng.permutation(len(TRAIN_FONTS))]
    gallery = render_gallery(maker.names(cols * rows), grid=(cols, rows), size_wh=size_wh, style=style, font_px=px,
                             font_family=order, jpeg_quality=jpeg or None, seed=int(rng.integers(1 << 30)))
    result = NameReader(reader, min_confidence=0.0).read(gallery.image, gallery.tiles_xyxy)
    crops = []
    for i, truth in enumerate(gallery.texts):
        x0, y0, x1, y1 = (int(v) for v in result.label_xyxy[i])
        read = result.names[i] or ""
        if truth is None or x0 < 0 or x1 - x0 < 4 or y1 - y0 < 4 or similar(truth, read) < MIN_READ_SIMILARITY:
            continue
        crops.append(LabelCrop(gallery.image[y0:y1, x0:x1].copy(), truth, read, style, order[i % len(order)], px,
                               jpeg))
    return crops


def missing_train_fonts() -> list[str]:
    """The ``TRAIN_FONTS`` families Qt does not have. Qt draws a missing family in a fallback
    font without a word, so crops cut without them would all be in a few typefaces (a run
    rendered without Lato and Roboto did)."""
    return [family for family in TRAIN_FONTS if not font_installed(family)]


def fonts_refusal() -> str | None:
    """One line saying which training fonts are missing and how to install them, or None when all are there."""
    missing = missing_train_fonts()
    if not missing:
        return None
    return (f"training fonts not installed: {', '.join(missing)} (Debian/Ubuntu: apt-get install "
            f"{' '.join(TRAIN_FONT_PACKAGES)}); crops would be drawn in a fallback font")


def label_crops(reader: OnnxTextReader, maker: NameMaker, seed: int, galleries: int) -> Iterator[LabelCrop]:
    """The crops of ``galleries`` random galleries, deterministic from ``seed``."""
    rng = np.random.default_rng(seed)
    for _ in range(galleries):
        yield from gallery_crops(reader, maker, rng)
