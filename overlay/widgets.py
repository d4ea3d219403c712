"""The painted parts of the overlay: the class mood bar, its legend and the trend chart.

All are created once and only take new data (``set_distribution`` / ``set_points``); they
repaint when the overlay's throttle timer calls ``update()``, never once per frame. Each can
be marked stale (``set_stale``): while the run is paused it shows the last reading greyed,
so nobody takes it for the class as it is now.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PyQt5.QtCore import QEvent, QPointF, QRectF, QSize, Qt
from PyQt5.QtGui import QColor, QFont, QFontMetrics, QHelpEvent, QPainter, QPainterPath, QPaintEvent, QPen
from PyQt5.QtWidgets import QLabel, QSizePolicy, QToolTip, QWidget

from overlay.badge_layout import EMOTION_RGB
from overlay.theme import MUTED_RGB, STALE_RGB, TEXT_RGB
from vocab.labels import EMOTIONS


def emotion_colour(name: str) -> QColor:
    return QColor(*EMOTION_RGB[name])


def share_text(share: float) -> str:
    """A share as people read it: ``"12%"``, ``"<1%"`` for a sliver, ``"0%"`` for none."""
    return "<1%" if 0 < share < 0.005 else f"{share:.0%}"


def _small_font(base: QFont, factor: float = 0.8) -> QFont:
    font = QFont(base)
    font.setPointSizeF(max(6.5, base.pointSizeF() * factor))
    return font


class EmotionBar(QWidget):
    """One horizontal bar split into the 7 emotions by their share of the class mood.

    Segments wide enough carry their emotion's name; hovering any segment, however thin, shows
    its name and share (``tooltip_at``), and ``EmotionLegend`` below lists them all.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._shares: tuple[float, ...] | None = None
        self._stale = False
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(22)
        self.setMouseTracking(True)

    def sizeHint(self) -> QSize:
        return QSize(240, 22)

    @property
    def shares(self) -> tuple[float, ...] | None:
        return self._shares

    @property
    def stale(self) -> bool:
        return self._stale

    def set_stale(self, stale: bool) -> None:
        self._stale = stale

    def set_distribution(self, distribution: Sequence[float] | None) -> None:
        """``distribution``: 7 shares in FER2013 order (normalised here), None for "no data"."""
        if distribution is None or sum(distribution) <= 0:
            self._shares = None
            self.setToolTip("No readable face")
            return
        total = float(sum(distribution))
        self._shares = tuple(float(v) / total for v in distribution)
        self.setToolTip("\n".join(f"{e}: {share_text(s)}" for e, s in zip(EMOTIONS, self._shares, strict=True)))

    def _bar_rect(self) -> QRectF:
        return QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)

    def segments(self) -> list[tuple[str, float, QRectF]]:
        """``(emotion, share, rectangle)`` of each non-empty segment, left to right."""
        if self._shares is None:
            return []
        rect, x, out = self._bar_rect(), self._bar_rect().left(), []
        for name, share in zip(EMOTIONS, self._shares, strict=True):
            w = share * rect.width()
            if share > 0:
                out.append((name, share, QRectF(x, rect.top(), w, rect.height())))
            x += w
        return out

    def tooltip_at(self, x: float) -> str:
        """What hovering at ``x`` (widget pixels) says: the nearest segment within 3 px, so a
        one-pixel slice can still be pointed at."""
        segs = self.segments()
        if not segs:
            return self.toolTip()
        name, share, _ = min(segs, key=lambda s: 0.0 if s[2].left() <= x <= s[2].right()
                             else min(abs(x - s[2].left()), abs(x - s[2].right())))
        stale = " (paused: last reading)" if self._stale else ""
        return f"{name}: {share_text(share)} of the class mood{stale}"

    def event(self, e: QEvent | None) -> bool:
        if e is not None and e.type() == QEvent.Type.ToolTip and isinstance(e, QHelpEvent):
            QToolTip.showText(e.globalPos(), self.tooltip_at(e.pos().x()), self)
            return True
        return super().event(e)

    def paintEvent(self, _event: QPaintEvent | None) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = self._bar_rect()
        clip = QPainterPath()
        clip.addRoundedRect(rect, 4, 4)
        p.setClipPath(clip)
        p.fillRect(rect, QColor(255, 255, 255, 30))
        p.setFont(_small_font(self.font()))
        for name, _share, seg in self.segments():
            colour = emotion_colour(name)
            if self._stale:
                grey = round(90 + 0.4 * (0.3 * colour.red() + 0.59 * colour.green() + 0.11 * colour.blue()))
                colour = QColor(grey, grey, grey)  # greyed: the mix of the last reading, not of now
            p.fillRect(seg, colour)
            if seg.width() > p.fontMetrics().horizontalAdvance(name) + 6:
                p.setPen(QColor(20, 20, 20))
                p.drawText(seg, Qt.AlignmentFlag.AlignCenter, name)
        p.end()


class EmotionLegend(QLabel):
    """Every emotion's colour, name and share in two short rows under the bar (small slices too)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setFont(_small_font(self.font(), 0.9))
        self._stale = False
        self._shares: tuple[float, ...] | None = None

    @property
    def entries(self) -> list[tuple[str, str]]:
        """``(emotion, share text)`` as shown, in the bar's order."""
        if self._shares is None:
            return []
        return [(e, share_text(s)) for e, s in zip(EMOTIONS, self._shares, strict=True)]

    def set_stale(self, stale: bool) -> None:
        self._stale = stale
        self._render()

    def set_distribution(self, shares: Sequence[float] | None) -> None:
        """The bar's normalised shares (``EmotionBar.shares``), None to hide the legend's numbers."""
        self._shares = None if shares is None else tuple(float(s) for s in shares)
        self._render()

    def _render(self) -> None:
        if self._shares is None:
            self.setText("")
            return
        text_rgb = STALE_RGB if self._stale else TEXT_RGB
        items = []
        for name, share in self.entries:
            rgb = STALE_RGB if self._stale else EMOTION_RGB[name]
            items.append(f'<span style="color: rgb{rgb}">\u25a0</span>&nbsp;{name}&nbsp;{share.replace("<", "&lt;")}')
        self.setText(f'<span style="color: rgb{text_rgb}">' + " &nbsp; ".join(items) + "</span>")


class TrendLine(QWidget):
    """A value over the run's time with its scales: y labels on the left, minutes of the run below.

    ``set_points`` takes ``(t_s, value)`` pairs (``t_s`` in the run's seconds, 0 at its start);
    ``None`` values break the line. Until ``window_s`` has passed the x axis runs from the start
    of the run to ``window_s`` and the line grows from the left; after that it shows the last
    ``window_s`` seconds and scrolls. Both axes are drawn from the first frame, empty or not.
    """

    def __init__(self, y_range: tuple[float, float] = (-100.0, 100.0), window_s: float = 600.0,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._points: list[tuple[float, float | None]] = []
        self._y_range = y_range
        self._y_ticks: tuple[float, ...] = (-100.0, 0.0, 100.0)
        self._signed = True
        self.window_s = window_s
        self.start_s = 0.0
        self._baseline: float | None = 0.0
        self._stale = False
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(80)
        self.setFont(_small_font(self.font()))

    def sizeHint(self) -> QSize:
        return QSize(240, 100)

    @property
    def points(self) -> list[tuple[float, float | None]]:
        return self._points

    def set_stale(self, stale: bool) -> None:
        self._stale = stale

    def set_range(self, y_range: tuple[float, float], baseline: float | None,
                  ticks: Sequence[float] | None = None, signed: bool = False) -> None:
        """The y axis and its labelled ``ticks``; ``baseline`` (e.g. 0 = neutral mood) is drawn
        as a dashed line; ``signed`` writes ``+50`` rather than ``50``."""
        self._y_range, self._baseline = y_range, baseline
        self._y_ticks = tuple(ticks) if ticks is not None else (y_range[0], y_range[1])
        self._signed = signed

    def set_points(self, points: list[tuple[float, float | None]]) -> None:
        self._points = points

    # ---------------------------------------------------------------- geometry

    def x_span(self) -> tuple[float, float]:
        """The run seconds at the left and right edges of the plot."""
        t_end = self._points[-1][0] if self._points else self.start_s
        left = max(self.start_s, t_end - self.window_s)
        return left, left + self.window_s

    def plot_rect(self) -> QRectF:
        fm = QFontMetrics(self.font())
        gutter = max(fm.horizontalAdvance(self._y_text(v)) for v in self._y_ticks) + 5
        return QRectF(self.rect()).adjusted(gutter, fm.height() / 2 + 1, -4, -(fm.height() + 3))

    def _y_text(self, v: float) -> str:
        text = f"{v:+.0f}" if self._signed and v != 0 else f"{v:.0f}"
        return text.replace("-", "\u2212")

    def _y_of(self, v: float, r: QRectF) -> float:
        lo, hi = self._y_range
        span = (hi - lo) or 1.0
        return r.bottom() - (min(max(v, lo), hi) - lo) / span * r.height()

    def x_of(self, t_s: float) -> float:
        return self._x_of(t_s, self.plot_rect(), self.x_span()[0])

    def _x_of(self, t_s: float, r: QRectF, left_s: float) -> float:
        # The plot rectangle measures fonts: worked out once a paint, not once a point.
        return r.left() + (t_s - left_s) / self.window_s * r.width()

    def time_ticks_s(self) -> list[float]:
        """Labelled times: every 5 minutes of the run (every minute for windows under 4 min)."""
        step = 300.0 if self.window_s >= 240 else 60.0
        left, right = self.x_span()
        first = math.ceil(left / step - 1e-9) * step
        return [first + k * step for k in range(int((right - first) // step) + 1)]

    def axis_labels(self) -> list[tuple[str, QRectF]]:
        """Every scale label drawn, with its rectangle (widget pixels): y values, then run minutes."""
        fm = QFontMetrics(self.font())
        r = self.plot_rect()
        out = []
        for v in self._y_ticks:
            text = self._y_text(v)
            w = fm.horizontalAdvance(text)
            y = self._y_of(v, r)
            out.append((text, QRectF(r.left() - 4 - w, y - fm.height() / 2, w, fm.height())))
        for t in self.time_ticks_s():
            text = f"{t / 60:.0f} min"
            w = fm.horizontalAdvance(text)
            x = min(max(self.x_of(t) - w / 2, 0.0), self.width() - w)
            out.append((text, QRectF(x, r.bottom() + 2, w, fm.height())))
        return out

    # ---------------------------------------------------------------- painting

    def paintEvent(self, _event: QPaintEvent | None) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = self.plot_rect()
        left_s = self.x_span()[0]
        p.fillRect(r, QColor(255, 255, 255, 14))
        p.setPen(QPen(QColor(255, 255, 255, 70), 1))
        p.drawLine(QPointF(r.left(), r.top()), QPointF(r.left(), r.bottom()))
        p.drawLine(QPointF(r.left(), r.bottom()), QPointF(r.right(), r.bottom()))
        for t in self.time_ticks_s():
            x = self._x_of(t, r, left_s)
            p.drawLine(QPointF(x, r.bottom()), QPointF(x, r.bottom() + 2))
        if self._baseline is not None:
            p.setPen(QPen(QColor(255, 255, 255, 90), 1, Qt.PenStyle.DashLine))
            y0 = self._y_of(self._baseline, r)
            p.drawLine(QPointF(r.left(), y0), QPointF(r.right(), y0))
        p.setPen(QColor(*(STALE_RGB if self._stale else MUTED_RGB)))
        for text, rect in self.axis_labels():
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        line_rgb = STALE_RGB if self._stale else TEXT_RGB
        if self._points:
            p.setClipRect(r.adjusted(-3, -3, 3, 3))
            p.setPen(QPen(QColor(*line_rgb), 1.6))
            path = QPainterPath()
            pen_down = False
            for t, v in self._points:
                if v is None:
                    pen_down = False
                    continue
                pt = QPointF(self._x_of(t, r, left_s), self._y_of(v, r))
                if pen_down:
                    path.lineTo(pt)
                else:
                    path.moveTo(pt)
                    pen_down = True
            p.drawPath(path)
            last = next(((t, v) for t, v in reversed(self._points) if v is not None), None)
            if last is not None:
                p.setBrush(QColor(*line_rgb))
                p.drawEllipse(QPointF(self._x_of(last[0], r, left_s), self._y_of(last[1], r)), 2.5, 2.5)
        p.end()


def presence_ticks(max_faces: int) -> tuple[tuple[float, float], tuple[float, ...]]:
    """The y range and labelled ticks for faces present: 0 to a round number above the most seen."""
    top = max(2, math.ceil(max_faces * 1.2 / 2) * 2)
    return (0.0, float(top)), (0.0, top / 2, float(top))
