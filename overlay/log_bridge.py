"""Warnings and errors the pipeline only logs (a skipped frame, a model fault, a lost source),
forwarded to the overlay's status line so the host can read them without a terminal.
"""

from __future__ import annotations

import logging

from PyQt5.QtCore import QObject, pyqtSignal

from vocab.errors import one_line

WATCHED_LOGGERS = ("bot", "db", "models")


class _Handler(logging.Handler):
    def __init__(self, bridge: LogBridge, level: int) -> None:
        super().__init__(level)
        self._bridge = bridge

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = one_line(record.getMessage())
        except Exception:  # a broken log call must not break the pipeline thread
            return
        self._bridge.message.emit(text, record.levelno)


class LogBridge(QObject):
    """``message(text, level)`` for every record at ``level`` or above, from any thread.

    Signals cross threads safely (queued to the receiver's thread); ``uninstall()`` before the
    bridge is deleted so no thread logs into a dead object.
    """

    message = pyqtSignal(str, int)

    def __init__(self, loggers: tuple[str, ...] = WATCHED_LOGGERS, level: int = logging.WARNING) -> None:
        super().__init__()
        self._handler = _Handler(self, level)
        self._loggers = loggers

    def install(self) -> None:
        for name in self._loggers:
            logging.getLogger(name).addHandler(self._handler)

    def uninstall(self) -> None:
        for name in self._loggers:
            logging.getLogger(name).removeHandler(self._handler)
