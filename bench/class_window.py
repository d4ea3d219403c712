"""Child process of ``bench.live_cpu``: a simulated 7x7 class in a window on a real X server.

Shows a composed 1920x1080 gallery (``tools.compose_gallery``) at the top left of ``DISPLAY``,
repainted with fresh camera noise ``--refresh-hz`` times a second (live video never shows the
same pixels twice; a still profile photo does, and the face finder tells them apart by that).
Steered by lines on stdin, each answered with ``ok <command> <unix time shown>`` on stdout:

- ``join``: the last tile's camera comes on (a face joins);
- ``leave``: the first tile's camera goes off (a face leaves);
- ``swap``: the centre tile shows another photo (a clear change of face and expression);
- ``quit``.

At start it prints ``tiles`` and the tile boxes as JSON, then ``ok ready``. Runs in its own
process so that its Qt and its noise cost are not counted against the run being measured.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import queue
import sys
import threading
import time

import cv2  # noqa: F401  first, as in the app (see overlay.qt_env)
import numpy as np

from tools.compose_gallery import Gallery

SIZE_WH = (1920, 1080)
GRID = (7, 7)
JOIN_TILE, LEAVE_TILE, SWAP_TILE = 48, 0, 24


def galleries(seed: int = 7, grid: tuple[int, int] = GRID, size_wh: tuple[int, int] = SIZE_WH,
              ) -> dict[str, tuple[np.ndarray, list[tuple[int, int, int, int]]]]:
    """``class_states`` as ``(image, tile boxes)`` pairs."""
    return {k: (g.image, [t.xyxy for t in g.tiles]) for k, g in class_states(seed, grid, size_wh).items()}


# The centre tile's face before and after "swap": people the emotion model reads as clearly
# neutral (0.93 on the photo's crop) and clearly happy (0.95), so that the swap is also "an
# expression flips" (issue 13: shown within 2 s). Without the shared photos: other people.
SWAP_FROM_PHOTO = "80_0_1_20170111205423680.jpg"
SWAP_TO_PHOTO = "50_1_0_20170111182452943.jpg"


def class_states(seed: int = 7, grid: tuple[int, int] = GRID, size_wh: tuple[int, int] = SIZE_WH,
                 ) -> dict[str, Gallery]:
    """The four states of the class, each a ``Gallery`` (image and truth): ``start`` (the
    last tile's camera off), ``join`` (it comes on), ``leave`` (the first tile's goes off) and
    ``swap`` (the centre tile shows another person, with another expression)."""
    from tools.compose_gallery import grid_layout, load_face_photos, random_participants, render_gallery

    n = grid[0] * grid[1]
    join_tile, leave_tile, swap_tile = n - 1, 0, n // 2
    rng = np.random.default_rng(seed)
    photos = load_face_photos()
    people = random_participants(photos, n + 1, rng)
    boxes = grid_layout(*grid, size_wh, gap_px=6, margin_px=10)
    base = list(people[:n])
    by_name = {ph.path.name: ph for ph in photos}
    if SWAP_FROM_PHOTO in by_name:
        base[swap_tile] = dataclasses.replace(base[swap_tile], photo=by_name[SWAP_FROM_PHOTO])
    joined_person = base[join_tile]
    base[join_tile] = dataclasses.replace(joined_person, photo=None)  # camera off until "join"
    states = {"start": base}
    states["join"] = [*base[:join_tile], joined_person]
    left = list(states["join"])
    left[leave_tile] = dataclasses.replace(left[leave_tile], photo=None)
    states["leave"] = left
    swapped = list(left)
    swap_to = by_name.get(SWAP_TO_PHOTO, people[n].photo)
    swapped[swap_tile] = dataclasses.replace(swapped[swap_tile], photo=swap_to)
    states["swap"] = swapped
    return {k: render_gallery(v, boxes, size_wh, jpeg_quality=85) for k, v in states.items()}


def with_noise(image_bgr: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``image_bgr`` with fresh camera noise (uniform +-5 grey levels, sigma ~3)."""
    noise = rng.integers(-5, 6, image_bgr.shape, dtype=np.int16)
    return np.clip(image_bgr.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def _pixmap(image_bgr: np.ndarray, rng: np.random.Generator):  # noqa: ANN202
    from PyQt5.QtGui import QImage, QPixmap

    h, w = image_bgr.shape[:2]
    rgb = np.ascontiguousarray(with_noise(image_bgr, rng)[:, :, ::-1])
    return QPixmap.fromImage(QImage(rgb.tobytes(), w, h, 3 * w, QImage.Format.Format_RGB888).copy())


def main(argv: list[str] | None = None) -> int:
    from PyQt5.QtCore import Qt
    from PyQt5.QtWidgets import QLabel

    from overlay.qt_env import qt_application

    p = argparse.ArgumentParser()
    p.add_argument("--refresh-hz", type=float, default=4.0)
    args = p.parse_args(argv)
    app = qt_application()
    states = galleries()
    image, boxes = states["start"]
    commands: queue.Queue[str] = queue.Queue()

    def read_commands() -> None:
        for line in sys.stdin:
            commands.put(line.strip())

    threading.Thread(target=read_commands, daemon=True).start()
    rng = np.random.default_rng(0)
    label = QLabel(None, Qt.WindowType.FramelessWindowHint)
    label.setWindowTitle("Zoom Meeting")
    label.setGeometry(0, 0, *SIZE_WH)
    label.setPixmap(_pixmap(image, rng))
    label.show()
    for _ in range(30):
        app.processEvents()
        time.sleep(0.01)
    print("tiles " + json.dumps(boxes), flush=True)
    print("ok ready", flush=True)
    period = 1.0 / args.refresh_hz
    next_frame = time.monotonic() + period
    while True:
        app.processEvents()
        if time.monotonic() >= next_frame:
            label.setPixmap(_pixmap(image, rng))
            next_frame += period
        try:
            cmd = commands.get(timeout=0.01)
        except queue.Empty:
            continue
        if cmd == "quit":
            return 0
        if cmd in states:
            image = states[cmd][0]
            label.setPixmap(_pixmap(image, rng))
            label.repaint()
            app.processEvents()
            app.processEvents()
        print(f"ok {cmd} {time.time():.3f}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
