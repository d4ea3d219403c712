"""Text contrast measured on rendered pixels (WCAG 2), shared by the offscreen and Xvfb tests.

A widget is rendered with ``QWidget.grab()``; in the crop of one text widget the background is
the most common colour and the text colour the one farthest from it in contrast, ignoring the
``MIN_TEXT_PX`` farthest pixels (a stray border or icon pixel is not the text).
"""

from __future__ import annotations

import numpy as np

MIN_TEXT_PX = 6
WCAG_AA = 4.5


def luminance(rgb: np.ndarray) -> np.ndarray:
    """Relative luminance of ``(..., 3)`` sRGB 0..255."""
    c = np.asarray(rgb, np.float64) / 255
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return np.asarray(lin @ np.array([0.2126, 0.7152, 0.0722]))


def text_contrast(crop_rgb: np.ndarray) -> tuple[float, tuple[int, ...], tuple[int, ...]]:
    """``(ratio, background rgb, text rgb)`` of the text in ``crop_rgb`` ``(h, w, 3)`` uint8."""
    px = crop_rgb.reshape(-1, 3)
    colours, counts = np.unique(px, axis=0, return_counts=True)
    bg = colours[counts.argmax()]
    lum, lum_bg = luminance(colours), float(luminance(bg))
    ratio = (np.maximum(lum, lum_bg) + 0.05) / (np.minimum(lum, lum_bg) + 0.05)
    order = np.argsort(-ratio)
    k = int(np.searchsorted(np.cumsum(counts[order]), MIN_TEXT_PX))
    k = min(k, len(order) - 1)
    return float(ratio[order[k]]), tuple(int(v) for v in bg), tuple(int(v) for v in colours[order[k]])


def grab_rgb(widget: object, over_rgb: tuple[int, int, int] = (255, 255, 255)) -> np.ndarray:
    """``widget.grab()`` as ``(h, w, 3)`` uint8 RGB, translucent parts composited over ``over_rgb``."""
    from PyQt5.QtGui import QImage

    image = widget.grab().toImage().convertToFormat(QImage.Format_RGBA8888)  # type: ignore[attr-defined]
    w, h = image.width(), image.height()
    ptr = image.constBits()
    ptr.setsize(image.bytesPerLine() * h)
    rgba = np.frombuffer(ptr, np.uint8).reshape(h, image.bytesPerLine() // 4, 4)[:, :w].astype(np.float64)
    a = rgba[:, :, 3:] / 255
    return np.round(rgba[:, :, :3] * a + np.array(over_rgb, np.float64) * (1 - a)).astype(np.uint8)


def text_widgets_contrast(window: object, over_rgb: tuple[int, int, int] = (255, 255, 255)) -> list[dict]:
    """Every visible label, button, field and combo box with text in ``window``: its contrast as rendered."""
    from PyQt5.QtCore import QPoint
    from PyQt5.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QLabel, QLineEdit

    image = grab_rgb(window, over_rgb)
    ratio_px = image.shape[1] / window.width()  # type: ignore[attr-defined]
    out = []
    for kind in (QLabel, QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit):
        for child in window.findChildren(kind):  # type: ignore[attr-defined]
            text = child.currentText() if isinstance(child, QComboBox) else \
                child.text() if hasattr(child, "text") else ""
            if not text or child.window() is not window or not child.isVisibleTo(window) or child.width() < 4:
                continue
            top_left = child.mapTo(window, QPoint(0, 0))
            x, y = round(top_left.x() * ratio_px), round(top_left.y() * ratio_px)
            crop = image[y:y + round(child.height() * ratio_px), x:x + round(child.width() * ratio_px)]
            if crop.size == 0:
                raise AssertionError(f"{type(child).__name__} {text[:40]!r} at {x},{y} is outside the rendered window")
            ratio, bg, fg = text_contrast(crop)
            out.append({"widget": type(child).__name__, "text": text[:40], "ratio": round(ratio, 2),
                        "bg": bg, "fg": fg})
    return out
