"""``run_with_overlay``: the live run with the host's overlay, until the window closes or Ctrl-C.

Threads: the pipeline's ``run_frames`` runs in a ``QThread`` (``PipelineWorker``), which also
submits each frame to the recorder and calls ``on_frame``; the GUI thread only shows what
arrives by signal. Stopping: closing the panel, the tray's Quit, or Ctrl-C sets
``control.stop``; the worker finishes its frame and ends, and this function returns after it
has. A fault that ends the run is shown on the panel until the host closes it, then re-raised
so the CLI reports it with its exit code.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from pathlib import Path

from bot.pipeline import Pipeline, RunControl, run_frames
from overlay.qt_env import qt_application
from vocab.protocols import FrameSink, FrameSource
from vocab.settings import Config
from vocab.types import FrameResult

log = logging.getLogger(__name__)

SIGNAL_POLL_MS = 200  # how often Python gets the chance to run a signal handler (Ctrl-C)


def run_with_overlay(pipeline: Pipeline, source: FrameSource, config: Config, recorder: FrameSink | None,
                     control: RunControl, on_frame: Callable[[FrameResult], None] | None = None, *,
                     placement_path: Path | None = None) -> Config:
    """Run ``pipeline`` on ``source`` with the overlay shown; returns the (possibly edited) config.

    ``recorder`` stores each frame (None: nothing stored); its ``health.last_error`` is shown when set.
    Raises what ended the run (``ClassMoodError`` etc.) after the host has seen it on the panel.
    """
    app = qt_application()
    from PyQt5.QtCore import QEventLoop, QThread, QTimer

    from overlay.log_bridge import LogBridge
    from overlay.tray import make_tray, tray_available
    from overlay.window import OverlayWindow
    from overlay.worker import PipelineWorker

    window = OverlayWindow(config, control, placement_path=placement_path,
                           storage=recorder.health if recorder is not None else None,
                           click_through_available=tray_available())
    tray = make_tray(window)
    from overlay.global_hotkey import start_global_hotkey

    hotkey = start_global_hotkey()
    if hotkey is not None:
        hotkey.activated.connect(window.toggle_pause)
    bridge = LogBridge()
    bridge.message.connect(window.show_log)
    worker = PipelineWorker(lambda: run_frames(pipeline, source, config, control), recorder, control, on_frame)
    thread = QThread()
    thread.setObjectName("classmood-pipeline")
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    worker.finished.connect(thread.quit)
    worker.frame_ready.connect(window.show_frame)
    worker.status_changed.connect(window.show_status)
    worker.failed.connect(window.show_error)

    loop = QEventLoop()

    def maybe_quit() -> None:
        # The run is over when the worker has finished; after a fault, only once the host has
        # read it (closed the panel) or asked to stop.
        if not thread.isFinished():
            return
        if worker.error is None or control.stop.is_set() or not window.isVisible():
            loop.quit()

    thread.finished.connect(maybe_quit)
    window.closed.connect(maybe_quit)
    poll = QTimer()
    poll.setInterval(SIGNAL_POLL_MS)
    poll.timeout.connect(maybe_quit)  # also lets Python run its SIGINT handler between Qt events
    old_sigint = _install_sigint(control)
    bridge.install()
    try:
        window.show()
        poll.start()
        thread.start()
        loop.exec_()
    finally:
        control.stop.set()
        poll.stop()
        thread.quit()
        thread.wait()
        bridge.uninstall()
        if old_sigint is not None:
            signal.signal(signal.SIGINT, old_sigint)
        if hotkey is not None:
            hotkey.stop()
        if tray is not None:
            tray.hide()
        if window.isVisible():
            window.close()
        if window.badge_layer is not None:
            window.badge_layer.close()
        window.deleteLater()
        app.processEvents()
    if worker.error is not None:
        raise worker.error
    return window.config


def _install_sigint(control: RunControl):  # type: ignore[no-untyped-def]
    """Ctrl-C sets ``control.stop`` unless the caller (the CLI) already handles SIGINT."""
    if threading.current_thread() is not threading.main_thread():
        return None
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return None  # a KeyboardInterrupt inside a Qt slot would abort the process; theirs is fine

    def on_sigint(_signum: int, _frame: object) -> None:
        log.info("Ctrl-C: stopping")
        control.stop.set()

    return signal.signal(signal.SIGINT, on_sigint)
