"""The two painted parts of the overlay: the class mood bar and the trend line.

Both are created once and only take new data (``set_distribution`` / ``set_points``); they
repaint when the overlay's throttle timer calls ``update()``, never once per frame.
"""

from __future__ import annotations

from collections.abc import Sequence

from PyQt5.QtCore import QPointF, QRectF, QSize, Qt
from PyQt5.QtGui import QColor, QFont, QPainter, QPainterPath, QPaintEvent, QPen
from PyQt5.QtWidgets import QSizePolicy, QWidget

from overlay.badge_layout import EMOTION_RGB
from vocab.labels import EMOTIONS

TEXT_RGB = (235, 235, 235)


def emotion_colour(name: str) -> QColor:
    return QColor(*EMOTION_RGB[name])


class EmotionBar(QWidget):
    """One horizontal bar split into the 7 emotions by their share of the class mood.

    Segments wide enough carry their emotion's name; the tooltip lists every share.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._shares: tuple[float, ...] | None = None
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.setMinimumHeight(22)

    def sizeHint(self) -> QSize:
        return QSize(240, 22)

    @property
    def shares(self) -> tuple[float, ...] | None:
        return self._shares

    def set_distribution(self, distribution: Sequence[float] | None) -> None:
        """``distribution``: 7 shares in FER2013 order (normalised here), None for "no data"."""
        if distribution is None or sum(distribution) <= 0:
            self._shares = None
            self.setToolTip("no classified faces")
            return
        total = float(sum(distribution))
        self._shares = tuple(float(v) / total for v in distribution)
        self.setToolTip("\n".join(f"{e}: {s:.0%}" for e, s in zip(EMOTIONS, self._shares, strict=True)))

    def paintEvent(self, _event: QPaintEvent | None) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        clip = QPainterPath()
        clip.addRoundedRect(rect, 4, 4)
        p.setClipPath(clip)
        p.fillRect(rect, QColor(255, 255, 255, 30))
        if self._shares is not None:
            font = QFont(self.font())
            font.setPointSizeF(max(6.5, font.pointSizeF() * 0.8))
            p.setFont(font)
            x = rect.left()
            for name, share in zip(EMOTIONS, self._shares, strict=True):
                w = share * rect.width()
                seg = QRectF(x, rect.top(), w, rect.height())
                p.fillRect(seg, emotion_colour(name))
                if w > p.fontMetrics().horizontalAdvance(name) + 6:
                    p.setPen(QColor(20, 20, 20))
                    p.drawText(seg, Qt.AlignmentFlag.AlignCenter, name)
                x += w
        p.end()


class TrendLine(QWidget):
    """A line over time with fixed y range; ``None`` values break the line.

    ``set_points`` takes ``(t_s, value)`` pairs; the x axis spans the last ``window_s``
    seconds, so the line scrolls left as time passes.
    """

    def __init__(self, y_range: tuple[float, float] = (-100.0, 100.0), window_s: float = 600.0,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._points: list[tuple[float, float | None]] = []
        self._y_range = y_range
        self.window_s = window_s
        self._baseline: float | None = 0.0
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setMinimumHeight(40)

    def sizeHint(self) -> QSize:
        return QSize(240, 70)

    @property
    def points(self) -> list[tuple[float, float | None]]:
        return self._points

    def set_range(self, y_range: tuple[float, float], baseline: float | None) -> None:
        """The y axis; ``baseline`` (e.g. 0 = neutral mood) is drawn as a faint line."""
        self._y_range, self._baseline = y_range, baseline

    def set_points(self, points: list[tuple[float, float | None]]) -> None:
        self._points = points

    def paintEvent(self, _event: QPaintEvent | None) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        r = QRectF(self.rect()).adjusted(1, 2, -1, -2)
        p.fillRect(QRectF(self.rect()), QColor(255, 255, 255, 18))
        lo, hi = self._y_range
        span = (hi - lo) or 1.0

        def y_of(v: float) -> float:
            return r.bottom() - (min(max(v, lo), hi) - lo) / span * r.height()

        if self._baseline is not None:
            p.setPen(QPen(QColor(255, 255, 255, 60), 1, Qt.PenStyle.DashLine))
            y0 = y_of(self._baseline)
            p.drawLine(QPointF(r.left(), y0), QPointF(r.right(), y0))
        if self._points:
            t_end = self._points[-1][0]
            p.setPen(QPen(QColor(*TEXT_RGB), 1.6))
            path = QPainterPath()
            pen_down = False
            for t, v in self._points:
                if v is None:
                    pen_down = False
                    continue
                pt = QPointF(r.right() - (t_end - t) / self.window_s * r.width(), y_of(v))
                if pen_down:
                    path.lineTo(pt)
                else:
                    path.moveTo(pt)
                    pen_down = True
            p.drawPath(path)
            last = next((v for _, v in reversed(self._points) if v is not None), None)
            if last is not None:
                p.setBrush(QColor(*TEXT_RGB))
                p.drawEllipse(QPointF(r.right(), y_of(last)), 2.5, 2.5)
        p.end()
