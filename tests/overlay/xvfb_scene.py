"""Child process of ``test_xvfb.py``: a Zoom-like gallery window, the overlay and its badges on a
real X server (``DISPLAY`` is set by the parent), and a screen capture of the result.

Modes:

- ``--qt-only [--no-qt-fix]``: import cv2 (as the app does), create the ``QApplication`` and
  print the platform; without the fix, OpenCV's Qt plugin path makes this abort.
- default: the real pipeline (MediaPipe, window capture of "Zoom Meeting") runs under
  ``run_with_overlay`` while the badges are drawn over the gallery; every frame's detections,
  the badge rectangles and a screenshot (``shot.png``) go to ``--out``.
- ``--docs PATH``: the overlay fed with a few minutes of synthetic class moods over the real
  detections, captured as a small PNG for the README.
- ``--contrast --out DIR``: the panel (live and paused), its settings dialog and the tray menu
  with no desktop theme and no window manager; every text's contrast measured on the rendered
  pixels goes to ``contrast.json``, the renderings to PNGs (no photos in them).

Runs in its own process because Qt allows one platform per process and the widget tests use
the offscreen one.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import cv2  # first, as in the app: its import points Qt at cv2's own plugins (see overlay.qt_env)
import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

log = logging.getLogger("xvfb_scene")

GALLERY_TITLE = "Zoom Meeting"
GALLERY_WH = (1200, 675)
PANEL_XYWH = (1222, 20, 360, 380)
PANEL_START_XY = (700, 100)  # the live run starts with the panel over the gallery; it must move off
SEED = 0


def _process_for(app, seconds: float) -> None:  # noqa: ANN001
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def _show_gallery(image_bgr: np.ndarray):  # noqa: ANN202
    from PyQt5.QtCore import Qt
    from PyQt5.QtGui import QImage, QPixmap
    from PyQt5.QtWidgets import QLabel

    h, w = image_bgr.shape[:2]
    rgb = np.ascontiguousarray(image_bgr[:, :, ::-1])
    qimage = QImage(rgb.data, w, h, 3 * w, QImage.Format_RGB888).copy()
    label = QLabel(None, Qt.FramelessWindowHint)
    label.setWindowTitle(GALLERY_TITLE)
    label.setPixmap(QPixmap.fromImage(qimage))
    label.setGeometry(0, 0, w, h)
    label.show()
    return label


def _grab_screen() -> np.ndarray:
    import mss

    with mss.MSS() as sct:
        return np.ascontiguousarray(np.asarray(sct.grab(sct.monitors[1]))[:, :, :3])


def _write_placement(path: Path, xy: tuple[int, int] | None = None) -> None:
    from overlay.placement import Placement, save_placement

    x, y, w, h = PANEL_XYWH
    if xy is not None:
        x, y = xy
    save_placement(Placement(x=x, y=y, width=w, height=h, badges=True), path)


def live_run(app, out: Path, gallery) -> dict:  # noqa: ANN001
    """The real pipeline captures the gallery window while the overlay draws badges on it."""
    from PyQt5.QtCore import QTimer
    from PyQt5.QtWidgets import QApplication

    from bot.pipeline import RunControl, build_pipeline
    from bot.sources import open_source
    from overlay.app import run_with_overlay
    from overlay.window import OverlayWindow
    from vocab.settings import Config

    config = Config(source=f"window:{GALLERY_TITLE}", fps=4.0, privacy="full")  # type: ignore[arg-type]
    pipeline = build_pipeline(config)
    source = open_source(config.source)
    frames: list[dict] = []
    state: dict = {"badges_from": None, "badges": [], "panel": None}

    def on_frame(frame) -> None:  # noqa: ANN001  (worker thread: plain data only)
        from overlay.alerts import attention_count

        count = attention_count(frame)
        mood = frame.mood
        frames.append({"frame_id": frame.frame_id, "region_xywh": list(frame.region_xywh),
                       "faces_xyxy": frame.faces.xyxy.round(1).tolist(), "tiles": len(frame.tiles_xyxy),
                       "attention": None if count is None else [count.attending, count.read],
                       "faces_readable": None if mood is None else mood.faces_readable,
                       "occluded_xyxy": frame.occluded_xyxy.tolist()})

    def tick() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, OverlayWindow) and w.isVisible()]
        if not windows:
            return
        w = windows[0]
        layer = w.badge_layer
        if state["badges_from"] is None and layer is not None and layer.isVisible() and layer.placed:
            state["badges_from"] = frames[-1]["frame_id"] if frames else 0
        if state["badges_from"] is not None and frames and frames[-1]["frame_id"] >= state["badges_from"] + 5:
            cv2.imwrite(str(out / "shot.png"), _grab_screen())
            ox, oy = layer.region.x(), layer.region.y()
            state["badges"] = [[ox + r.left(), oy + r.top(), ox + r.right(), oy + r.bottom(), s.text]
                               for r, s in layer.placed]
            g = w.frameGeometry()
            state["panel"] = [g.x(), g.y(), g.width(), g.height()]
            state["occluders_xyxy"] = control.occluders_in((0, 0, 1600, 900)).tolist()
            state["panel_frame_id"] = w._frame.frame_id if w._frame is not None else None
            state["panel_texts"] = [w.counts_label.text(), w.mood_label.text(), w.attention_label.text(),
                                    w.covering_label.text() if w.covering_label.isVisible() else "",
                                    w.status_label.text()]
            w.close()

    timer = QTimer()
    timer.setInterval(50)
    timer.timeout.connect(tick)
    timer.start()
    control = RunControl()
    QTimer.singleShot(40_000, control.stop.set)  # a hung run must not hang the test
    try:
        run_with_overlay(pipeline, source, config, None, control, on_frame, placement_path=out / "overlay.json")
    finally:
        timer.stop()
        pipeline.close()
        source.close()
    return {"privacy": config.privacy.value, "frames": frames, **state}


def docs_shot(app, gallery, path: Path, out: Path) -> None:  # noqa: ANN001
    """The overlay over the gallery with a few minutes of made-up moods, for the README."""
    from PIL import Image

    from bot.detect import FaceFinder
    from bot.mood import with_mood
    from bot.pipeline import RunControl, RunStatus
    from models.face_detector import MediaPipeFaceDetector
    from overlay.window import OverlayWindow
    from vocab.settings import AlertConfig, Config
    from vocab.types import FrameResult

    h, w = gallery.image.shape[:2]
    detector = MediaPipeFaceDetector()
    try:
        found = FaceFinder(detector)(FrameResult(0, 0.0, datetime.now(UTC), (0, 0, w, h),
                                                 image=gallery.image))
    finally:
        detector.close()
    config = Config(source=f"window:{GALLERY_TITLE}", alerts=AlertConfig(cameras_off_share_above=0.15))
    window = OverlayWindow(config, RunControl(), placement_path=out / "overlay.json", repaint_ms=10_000)
    rng = np.random.default_rng(7)
    n = len(found.faces)
    base = rng.dirichlet(np.ones(7) * 0.6, size=n).astype(np.float32)
    for k in range(0, 481, 2):  # 8 minutes at one frame every 2 s
        t = float(k)
        happy = 0.35 + 0.25 * np.sin(t / 70.0)
        probs = 0.5 * base + 0.5 * rng.dirichlet(np.ones(7) * 0.8, size=n).astype(np.float32)
        probs[:, 3] += happy
        probs[:, 6] += 0.3
        probs /= probs.sum(axis=1, keepdims=True)
        faces = found.faces.__class__(xyxy=found.faces.xyxy, score=found.faces.score, tile_xyxy=found.faces.tile_xyxy,
                                      emotion_probs=probs, track_id=np.arange(n, dtype=np.int64),
                                      smoothed_probs=probs, label=probs.argmax(axis=1).astype(np.int64))
        frame = FrameResult(k, t, datetime.now(UTC), (0, 0, w, h), tiles_xyxy=found.tiles_xyxy, faces=faces)
        window.show_frame(with_mood(frame, participants_known=n + 3))
    window.show_status(RunStatus("running", f"capturing window:{GALLERY_TITLE}"))
    window.show()
    window.flush()
    _process_for(app, 0.8)
    shot = _grab_screen()[:, :, ::-1]
    x, y, pw, ph = PANEL_XYWH
    crop = shot[: max(h, y + ph) + 10, : x + pw + 10]
    image = Image.fromarray(np.ascontiguousarray(crop))
    image = image.resize((image.width * 2 // 3, image.height * 2 // 3), Image.LANCZOS)
    image = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.FLOYDSTEINBERG)
    image.save(path, optimize=True)
    window.close()


def contrast_check(app, out: Path) -> int:  # noqa: ANN001
    """The overlay's windows on a bare X server: measure every text's contrast as rendered."""
    from datetime import UTC, datetime

    from overlay_contrast import grab_rgb, text_contrast, text_widgets_contrast
    from PyQt5.QtCore import QPoint

    from bot.mood import with_mood
    from bot.pipeline import RunControl
    from overlay.settings_dialog import SettingsDialog
    from overlay.tray import tray_menu
    from overlay.window import OverlayWindow
    from vocab.settings import Config
    from vocab.types import Faces, FrameResult

    tiles = np.array([[0, 0, 300, 225], [300, 0, 600, 225], [0, 225, 300, 450], [300, 225, 600, 450]], np.int32)
    probs = np.tile(np.array([0.02, 0.01, 0.03, 0.6, 0.04, 0.05, 0.25], np.float32), (4, 1))
    probs[3] = np.nan
    faces = Faces(xyxy=(tiles + np.array([100, 50, -100, -50])).astype(np.float32), score=np.ones(4, np.float32),
                  tile_xyxy=tiles, emotion_probs=probs, track_id=np.arange(1, 5, dtype=np.int64),
                  smoothed_probs=probs, label=np.array([3, 3, 3, -2]), attention=np.array([0, 0, 4, 1], np.int8))
    window = OverlayWindow(Config(source="region:0,0,600,450"), RunControl(), placement_path=out / "overlay.json",
                           repaint_ms=10_000)
    window.show()
    for k in range(30):
        frame = FrameResult(k + 1, 2.0 * k, datetime.now(UTC), (0, 0, 600, 450), tiles_xyxy=tiles, faces=faces)
        window.show_frame(with_mood(frame, participants_known=4))
    window.flush()
    _process_for(app, 0.5)
    results: dict = {"platform": app.platformName(), "panel_xy": [window.x(), window.y()]}
    for state in ("live", "paused"):
        if state == "paused":
            window.set_paused(True)
            window.flush()
            _process_for(app, 0.3)
        for name, over in (("white", (255, 255, 255)), ("black", (0, 0, 0))):
            results[f"panel_{state}_over_{name}"] = text_widgets_contrast(window, over)
        cv2.imwrite(str(out / f"panel_{state}.png"), grab_rgb(window, (255, 255, 255))[:, :, ::-1])
    dialog = SettingsDialog(window.config, window)  # as the panel opens it
    dialog.show()
    _process_for(app, 0.5)
    results["settings"] = text_widgets_contrast(dialog)
    cv2.imwrite(str(out / "settings.png"), grab_rgb(dialog)[:, :, ::-1])
    dialog.close()
    menu = tray_menu(window)
    menu.popup(QPoint(900, 300))
    _process_for(app, 0.5)
    image = grab_rgb(menu)
    cv2.imwrite(str(out / "menu.png"), image[:, :, ::-1])
    results["menu"] = []
    for action in menu.actions():
        if action.isSeparator() or not action.isVisible():
            continue
        r = menu.actionGeometry(action)
        ratio, bg, fg = text_contrast(image[r.top():r.bottom(), r.left():r.right()])
        results["menu"].append({"widget": "QMenu item", "text": action.text(), "ratio": round(ratio, 2),
                                "bg": bg, "fg": fg})
    menu.close()
    window.close()
    (out / "contrast.json").write_text(json.dumps(results, indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--out", type=Path)
    p.add_argument("--qt-only", action="store_true")
    p.add_argument("--no-qt-fix", action="store_true")
    p.add_argument("--docs", type=Path)
    p.add_argument("--contrast", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.no_qt_fix:
        from PyQt5.QtWidgets import QApplication

        app = QApplication(["xvfb_scene"])
    else:
        from overlay.qt_env import qt_application

        app = qt_application()
    print(f"platform={app.platformName()}", flush=True)
    if args.qt_only:
        return 0
    if args.contrast:  # needs no photos: the panel is fed made-up frames
        args.out.mkdir(parents=True, exist_ok=True)
        return contrast_check(app, args.out)

    from tools.compose_gallery import compose_gallery, load_face_photos

    gallery = compose_gallery(load_face_photos(), grid=(3, 4), size_wh=GALLERY_WH, seed=SEED, camera_off_frac=0.2)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out / "gallery.png"), gallery.image)
    _write_placement(out / "overlay.json", None if args.docs else PANEL_START_XY)
    label = _show_gallery(gallery.image)
    _process_for(app, 0.5)
    if args.docs:
        docs_shot(app, gallery, args.docs, out)
        return 0
    result = live_run(app, out, gallery)
    label.close()
    result["gallery_xywh"] = [0, 0, *GALLERY_WH]
    result["truth_faces_xyxy"] = [list(t.face_xyxy) for t in gallery.tiles if t.face_xyxy is not None]
    result["tiles"] = len(gallery.tiles)
    result["tiles_xyxy"] = gallery.tiles_xyxy().tolist()
    result["panel_start_xy"] = list(PANEL_START_XY)
    (out / "scene.json").write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
