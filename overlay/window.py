"""The overlay panel: frameless, translucent, always on top; the class mood at a glance.

It only shows what ``show_frame(FrameResult)`` / ``show_status(RunStatus)`` bring from the
worker thread: per frame it updates the alert tracker and the trend buffer (cheap), and a
throttle timer applies the latest state to the labels and painted widgets a few times a
second. The host drags it anywhere, resizes it from the corner grip, and may make it
click-through so it never takes a click meant for Zoom; its place is remembered.

The panel is part of the screen it watches (except on Windows, which leaves it out of
captures): until the host drags it somewhere, it moves to a place that covers no tile of the
gallery; wherever it covers tiles it says so, and it tells the run (``RunControl.set_occluders``)
which screen rectangle it covers, so the people under it are recorded as hidden, not absent.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

import numpy as np
from PyQt5.QtCore import QPoint, QRect, QRectF, Qt, QTimer, pyqtSignal
from PyQt5.QtGui import (
    QCloseEvent,
    QColor,
    QGuiApplication,
    QHideEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QShowEvent,
)
from PyQt5.QtWidgets import (
    QAbstractButton,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QShortcut,
    QSizeGrip,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from bot.pipeline import RunControl, RunStatus
from overlay.alerts import AlertTracker, AttentionCount, attention_count
from overlay.avoid_tiles import best_place, covered_tiles, covering_text, tiles_on_screen
from overlay.badges import BadgeLayer
from overlay.capture_exclusion import exclude_from_capture
from overlay.placement import Placement, load_placement, save_placement
from overlay.theme import ACCENT_RGB, ERROR_RGB, MUTED_RGB, STALE_RGB, TEXT_RGB, apply_theme, css_color
from overlay.trend import TrendBuffer
from overlay.widgets import EmotionBar, EmotionLegend, TrendLine, presence_ticks
from vocab.geometry import containing_box
from vocab.protocols import StorageHealth
from vocab.settings import Config, Privacy
from vocab.timefmt import local_time
from vocab.types import ClassMood, FrameResult

log = logging.getLogger(__name__)

PAUSE_SHORTCUT = "Ctrl+Shift+P"
CLICK_THROUGH_SHORTCUT = "Ctrl+Shift+T"
PAUSED_TEXT = "Paused: nothing is captured or stored"
LOG_MESSAGE_KEEP_S = 30.0
CONFIRM_STOP_TEXT = "Stop recording this class?"
PANEL_RGBA = (24, 24, 28, 240)  # nearly opaque: text keeps its contrast over a white page too


# The panel's own rules, on top of overlay.theme's (which every overlay window shares).
_PANEL_STYLE = f"""
QWidget {{ font-size: 9pt; }}
QLabel#title {{ font-weight: bold; }}
QLabel#mood {{ font-size: 11pt; font-weight: bold; }}
QLabel#alert, QLabel#covering {{ color: {css_color(ACCENT_RGB)}; font-weight: bold; }}
QLabel#status {{ color: {css_color(MUTED_RGB)}; }}
QLabel#status[level="error"] {{ color: {css_color(ERROR_RGB)}; }}
QLabel[stale="true"] {{ color: {css_color(STALE_RGB)}; }}
QLabel#stale {{ color: {css_color(TEXT_RGB)}; font-style: italic; }}
QToolButton {{ color: {css_color(TEXT_RGB)}; background: rgba(255,255,255,28); border: 1px solid rgba(255,255,255,40);
              border-radius: 4px; padding: 1px 6px; }}
QToolButton:checked {{ background: rgba(255,183,77,90); }}
QToolButton:hover {{ background: rgba(255,255,255,55); }}
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
        apply_theme(self, _PANEL_STYLE)
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
        self._attention: AttentionCount | None = None
        self._stale = False  # paused, or resumed without a new reading yet
        self._tiles_screen = np.zeros((0, 4), np.float64)  # the gallery's tiles, logical screen pixels
        self._covered = 0
        self._host_placed = self._placement.host_placed
        self._dragged = False
        self.confirm_box: QMessageBox | None = None
        self._alert: str | None = None
        self._run_text = "Starting..."
        self._ended = False
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
        if self.badge_layer is not None:
            self.badge_layer.first_names = config.badge_names and config.privacy is Privacy.FULL
        self._apply_privacy()
        self._restore_placement()
        self.excluded_from_capture = exclude_from_capture(self)

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
        self.close_button = _button("x", "Stop recording and close ClassMood (asks first)")
        self.close_button.clicked.connect(self.ask_stop)

        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addStretch(1)
        header.addWidget(self.close_button)
        tools = QHBoxLayout()
        for b in (self.pause_button, self.badges_button, self.through_button, self.settings_button):
            tools.addWidget(b)
        tools.addStretch(1)

        self.covering_label = QLabel()
        self.covering_label.setObjectName("covering")
        self.covering_label.setWordWrap(True)
        self.covering_label.hide()
        self.stale_label = QLabel()
        self.stale_label.setObjectName("stale")
        self.stale_label.hide()
        self.counts_label = QLabel()
        self.mood_label = QLabel()
        self.mood_label.setObjectName("mood")
        self.attention_label = QLabel()
        self.emotion_bar = EmotionBar()
        self.legend = EmotionLegend()
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
        layout.addWidget(self.covering_label)
        layout.addWidget(self.stale_label)
        layout.addWidget(self.counts_label)
        layout.addWidget(self.mood_label)
        layout.addWidget(self.attention_label)
        layout.addWidget(self.emotion_bar)
        layout.addWidget(self.legend)
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
        self.legend.setVisible(emotions)
        minutes = f"{self.trend_buffer.window_s / 60:.0f} min"
        if emotions:
            self.trend.set_range((-100.0, 100.0), 0.0, ticks=(-100.0, 0.0, 100.0), signed=True)
            self.trend_caption.setText(f"Mood index, last {minutes} of the run")
        else:
            self._set_presence_range()
            self.trend_caption.setText(f"Faces present, last {minutes} of the run")
        self.badges_button.setVisible(self.badge_layer is not None)
        if self.badge_layer is not None:
            self.badge_layer.emotions = self.config.privacy is Privacy.FULL
        self._dirty = True

    def _set_presence_range(self) -> None:
        y_range, ticks = presence_ticks(self._max_faces)
        self.trend.set_range(y_range, None, ticks=ticks)

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
                                    click_through=self._click_through, badges=self.badges_button.isChecked(),
                                    host_placed=self._host_placed)
        save_placement(self._placement, self._placement_path)

    def moveEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().moveEvent(event)
        self._save_timer.start()
        self._geometry_changed()

    def resizeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().resizeEvent(event)
        self._save_timer.start()
        self._geometry_changed()

    def showEvent(self, event: QShowEvent | None) -> None:
        super().showEvent(event)
        self.excluded_from_capture = exclude_from_capture(self)  # the native window may be new
        self._geometry_changed()

    def hideEvent(self, event: QHideEvent | None) -> None:
        super().hideEvent(event)
        self._geometry_changed()

    @property
    def host_placed(self) -> bool:
        """Whether the host put the panel where it is (then it stays there, covering or not)."""
        return self._host_placed

    @property
    def covered_tiles(self) -> int:
        """How many of the gallery's tiles the panel covers now."""
        return self._covered

    def occluder_xywh(self) -> list[tuple[int, int, int, int]]:
        """What the panel hides from the capture, in the capture's (physical) screen pixels."""
        if not self.isVisible() or self.excluded_from_capture:
            return []
        g, scale = self.frameGeometry(), self._scale()
        return [(round(g.x() * scale), round(g.y() * scale), round(g.width() * scale), round(g.height() * scale))]

    def _scale(self) -> float:
        screen = self.screen() if self.isVisible() else QGuiApplication.primaryScreen()
        return float(screen.devicePixelRatio()) if screen is not None else 1.0

    def _geometry_changed(self) -> None:
        self.control.set_occluders(self.occluder_xywh())
        self._recount()

    def _recount(self) -> None:
        covered = self._count_covered()
        if covered != self._covered:
            self._covered = covered
            self._dirty = True

    def _panel_xywh(self) -> tuple[int, int, int, int]:
        g = self.frameGeometry()
        return g.x(), g.y(), g.width(), g.height()

    def _count_covered(self) -> int:
        if not self.isVisible() or len(self._tiles_screen) == 0:
            return 0
        return len(covered_tiles(self._panel_xywh(), self._tiles_screen))

    def _take_tiles(self, frame: FrameResult) -> None:
        """Remember where the gallery's tiles are on screen; move off them unless the host placed the panel."""
        if not self.config.source.is_live:  # a file's frames are not on this screen
            return
        scale = self._scale()
        tiles = tiles_on_screen(frame.tiles_xyxy, frame.region_xywh, scale)
        hidden = tiles_on_screen(frame.hidden_xyxy, frame.region_xywh, scale)
        # A hidden person in no known tile (its tile was not found under the panel) counts as one.
        hidden = hidden[containing_box(hidden, tiles) < 0]
        self._tiles_screen = np.vstack([tiles, hidden]) if len(hidden) else tiles
        covered = self._count_covered()
        if covered and not self._host_placed and self.isVisible():
            self._move_off_tiles(covered)
            self._geometry_changed()
        else:  # the panel did not move: its occluders are as they were, only the count may change
            self._recount()

    def _move_off_tiles(self, covered_now: int) -> None:
        """Go to the screen place that covers no tile (the gallery's screen first), else the fewest."""
        size = self.frameGeometry().size()
        best: tuple[int, QPoint] | None = None
        screens = sorted(QGuiApplication.screens(), key=lambda s: s is not self.screen())
        for screen in screens:
            a = screen.availableGeometry()
            (x, y), n = best_place((a.x(), a.y(), a.width(), a.height()), (size.width(), size.height()),
                                   self._tiles_screen)
            if best is None or n < best[0]:
                best = (n, QPoint(x, y))
            if n == 0:
                break
        if best is not None and best[0] < covered_now:
            log.info("overlay moved to %d,%d, off the gallery's tiles (covers %d, was %d)",
                     best[1].x(), best[1].y(), best[0], covered_now)
            self.move(best[1])

    # ------------------------------------------------------------------ inputs from the run

    def show_frame(self, frame: FrameResult) -> None:
        """Take one frame's results; the screen catches up on the next throttled repaint."""
        if self.control.pause.is_set():
            return
        self._frame = frame
        self._stale = False
        mood = frame.mood
        self._attention = attention_count(frame)
        self._alert = self.alerts.update(mood, frame.t_mono, self._attention)
        self._take_tiles(frame)
        value: float | None
        if not self.config.privacy.emotions:
            value = float(mood.faces_seen if mood is not None else 0)
            if value > self._max_faces:
                self._max_faces = int(value)
                self._set_presence_range()
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
        if status.state in ("ended", "error"):
            self._ended = True
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
            self._stale = True  # what is on the panel is now the last reading, not the class
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
        """Stop the run and close, without asking: the tray's "Stop and quit", and "Stop" in the question."""
        self.close()

    def ask_stop(self) -> None:
        """The panel's close button: ask before ending the recording (the run goes on meanwhile).

        "Keep running" (the default, and Esc) leaves the run and the panel as they are; "Stop"
        ends the run. Once the run is over (ended, failed or stopping) there is nothing to ask.
        """
        if not self._run_active():
            self.close_panel()
            return
        if self.confirm_box is not None and self.confirm_box.isVisible():
            self.confirm_box.raise_()
            return
        box = QMessageBox(self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # one box per question, not one kept per click
        apply_theme(box)
        box.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, True)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("ClassMood")
        box.setText(CONFIRM_STOP_TEXT)
        box.setInformativeText("Stop ends the recording; what was recorded is kept for the report.\n"
                               "Keep running leaves everything as it is (pause with "
                               f"{PAUSE_SHORTCUT} or the Pause button).")
        stop = box.addButton("Stop", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("Keep running", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)

        def answered(button: QAbstractButton | None) -> None:
            self.confirm_box = None
            if button is stop:
                log.info("the host stopped the recording from the panel")
                self.close_panel()

        def gone() -> None:  # closed without an answer: deleted with it (WA_DeleteOnClose)
            if self.confirm_box is box:
                self.confirm_box = None

        box.buttonClicked.connect(answered)
        box.finished.connect(gone)
        self.confirm_box = box
        box.open()

    def _run_active(self) -> bool:
        return not self.control.stop.is_set() and self._error is None and not self._ended

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
            # Not self.update(): the panel's own painting (its background) does not change with a
            # frame, and a label repaints itself when its text does (issue 13: with the badges
            # re-laid only on change, the GUI thread of a still 7x7 class on Xvfb went from 5.4 to
            # 3.7 ms of CPU a second).
            self.updateGeometry()
        if self.badge_layer is not None and not self.paused and self.badges_button.isChecked():
            self.badge_layer.refresh()

    def _update_texts(self, storage_error: str | None) -> None:
        f, paused = self._frame, self.paused
        mood = f.mood if f is not None else None
        stale = self._stale and f is not None
        if mood is None:
            self.counts_label.setText("Participants seen 0 \u00b7 faces now 0")
        else:
            self.counts_label.setText(f"Participants seen {mood.participants_known} \u00b7 faces now "
                                      f"{mood.faces_seen} of {mood.tiles_seen} tiles")
        self.mood_label.setText(self._mood_text(mood))
        if self.config.privacy.emotions and mood is not None and mood.distribution is not None:
            self.emotion_bar.set_distribution(mood.distribution)
        else:
            self.emotion_bar.set_distribution(None)
        self.legend.set_distribution(self.emotion_bar.shares)
        attention = self._attention_text(mood)
        self.attention_label.setText(attention or "")
        self.attention_label.setVisible(attention is not None)
        covering = covering_text(self._covered, mood.hidden_by_overlay if mood is not None else 0)
        self.covering_label.setText(covering or "")
        self.covering_label.setVisible(covering is not None)
        if stale and f is not None:
            self.stale_label.setText(f"{'Paused' if paused else 'Resuming'} \u2014 last reading "
                                     f"{local_time(f.t_utc):%H:%M:%S}")
        self.stale_label.setVisible(stale)
        for label in (self.counts_label, self.mood_label, self.attention_label):
            _set_property(label, "stale", "true" if stale else "false")
        self.emotion_bar.set_stale(stale)
        self.legend.set_stale(stale)
        self.trend.set_stale(stale)
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
        _set_property(self.status_label, "level", level)
        self.status_label.setText(text)
        self.title.setText("ClassMood \u00b7 paused" if paused else "ClassMood")
        self.setWindowOpacity(0.85 if paused else 1.0)

    def _mood_text(self, mood: object) -> str:
        """"Mood +12 from 18 of 24 faces": the index and how many faces it stands on."""
        if not self.config.privacy.emotions:
            return "Presence only: no emotions analysed"
        if not isinstance(mood, ClassMood) or mood.faces_seen == 0:
            return "Mood: no face to read yet"
        if mood.mood_index is None or mood.faces_readable == 0:
            return f"Mood: none of the {mood.faces_seen} faces readable now"
        return f"Mood {mood.mood_index:+.0f} from {mood.faces_readable} of {mood.faces_seen} faces"

    def _attention_text(self, mood: ClassMood | None) -> str | None:
        """"Looking at the lesson: 18 of 24"; None where attention is not read at all."""
        count = self._attention
        if count is not None and count.read > 0:
            text = f"Looking at the lesson: {count.attending} of {count.read}"
            unread = (mood.faces_seen if mood is not None else count.read) - count.read
            return text + (f" ({unread} not read yet)" if unread > 0 else "")
        if count is None and mood is not None and mood.attention_share is not None:
            return f"Looking at the lesson: {mood.attention_share:.0%} of faces"  # aggregate: no per-face rows
        if not self.config.attention:
            return None
        return "Looking at the lesson: no reading yet"

    def paintEvent(self, _event: QPaintEvent | None) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QColor(255, 255, 255, 50))
        p.setBrush(QColor(*PANEL_RGBA))
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
            self._dragged = True
            event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent | None) -> None:
        self._drag_offset = None
        if self._dragged:  # the host chose this place: it stays, and says if it covers tiles
            self._dragged = False
            self.set_host_placed(True)

    def set_host_placed(self, placed: bool) -> None:
        """Whether the panel stays where it is (the host put it there) or moves off the tiles by itself."""
        self._host_placed = placed
        self._save_timer.start()

    def closeEvent(self, event: QCloseEvent | None) -> None:
        """Closing the panel ends the run: stop is set, the worker winds down, the app returns.

        A close from the window system (a window manager's close button, Alt+F4) while the
        run is going asks first, like the panel's own close button; closes from the program
        (the tray's Quit, the end of the run) do not.
        """
        if event is not None and event.spontaneous() and self._run_active():
            event.ignore()
            self.ask_stop()
            return
        self.control.stop.set()
        self.control.set_occluders([])
        self._repaint_timer.stop()
        self.save_placement()
        if self.badge_layer is not None:
            self.badge_layer.close()
        if event is not None:
            event.accept()
        self.closed.emit()


def _set_property(widget: QWidget, name: str, value: str) -> None:
    """Set a property a style sheet rule matches on, and re-apply the sheet when it changed."""
    if widget.property(name) == value:
        return
    widget.setProperty(name, value)
    style = widget.style()
    if style is not None:
        style.unpolish(widget)
        style.polish(widget)


def _button(text: str, tip: str, checkable: bool = False) -> QToolButton:
    b = QToolButton()
    b.setText(text)
    b.setToolTip(tip)
    b.setCheckable(checkable)
    b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return b
