"""What the host sees, told truthfully (issue 12 items 1, 8-12; issue 15's overlay part), on Qt offscreen.

Placement off the gallery's tiles and the rectangle reported to the run, the palette measured on
rendered pixels, the trend's scales from the first frame, the mood bar's legend and tooltips,
stale readings while paused, the close button's question, and the attention line.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from overlay_contrast import WCAG_AA, grab_rgb, text_contrast, text_widgets_contrast
from test_widget import make_frame, new_window, run_scripted

from bot.mood import with_mood
from bot.pipeline import RunControl, RunStatus
from vocab.labels import EMOTIONS, UNREADABLE
from vocab.settings import AlertConfig, Config
from vocab.timefmt import local_time
from vocab.types import Faces, FrameResult

pytestmark = pytest.mark.usefixtures("qapp")

SCREEN = "region:0,0,800,600"  # a live source: the offscreen platform's one 800x600 screen


def gallery_frame(frame_id: int, t: float, grid: tuple[int, int], area_xywh: tuple[int, int, int, int],
                  attention: list[int] | None = None, probs: np.ndarray | None = None,
                  hidden_xyxy: np.ndarray | None = None) -> FrameResult:
    """A live frame of ``area_xywh`` (screen px) tiled ``grid`` (cols, rows), a face in every tile."""
    ax, ay, aw, ah = area_xywh
    cols, rows = grid
    tw, th = aw // cols, ah // rows
    tiles = np.array([[c * tw, r * th, (c + 1) * tw, (r + 1) * th] for r in range(rows) for c in range(cols)],
                     np.int32)
    n = len(tiles)
    centre = (tiles[:, :2] + tiles[:, 2:]) / 2
    xyxy = np.hstack([centre - 15, centre + 15]).astype(np.float32)
    p = probs if probs is not None else np.tile(np.array([0.05, 0, 0.05, 0.7, 0.05, 0.05, 0.1], np.float32), (n, 1))
    label = np.where(np.isfinite(p).all(axis=1), np.nan_to_num(p).argmax(axis=1), UNREADABLE).astype(np.int64)
    faces = Faces(xyxy=xyxy, score=np.ones(n, np.float32), tile_xyxy=tiles, emotion_probs=p,
                  track_id=np.arange(1, n + 1, dtype=np.int64), smoothed_probs=p, label=label,
                  attention=None if attention is None else np.array(attention, np.int8))
    hidden = hidden_xyxy if hidden_xyxy is not None else np.zeros((0, 4), np.float32)
    frame = FrameResult(frame_id=frame_id, t_mono=t, t_utc=datetime(2026, 11, 29, 9, 41, 7, tzinfo=UTC),
                        region_xywh=(ax, ay, aw, ah), tiles_xyxy=tiles, faces=faces,
                        hidden_track_ids=np.arange(100, 100 + len(hidden), dtype=np.int64), hidden_xyxy=hidden)
    return with_mood(frame, participants_known=n + len(hidden))


def panel_xyxy(w) -> tuple[int, int, int, int]:  # noqa: ANN001
    g = w.frameGeometry()
    return g.x(), g.y(), g.x() + g.width(), g.y() + g.height()


def covers(panel: tuple[int, int, int, int], frame: FrameResult) -> int:
    rx, ry = frame.region_xywh[:2]
    return sum(1 for x1, y1, x2, y2 in frame.tiles_xyxy.tolist()
               if min(panel[2], x2 + rx) > max(panel[0], x1 + rx) and min(panel[3], y2 + ry) > max(panel[1], y1 + ry))


# ---------------------------------------------------------------------------- 1. placement


def test_the_panel_moves_off_the_tiles_and_tells_the_run_what_it_covers(tmp_path: Path) -> None:
    control = RunControl()
    w = new_window(Config(source=SCREEN), tmp_path, control)
    w.show()
    frame = gallery_frame(1, 0.0, (3, 3), (380, 0, 420, 420))  # a gallery under the panel's top-right default
    assert covers(panel_xyxy(w), frame) > 0, "setup: the default place should start over the gallery"
    w.show_frame(frame)
    w.flush()
    assert covers(panel_xyxy(w), frame) == 0 and w.covered_tiles == 0
    assert not w.covering_label.isVisibleTo(w)
    g = w.frameGeometry()
    assert control.occluders_in((0, 0, 800, 600)).tolist() == [[g.x(), g.y(), g.x() + g.width(), g.y() + g.height()]]
    # The run's own pixels: a capture of the gallery region sees the panel where it overlaps.
    w.hide()
    assert control.occluders_in((0, 0, 800, 600)).shape == (0, 4), "a hidden panel covers nothing"
    w.show()
    assert len(control.occluders_in((0, 0, 800, 600))) == 1
    w.close()
    assert control.occluders_in((0, 0, 800, 600)).shape == (0, 4)


def test_a_panel_the_host_put_on_the_gallery_stays_and_says_so(tmp_path: Path) -> None:
    from PyQt5.QtCore import QPoint, Qt
    from PyQt5.QtTest import QTest

    control = RunControl()
    w = new_window(Config(source=SCREEN), tmp_path, control)
    w.show()
    frame = gallery_frame(1, 0.0, (4, 2), (0, 0, 800, 400))  # no place free of tiles is tall enough
    default = panel_xyxy(w)
    w.show_frame(frame)
    w.flush()
    least = w.covered_tiles
    assert 0 < least < covers(default, frame), "not the least covered place"
    assert w.covering_label.isVisibleTo(w)
    assert w.covering_label.text() == f"Covering {least} tile{'s' if least > 1 else ''} \u2014 drag me aside"
    # The host drags it onto the middle of the gallery: it stays there (no jumping back) and warns.
    start = QPoint(60, 10)
    QTest.mousePress(w, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    target = QPoint(200, 150)
    QTest.mouseMove(w, start)
    from PyQt5.QtGui import QMouseEvent
    from PyQt5.QtWidgets import QApplication

    move = QMouseEvent(QMouseEvent.MouseMove, start, w.mapToGlobal(start) + (target - w.pos()),
                       Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(w, move)
    QTest.mouseRelease(w, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    assert w.host_placed and (w.x(), w.y()) == (200, 150)
    w.show_frame(gallery_frame(2, 1.0, (4, 2), (0, 0, 800, 400)))
    w.flush()
    assert (w.x(), w.y()) == (200, 150)
    n = covers(panel_xyxy(w), frame)
    assert n > least and w.covering_label.text().startswith(f"Covering {n} tiles")
    g = w.frameGeometry()
    assert control.occluders_in((0, 0, 800, 600)).tolist() == [[200, 150, 200 + g.width(), 150 + g.height()]]
    w.close()
    w2 = new_window(Config(source=SCREEN), tmp_path)  # the host's place is remembered as theirs
    assert w2.host_placed and (w2.x(), w2.y()) == (200, 150)
    w2.close()


def test_people_hidden_under_the_panel_are_counted_on_it(tmp_path: Path) -> None:
    w = new_window(Config(source=SCREEN), tmp_path)
    w.set_host_placed(True)
    w.show()
    w.move(500, 300)
    frame = gallery_frame(1, 0.0, (2, 1), (0, 0, 400, 200), hidden_xyxy=np.array([[600, 400, 640, 440]], np.float32))
    w.show_frame(frame)
    w.flush()
    # The hidden person's tile was not found under the panel; their last place counts as one.
    assert w.covering_label.text() == "Covering 1 tile, 1 person hidden \u2014 drag me aside"
    w.close()


def test_windows_is_asked_to_leave_the_overlay_out_of_captures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    from PyQt5.QtWidgets import QWidget

    import overlay.capture_exclusion as ce

    widget = QWidget()
    if sys.platform != "win32":
        assert ce.exclude_from_capture(widget) is False  # X11, macOS: nothing to ask, the panel is captured
    calls: list[tuple[int, int]] = []

    class User32:
        result = 1

        def SetWindowDisplayAffinity(self, hwnd: int, affinity: int) -> int:  # noqa: N802  (the Win32 name)
            calls.append((hwnd, affinity))
            return self.result

    user32 = User32()
    monkeypatch.setattr(ce.sys, "platform", "win32")
    monkeypatch.setattr(ce, "_user32", lambda: user32)
    assert ce.exclude_from_capture(widget) is True
    assert calls == [(int(widget.winId()), 0x11)]
    user32.result = 0
    with caplog.at_level(logging.WARNING, logger="overlay.capture_exclusion"):
        assert ce.exclude_from_capture(widget) is False
    assert "refused to keep the overlay out of screen captures" in caplog.text
    # The panel then hides nothing from the capture: no occluder, nobody counted as hidden.
    user32.result = 1
    control = RunControl()
    w = new_window(Config(source=SCREEN), tmp_path, control)
    w.show()
    assert w.excluded_from_capture and control.occluders_in((0, 0, 800, 600)).shape == (0, 4)
    w.close()


# ---------------------------------------------------------------------------- 8. palette


@pytest.mark.parametrize("over_rgb", [(255, 255, 255), (0, 0, 0)])
def test_every_text_of_the_panel_and_settings_reads_at_wcag_aa(tmp_path: Path, over_rgb: tuple[int, int, int]) -> None:
    from overlay.settings_dialog import SettingsDialog
    from overlay.tray import tray_menu

    w = new_window(Config(source=SCREEN), tmp_path)
    w.show()
    for i in range(3):
        w.show_frame(gallery_frame(i + 1, float(i), (2, 2), (0, 0, 300, 300), attention=[0, 0, 1, 2]))
    w.set_paused(True)  # the greyed "stale" text must still be readable
    w.flush()
    dialog = SettingsDialog(w.config, w)  # as the panel opens it: its child, under its style sheet
    dialog.error.setText("alerts.negative_for_s must be a number from 0 to 3600")
    dialog.error.show()
    dialog.show()
    menu = tray_menu(w)
    measured = {"panel": text_widgets_contrast(w, over_rgb), "settings": text_widgets_contrast(dialog, over_rgb)}
    assert len(measured["panel"]) >= 8 and len(measured["settings"]) >= 15, measured
    low = [(where, m) for where, ms in measured.items() for m in ms if m["ratio"] < WCAG_AA]
    assert not low, low
    # The menu draws its items itself: measure each item's row of the rendered menu.
    image = grab_rgb(menu, over_rgb)
    for action in menu.actions():
        if action.isSeparator() or not action.isVisible():
            continue
        r = menu.actionGeometry(action)
        ratio, bg, fg = text_contrast(image[r.top():r.bottom(), r.left():r.right()])
        assert ratio >= WCAG_AA, (action.text(), ratio, bg, fg)
    dialog.close()
    w.close()


# ---------------------------------------------------------------------------- 9. trend scales


@pytest.mark.parametrize(("privacy", "y_labels"), [("full", ["\u2212100", "0", "+100"]), ("presence", ["0", "2", "4"])])
def test_the_trend_has_both_scales_from_the_first_frame(tmp_path: Path, privacy: str, y_labels: list[str]) -> None:
    w = new_window(Config(privacy=privacy), tmp_path)  # type: ignore[arg-type]
    w.resize(360, 330)
    w.show()
    w.show_frame(make_frame(1, 0.5, probs=None if privacy == "presence" else make_frame(1, 0).faces.emotion_probs[0]))
    w.flush()
    labels = w.trend.axis_labels()
    texts = [t for t, _ in labels]
    assert texts == [*y_labels, "0 min", "5 min", "10 min"]
    # Drawn, not just listed: every label's rectangle, on the rendered panel, holds readable text.
    from PyQt5.QtCore import QPoint

    image = grab_rgb(w, (255, 255, 255))
    at = w.trend.mapTo(w, QPoint(0, 0))
    assert w.trend.plot_rect().height() >= 40, "the chart is squeezed flat"
    for text, rect in labels:
        r = rect.translated(at.x(), at.y())
        crop = image[int(r.top()):int(r.bottom()) + 1, int(r.left()):int(r.right()) + 1]
        ratio, _, _ = text_contrast(crop)
        assert ratio >= WCAG_AA, f"axis label {text!r} is not readable ({ratio:.1f}:1)"
    # The line starts at the left (the run's start), not as a dot in the right-hand corner.
    plot = w.trend.plot_rect()
    assert abs(w.trend.x_of(0.5) - plot.left()) < 2
    w.show_frame(make_frame(2, 700.0, probs=None if privacy == "presence" else make_frame(1, 0).faces.emotion_probs[0]))
    w.flush()
    assert [t for t, _ in w.trend.axis_labels()][len(y_labels):] == ["5 min", "10 min"]  # 1:40 .. 11:40 of the run
    assert abs(w.trend.x_of(700.0) - plot.right()) < 2
    w.close()


# ---------------------------------------------------------------------------- 10. legend and tooltips


def test_every_slice_of_the_mood_bar_has_a_name_and_share(tmp_path: Path) -> None:
    from PyQt5.QtCore import QEvent, QPoint
    from PyQt5.QtGui import QHelpEvent
    from PyQt5.QtWidgets import QApplication, QToolTip

    probs = np.array([0.0, 0.004, 0.02, 0.6, 0.06, 0.016, 0.3], np.float32)  # Disgust and Fear are slivers
    w = new_window(Config(), tmp_path)
    w.resize(360, 330)
    w.show()
    w.show_frame(make_frame(1, 0.0, probs=probs))
    w.flush()
    assert w.legend.isVisibleTo(w)
    assert w.legend.entries == [("Angry", "0%"), ("Disgust", "<1%"), ("Fear", "2%"), ("Happy", "60%"),
                                ("Sad", "6%"), ("Surprise", "2%"), ("Neutral", "30%")]
    segs = {name: rect for name, _, rect in w.emotion_bar.segments()}
    assert "Angry" not in segs and segs["Fear"].width() < 10
    for name, share in (("Fear", "2%"), ("Disgust", "<1%"), ("Happy", "60%")):
        x = segs[name].center().x()
        assert w.emotion_bar.tooltip_at(x) == f"{name}: {share} of the class mood"
        pos = QPoint(int(x), 5)
        QApplication.sendEvent(w.emotion_bar, QHelpEvent(QEvent.Type.ToolTip, pos, w.emotion_bar.mapToGlobal(pos)))
        assert QToolTip.text() == w.emotion_bar.tooltip_at(pos.x())
    QToolTip.hideText()
    w.close()


# ---------------------------------------------------------------------------- 11. stale while paused


def test_a_paused_panel_marks_its_last_reading_stale(tmp_path: Path) -> None:
    w = new_window(Config(source=SCREEN), tmp_path)
    w.resize(360, 330)
    w.show()
    frame = gallery_frame(1, 0.0, (2, 2), (0, 0, 300, 300), attention=[0, 0, 0, 1])
    w.show_frame(frame)
    w.flush()
    live_text = text_contrast(grab_rgb(w.mood_label, (24, 24, 28)))
    assert not w.stale_label.isVisibleTo(w) and not w.emotion_bar.stale
    w.set_paused(True)
    w.show_frame(gallery_frame(2, 1.0, (2, 2), (0, 0, 300, 300)))  # in flight at the click: dropped
    w.flush()
    assert w.stale_label.isVisibleTo(w)
    assert w.stale_label.text() == f"Paused \u2014 last reading {local_time(frame.t_utc):%H:%M:%S}"
    assert w.mood_label.property("stale") == "true" and w.emotion_bar.stale and w.trend._stale
    stale_text = text_contrast(grab_rgb(w.mood_label, (24, 24, 28)))
    assert sum(stale_text[2]) < sum(live_text[2]) - 150, (live_text, stale_text)  # greyed on screen
    w.set_paused(False)
    w.flush()
    assert w.stale_label.text().startswith("Resuming \u2014 last reading")  # still the old reading
    w.show_frame(gallery_frame(3, 2.0, (2, 2), (0, 0, 300, 300)))
    w.flush()
    assert not w.stale_label.isVisibleTo(w) and w.mood_label.property("stale") == "false"
    w.close()


# ---------------------------------------------------------------------------- 12. closing asks


def _answer(w, text: str) -> None:  # noqa: ANN001
    box = w.confirm_box
    assert box is not None and box.isVisible() and box.text() == "Stop recording this class?"
    (button,) = [b for b in box.buttons() if b.text() == text]
    button.click()


def test_the_close_button_asks_and_keep_running_keeps_the_run(tmp_path: Path) -> None:
    seen: dict[str, object] = {}
    phase = {"n": 0}

    def script(w, now: float) -> bool:  # noqa: ANN001
        n = phase["n"]
        if n == 0 and now > 0.2:
            w.close_button.click()
            seen["stop_after_click"] = w.control.stop.is_set()
            _answer(w, "Keep running")
            seen["frames_at_keep"] = w._frame.frame_id if w._frame is not None else 0
            phase["n"] = 1
        elif n == 1 and w._frame is not None and w._frame.frame_id >= int(seen["frames_at_keep"]) + 3:  # type: ignore[call-overload]
            seen["visible"] = w.isVisible()
            w.close_button.click()
            _answer(w, "Stop")
            return True
        return False

    _, control, frames = run_scripted(tmp_path, script)
    assert seen["stop_after_click"] is False and seen["visible"] is True
    assert control.stop.is_set() and len(frames) >= int(seen["frames_at_keep"]) + 3  # type: ignore[call-overload]


def test_a_window_manager_close_asks_too_but_the_tray_quit_does_not(tmp_path: Path) -> None:
    from PyQt5.QtGui import QCloseEvent

    class WindowSystemClose(QCloseEvent):
        """A close from the window manager (its title-bar button, Alt+F4): Qt marks those spontaneous."""

        def spontaneous(self) -> bool:
            return True

    w = new_window(Config(), tmp_path)
    w.show()
    event = WindowSystemClose()
    w.closeEvent(event)
    assert not event.isAccepted() and not w.control.stop.is_set()
    _answer(w, "Keep running")
    assert not w.control.stop.is_set() and w.isVisible()
    w.closeEvent(WindowSystemClose())
    _answer(w, "Stop")
    assert w.control.stop.is_set() and not w.isVisible()

    w2 = new_window(Config(), tmp_path)
    w2.show()
    w2.close_panel()  # the tray's "Stop and quit" says what it does: no question
    assert w2.control.stop.is_set() and not w2.isVisible() and w2.confirm_box is None
    w3 = new_window(Config(), tmp_path)
    w3.show()
    w3.show_status(RunStatus("ended", "stopped after 12 frames"))
    w3.close_button.click()  # the run is over: nothing left to stop, nothing to ask
    assert w3.confirm_box is None and not w3.isVisible()


# ---------------------------------------------------------------------------- 15. attention


def test_attention_line_mood_faces_and_the_looking_away_alert(tmp_path: Path) -> None:
    probs = np.tile(np.array([0.05, 0, 0.05, 0.7, 0.05, 0.05, 0.1], np.float32), (6, 1))
    probs[[3, 4]] = np.nan  # looking down / away: no expression read
    config = Config(source=SCREEN, alerts=AlertConfig(looking_away_share_above=0.3, looking_away_for_s=120.0))
    w = new_window(config, tmp_path)
    attention = [0, 0, 4, 1, 2, -1]  # screen, screen, masked, down, away, not read yet
    for t in range(0, 121, 10):
        w.show_frame(gallery_frame(t + 1, float(t), (3, 2), (0, 0, 300, 200), attention=attention, probs=probs))
    w.flush()
    assert w.mood_label.text().startswith("Mood +") and w.mood_label.text().endswith("from 4 of 6 faces")
    assert w.attention_label.text() == "Looking at the lesson: 3 of 5 (1 not read yet)"
    assert w.alert_label.text() == "2 of 5 looking away for 2 min: 1 down, 1 away"
    w.show()
    w.badge_layer.refresh()  # type: ignore[union-attr]
    texts = [s.text for _, s in w.badge_layer.placed]  # type: ignore[union-attr]
    assert texts == ["Happy", "Happy", "Happy", "looking down", "looking away", "Happy"]
    w.close()


def test_presence_mode_shows_attention_and_no_emotion(tmp_path: Path) -> None:
    w = new_window(Config(source=SCREEN, privacy="presence"), tmp_path)  # type: ignore[arg-type]
    w.show()
    w.show_frame(gallery_frame(1, 0.0, (2, 2), (0, 0, 300, 300), attention=[0, 0, 3, 1],
                               probs=np.full((4, 7), np.nan, np.float32)))
    w.flush()
    assert w.attention_label.isVisibleTo(w) and w.attention_label.text() == "Looking at the lesson: 2 of 4"
    assert not w.emotion_bar.isVisibleTo(w) and not w.legend.isVisibleTo(w)
    assert w.mood_label.text() == "Presence only: no emotions analysed"
    w.badge_layer.refresh()  # type: ignore[union-attr]
    assert [s.text for _, s in w.badge_layer.placed] == ["here", "here", "eyes closed", "looking down"]  # type: ignore[union-attr]
    assert not set(EMOTIONS) & {s.text for _, s in w.badge_layer.placed}  # type: ignore[union-attr]
    w.close()
