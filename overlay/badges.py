"""Per-participant badges drawn over the gallery: small, click-through, top-most windows.

Each badge is its own frameless window, just the size of its pill, placed beside a face of the
captured region (``FrameResult.region_xywh``): the gallery stays visible everywhere else, also
on an X11 desktop without a compositor (where a translucent window would paint black), and the
window system keeps one badge's pixels per badge, not a screen-sized layer (issue 13: one
window over a 1080p region kept an 8 MB backing store for the session's life). The windows take
no input and no focus, so Zoom keeps every click. Badges sit beside faces, never on them
(``place_badge``), so the overlay does not feed into its own capture.
"""

from __future__ import annotations

from PyQt5.QtCore import QPoint, QRect, QRectF, Qt
from PyQt5.QtGui import QColor, QFont, QFontMetrics, QGuiApplication, QPainter, QPaintEvent, QShowEvent
from PyQt5.QtWidgets import QWidget

from overlay.badge_layout import BadgeSpec, badge_specs, place_badge
from overlay.capture_exclusion import exclude_from_capture
from vocab.types import FrameResult

DOT_PX = 8
PAD_PX = 4


def _badge_font() -> QFont:
    font = QFont(QGuiApplication.font())
    font.setPointSizeF(8.5)
    font.setBold(True)
    return font


class _BadgeWindow(QWidget):
    """One badge: a dark pill with a coloured dot and a word, in a window of exactly its size."""

    def __init__(self, font: QFont) -> None:
        flags = (Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint | Qt.WindowType.Tool
                 | Qt.WindowType.WindowTransparentForInput | Qt.WindowType.WindowDoesNotAcceptFocus
                 | Qt.WindowType.X11BypassWindowManagerHint)
        super().__init__(None, flags)  # type: ignore[arg-type]  # stubs type flag | flag as int
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setWindowTitle("ClassMood badge")
        self.setFont(font)
        self.spec: BadgeSpec | None = None

    def show_badge(self, geometry: QRect, spec: BadgeSpec) -> None:
        if self.geometry() != geometry:
            self.setGeometry(geometry)
        if spec != self.spec:
            self.spec = spec
            self.update()
        if not self.isVisible():
            self.show()

    def showEvent(self, event: QShowEvent | None) -> None:
        super().showEvent(event)
        exclude_from_capture(self)  # Windows: badges stay out of the capture altogether

    def paintEvent(self, _event: QPaintEvent | None) -> None:
        if self.spec is None:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        r = QRectF(self.rect())
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(20, 20, 20, 200))
        p.drawRoundedRect(r, r.height() / 2, r.height() / 2)
        p.setBrush(QColor(*self.spec.rgb))
        p.drawEllipse(QRectF(r.left() + PAD_PX, r.center().y() - DOT_PX / 2, DOT_PX, DOT_PX))
        p.setPen(QColor(240, 240, 240))
        align = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft
        p.drawText(r.adjusted(DOT_PX + 2 * PAD_PX, 0, 0, 0), align, self.spec.text)
        p.end()


class BadgeLayer:
    """Shows ``badge_specs(frame)`` of the latest frame; ``refresh()`` lays them out (throttled).

    Badge windows are kept in a pool: a class of 49 reuses its 49 windows frame after frame,
    and a window is only moved, repainted or shown when its badge changed.
    """

    def __init__(self, emotions: bool = True) -> None:
        self._font = _badge_font()
        self.emotions = emotions
        self.first_names = False  # the badge_names setting: first names beside the faces
        self._frame: FrameResult | None = None
        self._placed: list[tuple[QRectF, BadgeSpec]] = []
        self._windows: list[_BadgeWindow] = []
        self._region = QRect()
        self._dirty = False

    @property
    def placed(self) -> list[tuple[QRectF, BadgeSpec]]:
        """The badges as drawn, rectangles in frame pixels (for tests and screenshots)."""
        return self._placed

    @property
    def region(self) -> QRect:
        """The captured region the badges are laid out in, in screen (logical) coordinates."""
        return QRect(self._region)

    def windows(self) -> list[QWidget]:
        """The badge windows on screen now, in the order of ``placed`` (a badge wholly outside the
        region has none)."""
        return [w for w in self._windows if w.isVisible()]

    def isVisible(self) -> bool:  # noqa: N802  # reads like the QWidget it replaced
        """Whether any badge is on screen."""
        return any(w.isVisible() for w in self._windows)

    def set_frame(self, frame: FrameResult) -> None:
        self._frame = frame
        self._dirty = True

    def clear(self) -> None:
        self._frame = None
        self._placed = []
        self._dirty = False
        for w in self._windows:
            w.hide()

    def refresh(self) -> None:
        """Apply the latest frame: lay out its badges over its region and show them."""
        if not self._dirty or self._frame is None:
            return
        self._dirty = False
        frame = self._frame
        x, y, w, h = frame.region_xywh
        scale = _device_pixel_ratio(x, y)  # mss captures physical pixels; Qt places logical ones
        metrics = QFontMetrics(self._font)
        placed = []
        for spec in badge_specs(frame, emotions=self.emotions, first_names=self.first_names):
            bw = (DOT_PX + 3 * PAD_PX + metrics.horizontalAdvance(spec.text)) * scale
            bh = (max(DOT_PX, metrics.height()) + PAD_PX) * scale
            bx, by = place_badge(spec.face_xyxy, spec.tile_xyxy, (bw, bh), (w, h), gap_px=3 * scale)
            placed.append((QRectF(bx, by, bw, bh), spec))
        region = QRect(round(x / scale), round(y / scale), round(w / scale), round(h / scale))
        if placed == self._placed and region == self._region and self.isVisible():
            return  # a still class: the same badges in the same places, nothing to move or repaint
        self._placed, self._region = placed, region
        shown = []
        for rect, spec in placed:
            logical = QRectF(rect.x() / scale, rect.y() / scale, rect.width() / scale, rect.height() / scale)
            # Inside the captured region only (place_badge may run a badge off a frame's edge):
            # a badge drawn over something else on the desktop would belong to nobody there.
            geometry = logical.toAlignedRect().translated(region.topLeft()).intersected(region)
            if not geometry.isEmpty():
                shown.append((geometry, spec))
        while len(self._windows) < len(shown):
            self._windows.append(_BadgeWindow(self._font))
        for window, (geometry, spec) in zip(self._windows, shown, strict=False):
            window.show_badge(geometry, spec)
        for window in self._windows[len(shown):]:
            window.hide()

    def close(self) -> None:
        """Close and release every badge window (the overlay is closing)."""
        self.clear()
        for window in self._windows:
            window.close()
            window.deleteLater()
        self._windows = []


def _device_pixel_ratio(x: int, y: int) -> float:
    screen = QGuiApplication.screenAt(QPoint(x, y)) or QGuiApplication.primaryScreen()
    return float(screen.devicePixelRatio()) if screen is not None else 1.0
