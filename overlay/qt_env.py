"""Make PyQt5 start on a real display although OpenCV is in the same process.

The ``opencv-contrib-python`` wheel that MediaPipe pulls in sets, when ``cv2`` is imported,
``QT_QPA_PLATFORM_PLUGIN_PATH`` and ``QT_QPA_FONTDIR`` to the Qt plugins and fonts bundled
inside ``cv2/qt``. Those plugins are linked against OpenCV's private Qt build, so PyQt5 then
aborts the whole process on X11: *Could not load the Qt platform plugin "xcb" in
".../cv2/qt/plugins" even though it was found*. (Offscreen happens to work, which is why the
problem only shows on a host's desktop.)

``prepare_qt_environment()`` imports ``cv2`` first, so its side effect has happened and cannot
happen again later, then drops those two variables when, and only when, they point into the
``cv2`` package; a path the user set on purpose is left alone. ``qt_application()`` does this
before creating the ``QApplication``.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PyQt5.QtWidgets import QApplication

log = logging.getLogger(__name__)

CV2_QT_VARIABLES = ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_QPA_FONTDIR")
# The overlay paints with QPainter only, never OpenGL; without this Qt's X11 plugin loads the
# system's OpenGL driver at start anyway (Mesa with its LLVM: +52 MB resident, measured on Xvfb).
NO_GL = ("QT_XCB_GL_INTEGRATION", "none")


def _cv2_dir() -> Path | None:
    try:
        import cv2  # noqa: F401  (imported for its side effect on os.environ, see module doc)
    except ImportError:
        return None
    module = sys.modules.get("cv2")
    file = getattr(module, "__file__", None)
    return Path(file).resolve().parent if file else None


def prepare_qt_environment() -> dict[str, str]:
    """Drop the Qt variables that point into ``cv2``; returns what was dropped (name -> value)."""
    cv2_dir = _cv2_dir()
    dropped: dict[str, str] = {}
    if cv2_dir is None:
        return dropped
    for name in CV2_QT_VARIABLES:
        value = os.environ.get(name)
        if value and _inside(Path(value), cv2_dir):
            dropped[name] = os.environ.pop(name)
    if dropped:
        log.debug("dropped OpenCV's Qt settings so PyQt5 uses its own plugins: %s", dropped)
    return dropped


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder)
    except (ValueError, OSError):
        return False
    return True


def qt_application() -> QApplication:
    """The process's ``QApplication``, created (after ``prepare_qt_environment``) if needed.

    Qt on X11 is told not to load OpenGL (``NO_GL``) unless the user set that variable.
    """
    prepare_qt_environment()
    os.environ.setdefault(*NO_GL)
    from PyQt5.QtWidgets import QApplication

    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    if app is not None:
        raise RuntimeError("a QCoreApplication without widgets already exists; the overlay needs a QApplication")
    app = QApplication(sys.argv[:1] or ["classmood"])
    app.setApplicationName("ClassMood")
    return app
