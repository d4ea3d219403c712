"""A simulated desktop with a meeting window, panels open, shown full-screen on the X display.

``python tests/classmood/screen_window.py SEED``: prints one JSON line with the screen's ground
truth (faces, panel regions, decoy avatars), then ``ready``, and shows the screen as a frameless
window at (0, 0) until its stdin closes. The live tiles get fresh camera noise four times a
second, as a real call's video does; the panels and chrome stay still.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

SIZE_WH = (1600, 900)


def main(seed: int) -> int:
    from PyQt5.QtCore import Qt
    from PyQt5.QtGui import QImage, QPixmap
    from PyQt5.QtWidgets import QLabel

    from overlay.qt_env import qt_application
    from tools.screensim import random_spec, simulate_screen

    app = qt_application()
    spec = random_spec(seed, size_wh=SIZE_WH, layout="gallery", rows=3, cols=4, n_tiles=12, app="zoom",
                       windowed=False, panels=("people", "chat"), camera_off_frac=0.2, off_photo_frac=0.5,
                       masked_frac=0.0, turned_frac=0.0, down_frac=0.0, small_frac=0.0, lowlight_frac=0.0,
                       backlight_frac=0.0, motion_frac=0.0, pillarbox_frac=0.0, screen_jpeg=0, cursor=False)
    screen = simulate_screen(spec)
    live = np.zeros(screen.image.shape[:2], bool)
    for t in screen.tiles:
        if t.camera == "on":
            x1, y1, x2, y2 = t.xyxy
            live[y1:y2, x1:x2] = True
    print(json.dumps({"faces": [list(f.xyxy) for f in screen.faces],
                      "decoys": [[*d.xyxy, d.kind] for d in screen.decoys],
                      "panels": {k: list(v) for k, v in screen.regions.items() if k.startswith("panel-")}}),
          flush=True)
    rng = np.random.default_rng(seed)
    label = QLabel(None, Qt.WindowType.FramelessWindowHint)
    label.setWindowTitle("Zoom Meeting")
    label.setGeometry(0, 0, *SIZE_WH)

    def show() -> None:
        noise = rng.normal(0.0, 3.0, screen.image.shape) * live[..., None]
        frame = np.clip(screen.image + noise, 0, 255).astype(np.uint8)
        rgb = np.ascontiguousarray(frame[:, :, ::-1])
        h, w = rgb.shape[:2]
        label.setPixmap(QPixmap.fromImage(QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()))

    show()
    label.show()
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    end = time.monotonic() + 0.3
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    print("ready", flush=True)
    next_frame = time.monotonic()
    while not done.is_set():
        app.processEvents()
        if time.monotonic() >= next_frame:
            show()
            next_frame = time.monotonic() + 0.25
        time.sleep(0.01)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(int(sys.argv[1])))
