"""The pipeline's loop in a worker thread; what it yields arrives in the GUI thread as signals.

The shape of superqt's ``thread_worker``: a generator runs in a ``QThread``, every
``FrameResult`` becomes ``frame_ready``, every ``RunStatus`` becomes ``status_changed``, and an
exception becomes ``failed(text)`` (and stays on ``.error``), never a silently dead thread or
a crash of the overlay. Storage and the caller's ``on_frame`` run here, off the GUI thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from PyQt5.QtCore import QObject, pyqtSignal, pyqtSlot

from bot.pipeline import RunControl, RunStatus
from vocab.errors import ClassMoodError
from vocab.protocols import FrameSink
from vocab.types import FrameResult

log = logging.getLogger(__name__)


class PipelineWorker(QObject):
    """Runs ``events()`` (e.g. ``lambda: run_frames(...)``) to its end; move it to a ``QThread``.

    A frame yielded while ``control.pause`` is set was captured just before the host pressed
    pause; it is dropped, not stored or shown, so a pause means nothing stored from that click.
    """

    frame_ready = pyqtSignal(object)  # FrameResult
    status_changed = pyqtSignal(object)  # RunStatus
    failed = pyqtSignal(str)  # a readable one-line reason; the run is over
    finished = pyqtSignal()

    def __init__(self, events: Callable[[], Iterator[FrameResult | RunStatus]], recorder: FrameSink | None,
                 control: RunControl, on_frame: Callable[[FrameResult], None] | None = None) -> None:
        super().__init__()
        self._events = events
        self._recorder = recorder
        self._control = control
        self._on_frame = on_frame
        self.error: BaseException | None = None
        self.frames = 0

    @pyqtSlot()
    def run(self) -> None:
        try:
            paused = False
            for event in self._events():
                if isinstance(event, RunStatus):
                    if self._recorder is not None and (event.state == "paused") != paused:
                        paused = event.state == "paused"
                        self._recorder.mark_paused(paused, event.t_mono)
                    self.status_changed.emit(event)
                    continue
                if self._control.pause.is_set():
                    continue
                if self._recorder is not None:
                    self._recorder.submit(event)
                if self._on_frame is not None:
                    self._on_frame(event)
                self.frames += 1
                self.frame_ready.emit(event)
        except ClassMoodError as e:
            self.error = e
            log.error("the run stopped: %s", e)
            self.failed.emit(f"Stopped: {e}")
        except Exception as e:  # the overlay must show it, not die with the thread
            self.error = e
            log.exception("the run stopped after an unexpected error")
            self.failed.emit(f"Stopped by an unexpected error: {type(e).__name__}: {e}")
        finally:
            self.finished.emit()
