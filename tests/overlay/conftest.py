"""Overlay fixtures: one offscreen ``QApplication`` for the widget tests, and ``wait_until``.

The widget tests run on Qt's offscreen platform whatever display the machine has, so they
behave the same on a desktop, in CI and over SSH; the real-display checks live in
``test_xvfb.py``, which starts its own X server and runs Qt in a child process.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator

import pytest


@pytest.fixture(scope="session")
def qapp() -> Iterator[object]:
    """The offscreen ``QApplication`` (created once; Qt allows one per process)."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="classmood-xdg-"))
    from overlay.qt_env import qt_application

    app = qt_application()
    if app.platformName() != "offscreen":
        pytest.skip(f"a QApplication on {app.platformName()!r} already exists; the widget tests need offscreen")
    yield app


@pytest.fixture
def wait_until(qapp: object) -> Callable[..., None]:
    """``wait_until(predicate, timeout_s)``: process Qt events until it holds, or fail."""
    from PyQt5.QtWidgets import QApplication

    def wait(predicate: Callable[[], bool], timeout_s: float = 5.0, what: str = "condition") -> None:
        end = time.monotonic() + timeout_s
        while not predicate():
            if time.monotonic() > end:
                raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
            QApplication.processEvents()
            time.sleep(0.01)

    return wait
