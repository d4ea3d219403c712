"""Child process of ``test_run_faults.py``: a composed gallery in a window titled "Zoom Meeting"
on a real X server (``DISPLAY`` is set by the parent), steered by lines on stdin.

Commands, each answered with ``ok <command>`` on stdout once the X server has seen it:

- ``close``: destroy the window (the meeting window was closed);
- ``open``: create it again at the same place;
- ``hide`` / ``show``: unmap / map it (what minimising does to a window's map state);
- ``quit``.

At start it prints ``faces N`` (faces in the gallery, from the composer's ground truth) and
``ok ready``. Runs in its own process because the tests' own Qt is offscreen.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from pathlib import Path

import cv2  # noqa: F401  first, as in the app (see overlay.qt_env)
import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

TITLE = "Zoom Meeting"
SIZE_WH = (960, 540)


def _pixmap(image_bgr: np.ndarray, rng: np.random.Generator):  # noqa: ANN202
    """The gallery with fresh camera noise: live video never shows the same pixels twice."""
    from PyQt5.QtGui import QImage, QPixmap

    h, w = image_bgr.shape[:2]
    noisy = np.clip(image_bgr + rng.normal(0.0, 3.0, image_bgr.shape), 0, 255).astype(np.uint8)
    rgb = np.ascontiguousarray(noisy[:, :, ::-1])
    return QPixmap.fromImage(QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy())


def _window(image_bgr: np.ndarray, rng: np.random.Generator):  # noqa: ANN202
    from PyQt5.QtCore import Qt
    from PyQt5.QtWidgets import QLabel

    h, w = image_bgr.shape[:2]
    label = QLabel(None, Qt.WindowType.FramelessWindowHint)
    label.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # close really destroys the X window
    label.setWindowTitle(TITLE)
    label.setPixmap(_pixmap(image_bgr, rng))
    label.setGeometry(0, 0, w, h)
    label.show()
    return label


def main() -> int:
    from overlay.qt_env import qt_application
    from tools.compose_gallery import compose_gallery, load_face_photos

    app = qt_application()
    gallery = compose_gallery(load_face_photos(), grid=(3, 3), size_wh=SIZE_WH, seed=5, camera_off_frac=0.2,
                              jpeg_quality=0)
    commands: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [commands.put(line.strip()) for line in sys.stdin], daemon=True).start()
    rng = np.random.default_rng(0)
    window = _window(gallery.image, rng)
    next_frame = time.monotonic() + 0.25

    def settle() -> None:
        end = time.monotonic() + 0.3
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    settle()
    print(f"faces {int(gallery.face_mask().sum())}", flush=True)
    print("ok ready", flush=True)
    while True:
        app.processEvents()
        if window is not None and time.monotonic() >= next_frame:  # the "video" moves on
            window.setPixmap(_pixmap(gallery.image, rng))
            next_frame = time.monotonic() + 0.25
        try:
            cmd = commands.get(timeout=0.02)
        except queue.Empty:
            continue
        if cmd == "quit":
            return 0
        if cmd == "close" and window is not None:
            window.close()
            window = None
        elif cmd == "open" and window is None:
            window = _window(gallery.image, rng)
        elif cmd == "hide" and window is not None:
            window.hide()
        elif cmd == "show" and window is not None:
            window.show()
        settle()
        print(f"ok {cmd}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
