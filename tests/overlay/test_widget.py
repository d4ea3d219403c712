"""The overlay on Qt's offscreen platform: what frames show, pause, settings, errors, stopping.

The run-level tests go through ``run_with_overlay`` itself (worker thread, signals, a real
``db.recorder.Recorder`` on a temporary SQLite file); the stand-in pipeline and source are the
only fakes, so these tests need neither models nor a screen.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from bot.mood import with_mood
from bot.pipeline import RunControl, RunStatus
from db.engine import open_engine
from db.recorder import Recorder, SessionInfo
from db.schema import PauseRow, SnapshotRow, session_scope
from vocab.errors import ConfigError, ModelError
from vocab.protocols import CapturedFrame
from vocab.settings import AlertConfig, Config, Privacy, SourceSpec
from vocab.types import Faces, FrameResult

pytestmark = pytest.mark.usefixtures("qapp")

HAPPY = np.array([0.05, 0.0, 0.05, 0.7, 0.05, 0.05, 0.1], np.float32)


def make_frame(frame_id: int, t: float, n_faces: int = 3, n_tiles: int = 4,
               probs: np.ndarray | None = HAPPY, region: tuple[int, int, int, int] = (0, 0, 640, 360)) -> FrameResult:
    """A processed frame: ``n_faces`` faces in the first tiles of a 2x2 gallery."""
    tiles = np.array([[0, 0, 320, 180], [320, 0, 640, 180], [0, 180, 320, 360], [320, 180, 640, 360]],
                     np.int32)[:n_tiles]
    face_tiles = tiles[:n_faces]
    xyxy = (face_tiles[:, :2] + np.array([[120, 40]])).astype(np.float32)
    xyxy = np.hstack([xyxy, xyxy + 80]).astype(np.float32)
    p = None if probs is None else np.tile(probs, (n_faces, 1))
    faces = Faces(xyxy=xyxy, score=np.ones(n_faces, np.float32), tile_xyxy=face_tiles.astype(np.int32),
                  emotion_probs=p, track_id=np.arange(1, n_faces + 1, dtype=np.int64), smoothed_probs=p,
                  label=None if p is None else p.argmax(axis=1).astype(np.int64))
    frame = FrameResult(frame_id=frame_id, t_mono=t, t_utc=datetime.now(UTC), region_xywh=region,
                        tiles_xyxy=tiles, faces=faces)
    return with_mood(frame, participants_known=n_faces)


def new_window(config: Config, tmp_path: Path, control: RunControl | None = None):  # noqa: ANN201
    from overlay.window import OverlayWindow

    return OverlayWindow(config, control or RunControl(), placement_path=tmp_path / "overlay.json",
                         repaint_ms=10_000)


# ---------------------------------------------------------------------------- the panel


def test_frames_update_counts_mood_bar_trend_and_alert(tmp_path: Path) -> None:
    config = Config(alerts=AlertConfig(no_faces_for_s=2.0))
    w = new_window(config, tmp_path)
    for i in range(5):
        w.show_frame(make_frame(i + 1, float(i)))
    w.flush()
    assert "Participants seen 3" in w.counts_label.text() and "faces now 3 of 4 tiles" in w.counts_label.text()
    assert w.mood_label.text().startswith("Mood +") and w.mood_label.text().endswith(" from 3 of 3 faces")
    assert ("Happy", "70%") in w.legend.entries
    assert w.emotion_bar.isVisibleTo(w) and w.emotion_bar.shares is not None
    assert sum(w.emotion_bar.shares) == pytest.approx(1.0)
    assert len(w.trend.points) == 5 and w.trend.points[-1][1] == pytest.approx(make_frame(1, 0).mood.mood_index)
    assert w.alert_label.text() == ""
    for t in (5.0, 6.0, 7.0):  # the gallery disappears
        w.show_frame(make_frame(int(t) + 1, t, n_faces=0))
    w.flush()
    assert "is the gallery view visible?" in w.alert_label.text()
    w.show_frame(make_frame(9, 8.0))
    w.flush()
    assert w.alert_label.text() == ""
    w.close()


def test_presence_mode_shows_no_emotions(tmp_path: Path) -> None:
    w = new_window(Config(privacy="presence"), tmp_path)
    w.show_frame(make_frame(1, 0.0, probs=None))
    w.show_frame(make_frame(2, 1.0, n_faces=2, probs=None))
    w.flush()
    assert not w.emotion_bar.isVisibleTo(w)
    assert "no emotions" in w.mood_label.text()
    assert "Faces present" in w.trend_caption.text()
    assert [v for _, v in w.trend.points] == [3.0, 2.0]
    assert w.badge_layer is not None and not w.badge_layer.emotions
    w.close()


def test_status_errors_and_storage_faults_are_readable_lines(tmp_path: Path) -> None:
    class Health:
        last_error: str | None = None

    health = Health()
    from overlay.window import OverlayWindow

    w = OverlayWindow(Config(), RunControl(), placement_path=tmp_path / "o.json", storage=health, repaint_ms=10_000)
    w.show_status(RunStatus("waiting", "window 'Zoom Meeting' is not visible (closed or minimised); retrying"))
    w.flush()
    assert w.status_label.text() == "Window 'Zoom Meeting' is not visible (closed or minimised); retrying"
    w.show_log("frame 7 skipped: emotion model missing", logging.ERROR)
    w.flush()
    assert w.status_label.text() == "frame 7 skipped: emotion model missing"
    assert w.status_label.property("level") == "error"
    health.last_error = "database write failed, 3 frames kept in memory: disk I/O error"
    w.flush()
    assert w.status_label.text().startswith("Storage: database write failed")
    w.show_error("Stopped: screen capture failed")
    assert w.status_label.text() == "Stopped: screen capture failed"
    w.close()


def test_click_through_sets_the_window_flag_and_is_remembered(tmp_path: Path) -> None:
    from PyQt5.QtCore import Qt

    from overlay.placement import load_placement

    w = new_window(Config(), tmp_path)
    w.show()
    w.move(123, 45)
    w.set_click_through(True)
    assert w.windowFlags() & Qt.WindowTransparentForInput and w.isVisible() and w.through_button.isChecked()
    w.set_click_through(False)
    assert not w.windowFlags() & Qt.WindowTransparentForInput
    w.set_click_through(True)
    w.close()  # saves the placement
    saved = load_placement(tmp_path / "overlay.json")
    assert (saved.x, saved.y, saved.click_through) == (123, 45, True)
    w2 = new_window(Config(), tmp_path)
    assert (w2.x(), w2.y()) == (123, 45) and w2.click_through
    w2.close()


def test_a_saved_place_off_every_screen_falls_back_to_the_top_right(tmp_path: Path) -> None:
    from PyQt5.QtGui import QGuiApplication

    from overlay.placement import Placement, save_placement

    save_placement(Placement(x=5000, y=4000), tmp_path / "overlay.json")
    w = new_window(Config(), tmp_path)
    area = QGuiApplication.primaryScreen().availableGeometry()
    assert area.contains(w.frameGeometry()) and w.x() > area.center().x()
    w.close()


def test_badges_sit_beside_faces_and_respect_privacy(tmp_path: Path) -> None:
    from overlay.badge_layout import overlaps

    w = new_window(Config(source="region:0,0,640,360"), tmp_path)
    assert w.badge_layer is not None
    w.show()
    w.show_frame(make_frame(1, 0.0, region=(10, 20, 640, 360)))
    w.flush()
    layer = w.badge_layer
    region = layer.region
    assert layer.isVisible() and (region.x(), region.y(), region.width(), region.height()) == (10, 20, 640, 360)
    assert [spec.text for _, spec in layer.placed] == ["Happy"] * 3
    windows = layer.windows()
    assert len(windows) == 3  # one small window a badge, each where its badge is laid out
    for (rect, spec), window in zip(layer.placed, windows, strict=True):
        assert not overlaps((rect.left(), rect.top(), rect.right(), rect.bottom()), spec.face_xyxy)
        g = window.geometry()
        assert abs(g.x() - (10 + rect.x())) <= 1 and abs(g.y() - (20 + rect.y())) <= 1
        assert g.width() * g.height() < 200 * 40  # a pill, not a layer over the region
    w.set_paused(True)
    assert not layer.isVisible()
    w.close()
    assert new_window(Config(source="region:0,0,640,360", privacy="aggregate"), tmp_path).badge_layer is None
    video = tmp_path / "class.mp4"
    video.write_bytes(b"")
    assert new_window(Config(source=str(video)), tmp_path).badge_layer is None


def test_settings_dialog_validates_with_bot_config(tmp_path: Path) -> None:
    from overlay.settings_dialog import SettingsDialog, build_config, form_kind

    base = Config(source="window:Zoom Meeting", fps=1.0)
    dialog = SettingsDialog(base)
    assert dialog.source_text() == "window:Zoom Meeting"
    dialog.fps.setValue(500.0)
    dialog.accept()
    assert dialog.error.isVisibleTo(dialog) and "fps must be a number from 0 to 60" in dialog.error.text()
    assert dialog.result() == 0 and dialog.config is base
    dialog.fps.setValue(2.0)
    dialog.source_kind.setCurrentIndex(1)
    for spin, v in zip(dialog.region, (10, 20, 800, 600), strict=True):
        spin.setValue(v)
    dialog.privacy.setCurrentIndex(2)
    dialog.negative_share.setValue(70)
    dialog.no_faces_for.setValue(30)
    dialog.accept()
    assert dialog.result() == 1 and not dialog.error.isVisibleTo(dialog)
    new = dialog.config
    assert (str(new.source), new.fps, new.privacy) == ("region:10,20,800,600", 2.0, Privacy.PRESENCE)
    assert (new.alerts.negative_share_above, new.alerts.no_faces_for_s) == (0.7, 30.0)
    with pytest.raises(ConfigError, match="window"):
        build_config(base, source="window:  ", fps=1.0, privacy="full", alerts={})
    assert form_kind(SourceSpec.parse("screen")) == "screen" and form_kind(SourceSpec.parse(str(tmp_path))) == "file"

    w = new_window(base, tmp_path)
    w.apply_config(new)
    assert w.alerts.config.no_faces_for_s == 30.0 and not w.emotion_bar.isVisibleTo(w)
    w.close()


# ---------------------------------------------------------------------------- whole runs


class StubPipeline:
    """Stands in for ``bot.pipeline.Pipeline``: every frame has three happy faces."""

    def __init__(self, fail_on: dict[int, Exception] | None = None) -> None:
        self.fail_on = fail_on or {}

    def process(self, captured: CapturedFrame, frame_id: int, t_mono: float, t_utc: datetime,
                occluded_xyxy: np.ndarray | None = None) -> FrameResult:
        if frame_id in self.fail_on:
            raise self.fail_on[frame_id]
        return make_frame(frame_id, t_mono, region=captured.region_xywh)


class StubSource:
    """A live source of small black frames; counts grabs; may raise on a given grab."""

    is_live = True

    def __init__(self, raise_on: dict[int, Exception] | None = None) -> None:
        self.grabs = 0
        self.raise_on = raise_on or {}

    def grab(self) -> CapturedFrame:
        self.grabs += 1
        if self.grabs in self.raise_on:
            raise self.raise_on[self.grabs]
        return CapturedFrame(np.zeros((36, 64, 3), np.uint8), (0, 0, 64, 36))

    def describe(self) -> str:
        return "stub"

    def close(self) -> None:
        pass


def run_scripted(tmp_path: Path, script: Callable[[object, float], bool], *, pipeline: object | None = None,
                 source: StubSource | None = None, config: Config | None = None, recorder: object = None,
                 control: RunControl | None = None, limit_s: float = 15.0) -> tuple[Config, RunControl, list]:
    """``run_with_overlay`` with ``script(window, elapsed_s)`` polled every 25 ms until it returns True."""
    from PyQt5.QtCore import QTimer
    from PyQt5.QtWidgets import QApplication

    from overlay.app import run_with_overlay
    from overlay.window import OverlayWindow

    control = control or RunControl()
    frames: list[FrameResult] = []
    t0 = time.monotonic()
    timer = QTimer()
    timer.setInterval(25)

    def tick() -> None:
        if time.monotonic() - t0 > limit_s:
            control.stop.set()
            return
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, OverlayWindow) and w.isVisible()]
        if windows and script(windows[0], time.monotonic() - t0):
            timer.stop()

    timer.timeout.connect(tick)
    timer.start()
    try:
        result = run_with_overlay(pipeline or StubPipeline(), source or StubSource(),  # type: ignore[arg-type]
                                  config or Config(fps=20.0), recorder, control, frames.append,
                                  placement_path=tmp_path / "overlay.json")
    finally:
        timer.stop()
    assert time.monotonic() - t0 < limit_s, "the scripted run hit its time limit"
    return result, control, frames


def count_snapshots(engine: object) -> int:
    with session_scope(engine) as s:  # type: ignore[arg-type]
        return int(s.scalar(select(func.count()).select_from(SnapshotRow)))


def test_pause_stops_capture_and_storage_until_resumed(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'classmood.db'}")
    info = SessionInfo(source="stub", live=True, privacy=Privacy.FULL, settings={}, model_sha256=None)
    recorder = Recorder(engine, info, commit_interval_s=0.05)
    source = StubSource()
    seen: dict[str, object] = {}
    phase = {"n": 0, "t": 0.0}

    def script(w, now: float) -> bool:  # noqa: ANN001
        n = phase["n"]
        if n == 0 and count_snapshots(engine) >= 3:
            w.pause_button.click()
            seen["paused_flag"] = w.control.pause.is_set()
            phase.update(n=1, t=now)
        elif n == 1 and now - phase["t"] > 0.3:  # frames in flight at the click have settled
            seen["rows_a"], seen["grabs_a"] = count_snapshots(engine), source.grabs
            phase.update(n=2, t=now)
        elif n == 2 and now - phase["t"] > 0.6:
            w.flush()
            seen["rows_b"], seen["grabs_b"] = count_snapshots(engine), source.grabs
            seen["status"] = w.status_label.text()
            w.pause_button.click()
            seen["resumed_flag"] = not w.control.pause.is_set()
            phase.update(n=3, t=now)
        elif n == 3 and count_snapshots(engine) >= int(seen["rows_b"]) + 3:  # type: ignore[call-overload]
            w.close()
            return True
        return False

    try:
        _, control, frames = run_scripted(tmp_path, script, source=source, recorder=recorder)
    finally:
        recorder.close()
    assert seen["paused_flag"] and seen["resumed_flag"]
    assert seen["rows_a"] == seen["rows_b"], "rows were stored while paused"
    assert seen["grabs_a"] == seen["grabs_b"], "the screen was captured while paused"
    assert seen["status"] == "Paused: nothing is captured or stored"
    assert control.stop.is_set()
    assert count_snapshots(engine) == len(frames) > int(seen["rows_b"])  # type: ignore[call-overload]
    # The pause is stored, so the report can show it rather than an absent class.
    with session_scope(engine) as s:
        ((t_from, t_to),) = s.execute(select(PauseRow.t_from_s, PauseRow.t_to_s)).all()
    assert t_to is not None and 0.6 < t_to - t_from < 10


def test_a_logged_model_fault_shows_and_the_run_goes_on(tmp_path: Path) -> None:
    seen: list[str] = []

    def script(w, now: float) -> bool:  # noqa: ANN001
        w.flush()
        if "emotion model" in w.status_label.text():
            seen.append(w.status_label.text())
        if len(seen) >= 3:  # shown for a while, and the run went on meanwhile
            w.close()
            return True
        return False

    pipeline = StubPipeline(fail_on={2: ModelError("emotion model models/emotion.onnx is missing")})
    _, _, frames = run_scripted(tmp_path, script, pipeline=pipeline)
    assert "frame 2 skipped: emotion model models/emotion.onnx is missing" in seen[0]
    assert frames and 2 not in [f.frame_id for f in frames]


def test_a_fatal_error_stays_on_the_panel_then_is_raised(tmp_path: Path) -> None:
    seen: list[str] = []

    def script(w, now: float) -> bool:  # noqa: ANN001
        if w.status_label.text().startswith("Stopped"):
            seen.append(w.status_label.text())
            if now > 0.5 and len(seen) > 5:  # still open and readable, then the host closes it
                w.close()
                return True
        return False

    source = StubSource(raise_on={3: RuntimeError("display connection lost")})
    with pytest.raises(RuntimeError, match="display connection lost"):
        run_scripted(tmp_path, script, source=source)
    assert seen[0] == "Stopped by an unexpected error: RuntimeError: display connection lost"


def test_ctrl_c_stops_the_run_cleanly(tmp_path: Path) -> None:
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT is handled by someone else in this process")
    sent = []

    def script(w, now: float) -> bool:  # noqa: ANN001
        if not sent and now > 0.3:
            sent.append(now)
            os.kill(os.getpid(), signal.SIGINT)
        return bool(sent)

    config, control, frames = run_scripted(tmp_path, script)
    assert control.stop.is_set() and frames and config == Config(fps=20.0)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_source_ending_closes_the_overlay_and_returns(tmp_path: Path) -> None:
    from vocab.errors import SourceEnded

    source = StubSource(raise_on={4: SourceEnded("end of class.mp4")})
    config, control, frames = run_scripted(tmp_path, lambda w, now: False, source=source)
    assert [f.frame_id for f in frames] == [1, 2, 3]
