"""The overlay panel: frameless, translucent, always on top; the class mood at a glance.

It only shows what ``show_frame(FrameResult)`` / ``show_status(RunStatus)`` bring from the
worker thread: per frame it updates the alert tracker and the trend buffer (cheap), and a
throttle timer applies the latest state to the labels and painted widgets a few times a
second. The host drags it anywhere, resizes it from the corner grip, and may make it
click-through so it never takes a click meant for Zoom; its place is remembered.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

from PyQt5.QtCore import QPoint, QRect, QRectF, Qt, QTimer, pyqtSignal
from PyQt5.QtGui import QCloseEvent, QColor, QGuiApplication, QKeySequence, QMouseEvent, QPainter, QPaintEvent
from PyQt5.QtWidgets import QHBoxLayout, QLabel, QShortcut, QSizeGrip, QToolButton, QVBoxLayout, QWidget

from bot.pipeline import RunControl, RunStatus
from overlay.alerts import AlertTracker
from overlay.badges import BadgeLayer
from overlay.placement import Placement, load_placement, save_placement
from overlay.trend import TrendBuffer
from overlay.widgets import EmotionBar, TrendLine
from vocab.labels import EMOTIONS
from vocab.protocols import StorageHealth
from vocab.settings import Config, Privacy
from vocab.types import FrameResult

log = logging.getLogger(__name__)

PAUSE_SHORTCUT = "Ctrl+Shift+P"
CLICK_THROUGH_SHORTCUT = "Ctrl+Shift+T"
PAUSED_TEXT = "Paused: nothing is captured or stored"
LOG_MESSAGE_KEEP_S = 30.0

_STYLE = """
QWidget { color: #ebebeb; font-size: 9pt; }
QLabel#title { font-weight: bold; }
QLabel#mood { font-size: 11pt; font-weight: bold; }
QLabel#alert { color: #ffb74d; font-weight: bold; }
QLabel#status { color: #bdbdbd; }
QLabel#status[level="error"] { color: #ef5350; }
QToolButton { background: rgba(255,255,255,28); border: 1px solid rgba(255,255,255,40);
              border-radius: 4px; padding: 1px 6px; }
QToolButton:checked { background: rgba(255,183,77,90); }
QToolButton:hover { background: rgba(255,255,255,55); }
"""


class OverlayWindow(QWidget):
    """The host's panel. Signals: ``pause_toggled(bool)``, ``closed()``."""

    pause_toggled = pyqtSignal(bool)
    click_through_changed = pyqtSignal(bool)
    closed = pyqtSignal()

    def __init__(self, config: Config, control: RunControl, *, placement_path: Path | None = None,
                 storage: StorageHealth | None = None, repaint_ms: int = 250, trend_window_s: float = 600.0,
                 click_through_available: bool = True) -> None:
        flags = Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint | Qt.WindowType.Tool
        super().__init__(None, flags)  # type: ignore[arg-type]  # stubs type flag | flag as int
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setWindowTitle("ClassMood")
        self.setStyleSheet(_STYLE)
        self.config = config
        self.control = control
        self.storage = storage
        self.alerts = AlertTracker(config.alerts)
        self.trend_buffer = TrendBuffer(window_s=trend_window_s)
        self._placement_path = placement_path
        self._placement = load_placement(placement_path)
        self._click_through = False
        self._click_through_available = click_through_available
        self._frame: FrameResult | None = None
        self._alert: str | None = None
        self._run_text = "Starting..."
        self._log_text: tuple[str, int, float] | None = None
        self._error: str | None = None
        self._dirty = True
        self._drag_offset: QPoint | None = None
        self._max_faces = 1
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(500)
        self._save_timer.timeout.connect(self.save_placement)
        self._build()
        self.badge_layer: BadgeLayer | None = BadgeLayer(emotions=config.privacy is Privacy.FULL) \
            if self._badges_possible(config) else None
        self._apply_privacy()
        self._restore_placement()

        self._repaint_timer = QTimer(self)
        self._repaint_timer.setInterval(repaint_ms)
        self._repaint_timer.timeout.connect(self.flush)
        self._repaint_timer.start()
        for keys, slot in ((PAUSE_SHORTCUT, self.toggle_pause), (CLICK_THROUGH_SHORTCUT, self.toggle_click_through)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.ApplicationShortcut)
            shortcut.activated.connect(slot)

    # ------------------------------------------------------------------ building

    def _build(self) -> None:
        self.title = QLabel("ClassMood")
        self.title.setObjectName("title")
        self.pause_button = _button("Pause", f"Stop capturing and storing ({PAUSE_SHORTCUT})", checkable=True)
        self.pause_button.toggled.connect(self.set_paused)
        self.badges_button = _button("Badges", "Show each participant's mood beside their face", checkable=True)
        self.badges_button.setChecked(self._placement.badges)
        self.badges_button.toggled.connect(self.set_badges_enabled)
        self.through_button = _button("Click-through", "Let clicks pass through this panel to Zoom; turn off "
                                      f"from the tray icon or with {CLICK_THROUGH_SHORTCUT}", checkable=True)
        self.through_button.toggled.connect(self.set_click_through)
        self.through_button.setEnabled(self._click_through_available)
        if not self._click_through_available:
            self.through_button.setToolTip("Needs a system tray to turn it off again; none is available here")
        self.settings_button = _button("Settings", "Source, rate, privacy and alert thresholds")
        self.settings_button.clicked.connect(self.open_settings)
        self.close_button = _button("x", "Stop the run and close ClassMood")
        self.close_button.clicked.connect(self.close_panel)

        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addStretch(1)
        header.addWidget(self.close_button)
        tools = QHBoxLayout()
        for b in (self.pause_button, self.badges_button, self.through_button, self.settings_button):
            tools.addWidget(b)
        tools.addStretch(1)

        self.counts_label = QLabel()
        self.mood_label = QLabel()
        self.mood_label.setObjectName("mood")
        self.emotion_bar = EmotionBar()
        self.trend = TrendLine(window_s=self.trend_buffer.window_s)
        self.trend_caption = QLabel()
        self.trend_caption.setObjectName("status")
        self.alert_label = QLabel()
        self.alert_label.setObjectName("alert")
        self.alert_label.setWordWrap(True)
        self.status_label = QLabel()
        self.status_label.setObjectName("status")
        self.status_label.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 4)
        layout.setSpacing(4)
        layout.addLayout(header)
        layout.addLayout(tools)
        layout.addWidget(self.counts_label)
        layout.addWidget(self.mood_label)
        layout.addWidget(self.emotion_bar)
        layout.addWidget(self.trend_caption)
        layout.addWidget(self.trend, 1)
        layout.addWidget(self.alert_label)
        footer = QHBoxLayout()
        footer.addWidget(self.status_label, 1)
        footer.addWidget(QSizeGrip(self), 0, Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignRight)  # type: ignore[arg-type]  # stubs type flag | flag as int
        layout.addLayout(footer)

    @staticmethod
    def _badges_possible(config: Config) -> bool:
        # Badges need screen coordinates (a live screen source), and are per-person, which the
        # aggregate privacy mode exists to avoid.
        return config.source.is_live and config.privacy.per_person

    def _apply_privacy(self) -> None:
        emotions = self.config.privacy.emotions
        self.emotion_bar.setVisible(emotions)
        if emotions:
            self.trend.set_range((-100.0, 100.0), 0.0)
            self.trend_caption.setText(f"Mood index, last {self.trend_buffer.window_s / 60:.0f} min")
        else:
            self.trend.set_range((0.0, self._max_faces * 1.2), None)
            self.trend_caption.setText(f"Faces present, last {self.trend_buffer.window_s / 60:.0f} min")
        self.badges_button.setVisible(self.badge_layer is not None)
        if self.badge_layer is not None:
            self.badge_layer.emotions = self.config.privacy is Privacy.FULL
        self._dirty = True

    # ------------------------------------------------------------------ placement

    def _restore_placement(self) -> None:
        p = self._placement
        hint = self.minimumSizeHint()
        self.resize(max(p.width, hint.width()), max(p.height, hint.height()))
        size = self.size()
        screen = QGuiApplication.screenAt(QPoint(p.x, p.y) + QPoint(20, 20)) if p.x >= 0 else None
        if screen is None:  # never placed, or its monitor is gone: top-right of the primary screen
            primary = QGuiApplication.primaryScreen()
            area = primary.availableGeometry() if primary is not None else QRect(0, 0, 1280, 800)
            pos = QPoint(area.right() + 1 - size.width() - 16, area.top() + 16)
        else:  # keep all of it on the screen it was on (the screen may have shrunk)
            area = screen.availableGeometry()
            pos = QPoint(max(area.left(), min(p.x, area.right() + 1 - size.width())),
                         max(area.top(), min(p.y, area.bottom() + 1 - size.height())))
        self.move(pos)
        if p.click_through and self._click_through_available:
            self.through_button.setChecked(True)

    def save_placement(self) -> None:
        g = self.geometry()
        self._placement = Placement(x=g.x(), y=g.y(), width=g.width(), height=g.height(),
                                    click_through=self._click_through, badges=self.badges_button.isChecked())
        save_placement(self._placement, self._placement_path)

    def moveEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().moveEvent(event)
        self._save_timer.start()

    def resizeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().resizeEvent(event)
        self._save_timer.start()

    # ------------------------------------------------------------------ inputs from the run

    def show_frame(self, frame: FrameResult) -> None:
        """Take one frame's results; the screen catches up on the next throttled repaint."""
        if self.control.pause.is_set():
            return
        self._frame = frame
        mood = frame.mood
        self._alert = self.alerts.update(mood, frame.t_mono)
        value: float | None
        if not self.config.privacy.emotions:
            value = float(mood.faces_seen if mood is not None else 0)
            if value > self._max_faces:
                self._max_faces = int(value)
                self.trend.set_range((0.0, self._max_faces * 1.2), None)
        else:
            value = mood.mood_index if mood is not None else None
        self.trend_buffer.add(frame.t_mono, value)
        if self.badge_layer is not None and self.badges_button.isChecked():
            self.badge_layer.set_frame(frame)
        self._dirty = True

    def show_status(self, status: RunStatus) -> None:
        """A change of the run's state (running, paused, waiting for the source, ended)."""
        if status.state == "running":
            self._log_text = None
            self._run_text = status.message[:1].upper() + status.message[1:]
        elif status.state == "paused":
            self._run_text = PAUSED_TEXT
        else:
            self._run_text = status.message[:1].upper() + status.message[1:]
        if status.state in ("waiting", "ended", "error") and self.badge_layer is not None:
            self.badge_layer.clear()
        self._dirty = True

    def show_error(self, text: str) -> None:
        """A fault that ended the run: it stays on the panel until the host closes it."""
        self._error = text
        if self.badge_layer is not None:
            self.badge_layer.clear()
        self._dirty = True
        self.flush()

    def show_log(self, text: str, level: int) -> None:
        """A warning or error the pipeline logged (a skipped frame, a lost source)."""
        self._log_text = (text, level, time.monotonic())
        self._dirty = True

    # ------------------------------------------------------------------ host actions

    @property
    def paused(self) -> bool:
        return self.control.pause.is_set()

    def set_paused(self, paused: bool) -> None:
        """Pause (nothing captured, nothing stored) or resume the run."""
        if paused == self.control.pause.is_set() and self.pause_button.isChecked() == paused:
            return
        if paused:
            self.control.pause.set()
            if self.badge_layer is not None:
                self.badge_layer.clear()
        else:
            self.control.pause.clear()
            self._run_text = "Resuming..."
        self.alerts.reset()  # time spent paused never counts towards an alert
        self._alert = None
        self.pause_button.blockSignals(True)
        self.pause_button.setChecked(paused)
        self.pause_button.setText("Resume" if paused else "Pause")
        self.pause_button.blockSignals(False)
        log.info("%s by the host", "paused" if paused else "resumed")
        self.pause_toggled.emit(paused)
        self._dirty = True
        self.flush()

    def toggle_pause(self) -> None:
        self.set_paused(not self.paused)

    @property
    def click_through(self) -> bool:
        return self._click_through

    def set_click_through(self, on: bool) -> None:
        """Let every click pass through the panel (``Qt.WindowType.WindowTransparentForInput``)."""
        on = bool(on) and self._click_through_available
        if on == self._click_through:
            return
        self._click_through = on
        visible = self.isVisible()
        self.setWindowFlag(Qt.WindowType.WindowTransparentForInput, on)  # re-creates the native window ...
        if visible:
            self.show()  # ... which hides it
        self.through_button.blockSignals(True)
        self.through_button.setChecked(on)
        self.through_button.blockSignals(False)
        self.click_through_changed.emit(on)
        self._save_timer.start()

    def toggle_click_through(self) -> None:
        self.set_click_through(not self._click_through)

    def set_badges_enabled(self, on: bool) -> None:
        self.badges_button.setChecked(on)
        if not on and self.badge_layer is not None:
            self.badge_layer.clear()
        self._save_timer.start()

    def open_settings(self) -> None:
        from overlay.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.config, self)
        dialog.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, True)
        if dialog.exec_():
            self.apply_config(dialog.config)

    def close_panel(self) -> None:
        """The panel's close button and the tray's Quit (a slot that returns nothing, unlike ``close``)."""
        self.close()

    def apply_config(self, config: Config) -> None:
        """Alert thresholds apply now; a stricter privacy hides emotions now; the rest next run."""
        changed = {f.name for f in dataclasses.fields(Config)
                   if getattr(config, f.name) != getattr(self.config, f.name)}
        self.config = config
        self.alerts.config = config.alerts
        self.alerts.reset()
        if "privacy" in changed:
            self._apply_privacy()
        if changed - {"alerts"}:
            self.show_log("Settings saved: source, rate and privacy storage apply to the next run", logging.INFO)
        self._dirty = True

    # ------------------------------------------------------------------ painting

    def flush(self) -> None:
        """Apply the latest state to the screen (the throttle timer calls this)."""
        if self._log_text is not None and time.monotonic() - self._log_text[2] > LOG_MESSAGE_KEEP_S:
            self._log_text = None
            self._dirty = True
        storage_error = self.storage.last_error if self.storage is not None else None
        if self._dirty or storage_error:
            self._dirty = False
            self._update_texts(storage_error)
            self.trend.set_points(self.trend_buffer.points())
            self.trend.update()
            self.emotion_bar.update()
            self.update()
        if self.badge_layer is not None and not self.paused and self.badges_button.isChecked():
            self.badge_layer.refresh()

    def _update_texts(self, storage_error: str | None) -> None:
        f, paused = self._frame, self.paused
        mood = f.mood if f is not None else None
        if mood is None:
            self.counts_label.setText("Participants seen 0 \u00b7 faces now 0")
        else:
            self.counts_label.setText(f"Participants seen {mood.participants_known} \u00b7 faces now "
                                      f"{mood.faces_seen} of {mood.tiles_seen} tiles")
        if not self.config.privacy.emotions:
            self.mood_label.setText("Presence only: no emotions analysed")
            self.emotion_bar.set_distribution(None)
        elif mood is None or mood.distribution is None or mood.mood_index is None:
            self.mood_label.setText("Mood: no face to read yet")
            self.emotion_bar.set_distribution(None)
        else:
            top = max(range(len(EMOTIONS)), key=lambda k: mood.distribution[k])  # type: ignore[index]
            self.mood_label.setText(f"Mood {mood.mood_index:+.0f} \u00b7 mostly {EMOTIONS[top]} "
                                    f"({mood.distribution[top]:.0%})")
            self.emotion_bar.set_distribution(mood.distribution)
        self.alert_label.setText(self._alert or "")
        self.alert_label.setVisible(bool(self._alert) and not paused)
        level, text = "info", self._run_text
        if paused:
            text = PAUSED_TEXT
        if self._log_text is not None and not paused:
            text = self._log_text[0]
            level = "error" if self._log_text[1] >= logging.ERROR else "info"
        if storage_error:
            text, level = f"Storage: {storage_error}", "error"
        if self._error:
            text, level = self._error, "error"
        if self.status_label.property("level") != level:
            self.status_label.setProperty("level", level)
            style = self.status_label.style()
            if style is not None:  # re-read the stylesheet's [level=...] rule
                style.unpolish(self.status_label)
                style.polish(self.status_label)
        self.status_label.setText(text)
        self.title.setText("ClassMood \u00b7 paused" if paused else "ClassMood")
        self.setWindowOpacity(0.75 if paused else 1.0)

    def paintEvent(self, _event: QPaintEvent | None) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        p.setPen(QColor(255, 255, 255, 50))
        p.setBrush(QColor(24, 24, 28, 215))
        p.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 8, 8)
        p.end()

    # ------------------------------------------------------------------ dragging and closing

    def mousePressEvent(self, event: QMouseEvent | None) -> None:
        if event is not None and event.button() == Qt.MouseButton.LeftButton:
            self._drag_offset = event.globalPos() - self.frameGeometry().topLeft()
            event.accept()

    def mouseMoveEvent(self, event: QMouseEvent | None) -> None:
        if event is not None and self._drag_offset is not None and event.buttons() & Qt.MouseButton.LeftButton:
            self.move(event.globalPos() - self._drag_offset)
            event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent | None) -> None:
        self._drag_offset = None

    def closeEvent(self, event: QCloseEvent | None) -> None:
        """Closing the panel ends the run: stop is set, the worker winds down, the app returns."""
        self.control.stop.set()
        self._repaint_timer.stop()
        self.save_placement()
        if self.badge_layer is not None:
            self.badge_layer.close()
        if event is not None:
            event.accept()
        self.closed.emit()


def _button(text: str, tip: str, checkable: bool = False) -> QToolButton:
    b = QToolButton()
    b.setText(text)
    b.setToolTip(tip)
    b.setCheckable(checkable)
    b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return b
