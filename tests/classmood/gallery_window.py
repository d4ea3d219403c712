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


def _window(image_bgr: np.ndarray):  # noqa: ANN202
    from PyQt5.QtCore import Qt
    from PyQt5.QtGui import QImage, QPixmap
    from PyQt5.QtWidgets import QLabel

    h, w = image_bgr.shape[:2]
    rgb = np.ascontiguousarray(image_bgr[:, :, ::-1])
    label = QLabel(None, Qt.FramelessWindowHint)
    label.setAttribute(Qt.WA_DeleteOnClose)  # close really destroys the X window
    label.setWindowTitle(TITLE)
    label.setPixmap(QPixmap.fromImage(QImage(rgb.data, w, h, 3 * w, QImage.Format_RGB888).copy()))
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
    window = _window(gallery.image)

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
            window = _window(gallery.image)
        elif cmd == "hide" and window is not None:
            window.hide()
        elif cmd == "show" and window is not None:
            window.show()
        settle()
        print(f"ok {cmd}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
