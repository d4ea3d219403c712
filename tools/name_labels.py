"""Render realistic display-name labels on video-call tiles (Zoom, Teams, Meet, camera off), with ground truth.

The name reader (``bot.names``) is developed and tested on these, and the screen simulator can
draw its names with them. Text is drawn by Qt (PyQt5, offscreen) with real, anti-aliased
fonts, as the apps draw it; ``cv2.putText`` only has Hershey stroke fonts, which look like no
meeting app. The fonts are matplotlib's bundled DejaVu Sans family (present wherever the
project installs, so tests render the same everywhere) plus, for benchmarks, whatever
sans-serif families the system has (``system_fonts=True``: Lato, Liberation Sans, Roboto,
Open Sans... when installed).

Styles, as the apps draw them in 2024-2026 (sizes at 100 % display scale):

- ``zoom``: white text on a dark translucent box in the tile's bottom-left corner,
  optionally after a red muted-microphone mark.
- ``teams``: white text straight on the video in the bottom-left, with a soft shadow.
- ``meet``: white text on the video in the bottom-left, with a shadow.
- ``camera_off``: a dark tile with the name large in the middle (Zoom); Teams and Meet draw
  an avatar circle with initials there instead, which ``camera_off_avatar`` renders (the name
  then sits bottom-left as in ``teams``).

A name wider than the tile is elided with "…" (as the apps do); the truth is the text as shown.

    with_label = render_tile("Ana Souza", style="zoom", size_wh=(384, 216), font_px=13, seed=1)
    with_label.image        # (216, 384, 3) BGR uint8
    with_label.text         # "Ana Souza" (elided if it did not fit)
    with_label.label_xyxy   # where the text is, tile pixels
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

STYLES = ("zoom", "teams", "meet", "camera_off", "camera_off_avatar")

# Display names as people type them: diacritics, student numbers, underscores, brackets,
# dots, hyphens, apostrophes; long ones get elided by the renderer.
_FIRST = ("Ana", "João", "Zoë", "Mateus", "Chloé", "Søren", "Łukasz", "Thu Trang", "Fatima", "Omar", "Priya",
          "Kwame", "Björn", "Inês", "François", "Aisha", "Mikołaj", "José", "Émilie", "Wei", "Yusuf",
          "Sofía", "Dvořák", "Ngozi", "Maximilian", "Lea", "Tomás", "Ayşe", "Giulia", "Ravi", "Hana",
          "Ólafur", "Jürgen", "Camila", "Sven", "Anaïs", "Luca", "Małgorzata", "Hiroshi", "Ines")
_LAST = ("Souza Ferreira", "Müller", "García", "O'Brien", "Nakamura", "Kowalski", "Dubois", "Okafor",
         "Haddad", "Lindqvist", "Petrović", "Çelik", "Rodríguez-López", "van der Berg", "Nørgaard",
         "Smith", "Ahmed", "Şahin", "Novák", "Fernandes", "Kim", "Jensen", "Ferrari", "Białek", "Brown")


def sample_names(count: int, seed: int = 0) -> list[str]:
    """``count`` plausible display names (deterministic from ``seed``), in every pattern the issue lists."""
    rng = np.random.default_rng(seed)
    names: list[str] = []
    for _ in range(count):
        first = str(rng.choice(_FIRST))
        last = str(rng.choice(_LAST))
        kind = int(rng.integers(0, 10))
        if kind <= 2:
            name = f"{first} {last}"
        elif kind == 3:
            name = f"{int(rng.integers(2019, 2027))}{int(rng.integers(0, 10**4)):04d}_{first} {last[0]}. {last}"
        elif kind == 4:
            name = f"[{rng.choice(['TA', 'Host', 'Prof', 'Guest'])}] {first}"
        elif kind == 5:
            name = f"{first} {last[0]}."
        elif kind == 6:
            name = f"{first.lower()}_{last.split()[0].lower()}{int(rng.integers(1, 100))}"
        elif kind == 7:
            name = f"{first} ({rng.choice(['she/her', 'he/him', 'they/them'])})"
        elif kind == 8:
            name = first
        else:
            name = f"{last.split()[0].upper()} {first}"
        names.append(name)
    return names


# Given names of one to three letters, which people also use alone as their display name; their
# labels are only a few glyphs wide, which is where a label finder that expects a long line fails.
_SHORT = ("Li", "Bo", "Jo", "Ed", "Yu", "Xu", "Al", "Ty", "Om", "Su", "Wei", "Ana", "Lea", "Kim", "Max", "Tom",
          "Ida", "Eli", "Noa", "Ali", "Zoë", "Ivy", "Ben", "Amy", "Raj", "Leo", "Mia", "Ola", "Ugo", "Åsa")


def name_words() -> set[str]:
    """Every word the names of ``sample_names`` and ``short_names`` are made of (a name trainer
    leaves these out, so that a benchmark on these names is one on names never trained on)."""
    return {w for text in (*_FIRST, *_LAST, *_SHORT) for w in re.split(r"[\s'-]+", text) if w}


def short_names(count: int, seed: int = 0) -> list[str]:
    """``count`` one- to three-letter display names (deterministic from ``seed``)."""
    rng = np.random.default_rng(seed)
    return [str(rng.choice(_SHORT)) for _ in range(count)]


@dataclass(frozen=True)
class RenderedTile:
    """One tile with a name on it: ``image`` ``(h, w, 3)`` BGR uint8, the ``text`` as shown, its box."""

    image: np.ndarray
    text: str
    label_xyxy: tuple[int, int, int, int]
    style: str
    font_family: str
    font_px: int


_APP: list[object] = []  # holds the QApplication: Qt crashes if Python collects it while fonts are in use


def _qt_ready() -> None:
    """Make sure a Qt application exists (offscreen unless one was already made) and fonts are loaded."""
    if not _APP:
        from overlay.qt_env import qt_application

        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        _APP.append(qt_application())
    _load_bundled_fonts()


@lru_cache(maxsize=1)
def _load_bundled_fonts() -> tuple[str, ...]:
    """Register matplotlib's DejaVu Sans files with Qt; returns the family names Qt gives them."""
    import matplotlib
    from PyQt5.QtGui import QFontDatabase

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    families: list[str] = []
    for file in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        font_id = QFontDatabase.addApplicationFont(str(folder / file))
        if font_id >= 0:
            families.extend(QFontDatabase.applicationFontFamilies(font_id))
    return tuple(dict.fromkeys(families))


_SYSTEM_SANS = ("Lato", "Liberation Sans", "Roboto", "Open Sans", "DejaVu Sans Condensed", "Noto Sans",
                "Segoe UI", "Helvetica Neue", "Arial")


def font_families(system_fonts: bool = False) -> list[str]:
    """The families ``render_tile`` may use: the bundled DejaVu Sans, plus installed sans-serifs if asked."""
    _qt_ready()
    families = ["DejaVu Sans"]
    if system_fonts:
        families += [f for f in _SYSTEM_SANS if font_installed(f)]
    return families


def _background(rng: np.random.Generator, w: int, h: int, kind: str) -> np.ndarray:
    """A webcam-like backdrop: smooth colour fields, a head-and-shoulders blob, sensor noise."""
    if kind == "camera_off":
        grey = int(rng.integers(26, 60))
        return np.full((h, w, 3), grey, np.uint8)
    coarse = rng.integers(0, 256, (3, 4, 3)).astype(np.float32)
    scale = rng.uniform(0.35, 1.1)
    img = cv2.resize(coarse * scale, (w, h), interpolation=cv2.INTER_CUBIC)
    # a person: shoulders and a head in skin/clothes tones
    cx = int(w * rng.uniform(0.35, 0.65))
    cloth = rng.integers(0, 256, 3).tolist()
    cv2.ellipse(img, (cx, h), (int(w * 0.28), int(h * 0.38)), 0, 180, 360, cloth, -1)
    skin = [float(v) for v in rng.choice([[90, 120, 170], [60, 90, 140], [140, 170, 220], [40, 60, 100]])]
    cv2.ellipse(img, (cx, int(h * 0.45)), (int(h * 0.17), int(h * 0.23)), 0, 0, 360, skin, -1)
    if rng.random() < 0.4:  # a bright window or wall behind: the hard case for white text
        x0 = int(rng.integers(0, w // 2))
        cv2.rectangle(img, (x0, 0), (x0 + int(w * rng.uniform(0.2, 0.6)), h), [float(rng.uniform(200, 250))] * 3, -1)
    img = cv2.GaussianBlur(img, (0, 0), 1.2)
    img += rng.normal(0, 4, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def font_installed(family: str) -> bool:
    """Whether Qt has the font ``family`` (installed on the system or bundled)."""
    _qt_ready()
    from PyQt5.QtGui import QFontDatabase

    return family in set(QFontDatabase().families())


def render_tile(name: str, *, style: str = "zoom", size_wh: tuple[int, int] = (384, 216), font_px: int = 13,
                font_family: str = "DejaVu Sans", bold: bool | None = None, muted_icon: bool | None = None,
                jpeg_quality: int | None = 80, seed: int = 0) -> RenderedTile:
    """One tile of ``style`` showing ``name`` at ``font_px`` pixels (cap height + descender, Qt's pixel size).

    ``bold``/``muted_icon`` None choose by style (Zoom draws a mic mark and regular weight;
    Meet and Teams semi-bold). ``jpeg_quality`` None keeps the pixels lossless; a number runs
    the tile through JPEG at that quality (screen codecs and screenshots blur text like that).
    """
    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}, got {style!r}")
    _qt_ready()
    from PyQt5.QtCore import QRect, Qt
    from PyQt5.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter

    rng = np.random.default_rng(seed)
    w, h = size_wh
    bg = _background(rng, w, h, "camera_off" if style.startswith("camera_off") else "video")
    rgb = np.ascontiguousarray(bg[:, :, ::-1])
    qimg = QImage(rgb.data, w, h, 3 * w, QImage.Format_RGB888).convertToFormat(QImage.Format_ARGB32)

    font = QFont(font_family)
    font.setPixelSize(font_px if style != "camera_off" else max(font_px, int(h * rng.uniform(0.09, 0.14))))
    if bold is None:
        bold = style in ("meet", "teams") and rng.random() < 0.5
    font.setWeight(QFont.DemiBold if bold else QFont.Normal)
    font.setHintingPreference(QFont.PreferNoHinting if rng.random() < 0.5 else QFont.PreferDefaultHinting)
    metrics = QFontMetrics(font)
    margin = int(rng.integers(4, 9))
    icon_w = 0
    if muted_icon is None:
        muted_icon = style == "zoom" and rng.random() < 0.4
    if muted_icon:
        icon_w = metrics.height()
    max_text_w = (w - 2 * margin - icon_w - 12) if style != "camera_off" else int(w * 0.9)
    shown = metrics.elidedText(name, Qt.ElideRight, max_text_w)
    text_w, text_h = metrics.horizontalAdvance(shown), metrics.height()

    painter = QPainter(qimg)
    painter.setRenderHint(QPainter.Antialiasing)
    painter.setRenderHint(QPainter.TextAntialiasing)
    painter.setFont(font)
    if style == "camera_off":
        x = (w - text_w) // 2
        y = (h - text_h) // 2
    else:
        if style == "camera_off_avatar":
            r = int(h * 0.2)
            colour = QColor(*[int(v) for v in rng.integers(60, 200, 3)])
            painter.setBrush(colour)
            painter.setPen(Qt.NoPen)
            painter.drawEllipse(w // 2 - r, h // 2 - r, 2 * r, 2 * r)
            initials = "".join(p[0] for p in name.split()[:2] if p).upper() or "?"
            big = QFont(font_family)
            big.setPixelSize(int(r * 0.8))
            painter.setFont(big)
            painter.setPen(QColor(255, 255, 255))
            painter.drawText(QRect(w // 2 - r, h // 2 - r, 2 * r, 2 * r), Qt.AlignCenter, initials)
            painter.setFont(font)
        pad = int(rng.integers(3, 7)) if style == "zoom" else 0
        x = margin + pad + icon_w
        y = h - margin - pad - text_h
        if style == "zoom":
            box = QRect(margin, y - pad, icon_w + text_w + 2 * pad + 2, text_h + 2 * pad)
            painter.setPen(Qt.NoPen)
            painter.setBrush(QColor(0, 0, 0, int(rng.integers(110, 200))))
            painter.drawRoundedRect(box, 3, 3)
            if muted_icon:
                painter.setBrush(QColor(230, 40, 40))
                painter.drawRect(QRect(margin + pad, y + text_h // 5, icon_w * 2 // 5, text_h * 3 // 5))
    if style in ("teams", "meet", "camera_off_avatar"):
        painter.setPen(QColor(0, 0, 0, 150))  # the soft shadow the apps put under text on video
        painter.drawText(x + 1, y + 1 + metrics.ascent(), shown)
    painter.setPen(QColor(255, 255, 255) if rng.random() < 0.85 else QColor(235, 235, 235))
    painter.drawText(x, y + metrics.ascent(), shown)
    painter.end()

    ptr = qimg.constBits()
    ptr.setsize(h * qimg.bytesPerLine())
    argb = np.frombuffer(ptr, np.uint8).reshape(h, qimg.bytesPerLine() // 4, 4)[:, :w]
    out = np.ascontiguousarray(argb[:, :, :3])  # Qt's ARGB32 is B, G, R, A in memory on little endian
    if jpeg_quality is not None:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)])
        if ok:
            out = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    label = (int(x), int(y), int(x + text_w), int(y + text_h))
    return RenderedTile(image=out, text=shown, label_xyxy=label, style=style, font_family=font_family,
                        font_px=font_px)


@dataclass(frozen=True)
class RenderedGallery:
    """A gallery frame of rendered tiles: ``image`` BGR, ``tiles_xyxy`` ``(n, 4)`` int32, ``texts`` as shown."""

    image: np.ndarray
    tiles_xyxy: np.ndarray
    texts: list[str | None]


def render_gallery(names: Sequence[str | None], *, grid: tuple[int, int] = (5, 5),
                   size_wh: tuple[int, int] = (1920, 1080), style: str = "zoom", font_px: int = 13,
                   font_family: str | Sequence[str] = "DejaVu Sans", gap_px: int = 6,
                   jpeg_quality: int | None = 85, seed: int = 0) -> RenderedGallery:
    """A ``grid`` (cols, rows) gallery; tile i shows ``names[i]`` (None: a tile with no label).

    ``font_family`` may be a list: tile i uses ``font_family[i % len]``. Tiles are rendered
    losslessly and the whole frame is JPEG-compressed once (``jpeg_quality``; None keeps it
    lossless), as a screen capture of a compressed stream would be.
    """
    families = [font_family] if isinstance(font_family, str) else list(font_family)
    cols, rows = grid
    w, h = size_wh
    frame = np.full((h, w, 3), 26, np.uint8)
    tile_w = (w - gap_px * (cols + 1)) // cols
    tile_h = min((h - gap_px * (rows + 1)) // rows, tile_w * 9 // 16)
    top = (h - rows * tile_h - gap_px * (rows - 1)) // 2
    boxes: list[tuple[int, int, int, int]] = []
    texts: list[str | None] = []
    for i, name in enumerate(names[: cols * rows]):
        r, c = divmod(i, cols)
        x0 = gap_px + c * (tile_w + gap_px)
        y0 = top + r * (tile_h + gap_px)
        if name is None:
            tile = _background(np.random.default_rng(seed * 1000 + i), tile_w, tile_h, "video")
            texts.append(None)
        else:
            rendered = render_tile(name, style=style, size_wh=(tile_w, tile_h), font_px=font_px,
                                   font_family=families[i % len(families)], jpeg_quality=None,
                                   seed=seed * 1000 + i)
            tile = rendered.image
            texts.append(rendered.text)
        frame[y0:y0 + tile_h, x0:x0 + tile_w] = tile
        boxes.append((x0, y0, x0 + tile_w, y0 + tile_h))
    if jpeg_quality is not None:
        ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)])
        if ok:
            frame = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return RenderedGallery(image=frame, tiles_xyxy=np.array(boxes, np.int32).reshape(-1, 4), texts=texts)
