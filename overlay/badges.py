"""Per-participant badges drawn over the gallery: a separate, click-through, top-most layer.

The layer is a frameless window exactly over the captured region (``FrameResult.region_xywh``)
and only exists where a badge is: its window mask is the union of the badge pills, so on an X11
desktop without a compositor (where a translucent window would paint black) the gallery stays
visible everywhere else. It takes no input and no focus, so Zoom keeps every click. Badges sit
beside faces, never on them (``place_badge``), so the overlay does not feed into its own capture.
"""

from __future__ import annotations

from PyQt5.QtCore import QPoint, QRect, QRectF, Qt
from PyQt5.QtGui import QColor, QFont, QFontMetrics, QGuiApplication, QPainter, QPaintEvent, QRegion, QShowEvent
from PyQt5.QtWidgets import QWidget

from overlay.badge_layout import BadgeSpec, badge_specs, place_badge
from overlay.capture_exclusion import exclude_from_capture
from vocab.types import FrameResult

DOT_PX = 8
PAD_PX = 4


class BadgeLayer(QWidget):
    """Shows ``badge_specs(frame)`` of the latest frame; ``refresh()`` repaints (throttled)."""

    def __init__(self, emotions: bool = True) -> None:
        flags = (Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint | Qt.WindowType.Tool
                 | Qt.WindowType.WindowTransparentForInput | Qt.WindowType.WindowDoesNotAcceptFocus
                 | Qt.WindowType.X11BypassWindowManagerHint)
        super().__init__(None, flags)  # type: ignore[arg-type]  # stubs type flag | flag as int
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setWindowTitle("ClassMood badges")
        font = QFont(self.font())
        font.setPointSizeF(8.5)
        font.setBold(True)
        self.setFont(font)
        self.emotions = emotions
        self.first_names = False  # the badge_names setting: first names beside the faces
        self._frame: FrameResult | None = None
        self._placed: list[tuple[QRectF, BadgeSpec]] = []
        self._dirty = False
        self._scale = 1.0

    @property
    def placed(self) -> list[tuple[QRectF, BadgeSpec]]:
        """The badges as drawn, rectangles in frame pixels (for tests and screenshots)."""
        return self._placed

    def set_frame(self, frame: FrameResult) -> None:
        self._frame = frame
        self._dirty = True

    def clear(self) -> None:
        self._frame = None
        self._placed = []
        self._dirty = False
        self.hide()

    def refresh(self) -> None:
        """Apply the latest frame: move over its region, lay out and repaint the badges."""
        if not self._dirty or self._frame is None:
            return
        self._dirty = False
        frame = self._frame
        x, y, w, h = frame.region_xywh
        scale = _device_pixel_ratio(x, y)  # mss captures physical pixels; Qt places logical ones
        self._scale = scale
        metrics = QFontMetrics(self.font())
        placed = []
        for spec in badge_specs(frame, emotions=self.emotions, first_names=self.first_names):
            bw = (DOT_PX + 3 * PAD_PX + metrics.horizontalAdvance(spec.text)) * scale
            bh = (max(DOT_PX, metrics.height()) + PAD_PX) * scale
            bx, by = place_badge(spec.face_xyxy, spec.tile_xyxy, (bw, bh), (w, h), gap_px=3 * scale)
            placed.append((QRectF(bx, by, bw, bh), spec))
        geometry = QRect(round(x / scale), round(y / scale), round(w / scale), round(h / scale))
        if placed == self._placed and self.geometry() == geometry and self.isVisible():
            return  # a still class: the same badges in the same places, nothing to re-mask or repaint
        self._placed = placed
        if self.geometry() != geometry:
            self.setGeometry(geometry)
        mask = QRegion()
        for rect, _ in placed:
            mask = mask.united(QRegion(self._logical(rect).toAlignedRect()))
        if mask.isEmpty():
            self.hide()
            return
        self.setMask(mask)
        if not self.isVisible():
            self.show()
        self.update()

    def showEvent(self, event: QShowEvent | None) -> None:
        super().showEvent(event)
        exclude_from_capture(self)  # Windows: badges stay out of the capture altogether

    def _logical(self, rect: QRectF) -> QRectF:
        s = self._scale
        return QRectF(rect.x() / s, rect.y() / s, rect.width() / s, rect.height() / s)

    def paintEvent(self, _event: QPaintEvent | None) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        for rect, spec in self._placed:
            r = self._logical(rect)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(20, 20, 20, 200))
            p.drawRoundedRect(r, r.height() / 2, r.height() / 2)
            p.setBrush(QColor(*spec.rgb))
            p.drawEllipse(QRectF(r.left() + PAD_PX, r.center().y() - DOT_PX / 2, DOT_PX, DOT_PX))
            p.setPen(QColor(240, 240, 240))
            align = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft
            p.drawText(r.adjusted(DOT_PX + 2 * PAD_PX, 0, 0, 0), align, spec.text)
        p.end()


def _device_pixel_ratio(x: int, y: int) -> float:
    screen = QGuiApplication.screenAt(QPoint(x, y)) or QGuiApplication.primaryScreen()
    return float(screen.devicePixelRatio()) if screen is not None else 1.0
