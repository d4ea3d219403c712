"""The overlay on a real X server (Xvfb): it starts despite OpenCV's Qt plugins, and its badges
drawn over a gallery do not feed into its own capture.

The ``xvfb_display`` fixture (``tests/conftest.py``) starts Xvfb on a free display; the Qt side
runs in a child process (``xvfb_scene.py``) because this process's Qt is offscreen. The child runs the real pipeline
(MediaPipe on a window capture of the gallery) under ``run_with_overlay`` with badges shown,
and saves a screenshot to ``tests/artifacts/``; here every captured frame, and the screenshot
itself, must show every face of the gallery and no other.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
SCENE = HERE / "xvfb_scene.py"
ARTIFACTS = HERE.parents[0] / "artifacts"

pytestmark = pytest.mark.skipif(shutil.which("Xvfb") is None,
                                reason="Xvfb is not installed (apt-get install xvfb): no real X display to test on")


def run_scene(display: str, *args: str, timeout_s: float = 90) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QT_")}  # ours is offscreen; no theme either
    env.update(DISPLAY=display, XDG_RUNTIME_DIR=tempfile.mkdtemp(prefix="classmood-xdg-"), PYTHONUNBUFFERED="1")
    return subprocess.run([sys.executable, str(SCENE), *args], env=env, capture_output=True, text=True,
                          timeout=timeout_s, cwd=HERE.parents[1])


def test_qt_starts_on_x11_although_cv2_points_it_at_its_own_plugins(xvfb_display: str) -> None:
    broken = run_scene(xvfb_display, "--qt-only", "--no-qt-fix", timeout_s=30)
    assert broken.returncode != 0 and "cv2/qt/plugins" in broken.stderr, \
        "control case: importing cv2 before a plain QApplication should break xcb; if it no longer does, " \
        f"overlay.qt_env may be unnecessary (rc={broken.returncode})"
    fixed = run_scene(xvfb_display, "--qt-only", timeout_s=30)
    assert fixed.returncode == 0, fixed.stderr[-2000:]
    assert "platform=xcb" in fixed.stdout


def _matches(truth: list[list[float]], found: list[list[float]]) -> tuple[list[int], list[int]]:
    """Truth faces without a detection, and detections without a truth face (by centre containment)."""
    unmatched_found = list(range(len(found)))
    missed = []
    for i, (x1, y1, x2, y2) in enumerate(truth):
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        hit = next((j for j in unmatched_found
                    if found[j][0] <= cx <= found[j][2] and found[j][1] <= cy <= found[j][3]), None)
        if hit is None:
            missed.append(i)
        else:
            unmatched_found.remove(hit)
    return missed, unmatched_found


def test_badges_over_the_gallery_do_not_feed_into_the_capture(xvfb_display: str) -> None:
    out = ARTIFACTS / "overlay_xvfb"
    shutil.rmtree(out, ignore_errors=True)
    result = run_scene(xvfb_display, "--out", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    scene = json.loads((out / "scene.json").read_text())
    truth = scene["truth_faces_xyxy"]
    assert len(truth) >= 8 and scene["badges"], "the scene must have faces and show badges"

    # 1. Every frame the live pipeline captured while the badges were on screen.
    with_badges = [f for f in scene["frames"] if f["frame_id"] >= scene["badges_from"] + 2]
    assert len(with_badges) >= 3, scene["frames"]
    for f in with_badges:
        assert f["region_xywh"] == scene["gallery_xywh"]
        missed, extra = _matches(truth, f["faces_xyxy"])
        assert not missed and not extra, f"frame {f['frame_id']}: missed {missed}, extra {extra}"

    # 2. The screenshot saved as the artifact: badges are really drawn there, beside the faces,
    #    and the real detector still finds exactly the gallery's faces in it.
    shot = cv2.imread(str(out / "shot.png"))
    gallery = cv2.imread(str(out / "gallery.png"))
    x, y, w, h = scene["gallery_xywh"]
    region = shot[y:y + h, x:x + w]
    changed = np.abs(region.astype(np.int16) - gallery.astype(np.int16)).max(axis=2) > 40
    for bx1, by1, bx2, by2, _text in scene["badges"]:
        inner = changed[int(by1) + 2:int(by2) - 2, int(bx1) + 2:int(bx2) - 2]
        assert inner.mean() > 0.3, "a badge is not visible in the screenshot"
        for fx1, fy1, fx2, fy2 in truth:
            assert not (bx1 < fx2 - 2 and fx1 + 2 < bx2 and by1 < fy2 - 2 and fy1 + 2 < by2), "a badge covers a face"
    badge_px = sum((by2 - by1) * (bx2 - bx1) for bx1, by1, bx2, by2, _ in scene["badges"])
    assert changed.sum() <= 1.2 * badge_px, "the overlay changed the gallery outside its badges"

    from bot.detect import FaceFinder
    from models.face_detector import MediaPipeFaceDetector
    from vocab.types import FrameResult

    # The captured window (as ``window:`` captures it), and the whole screen with the panel on it
    # (as ``screen`` captures it); truth is in gallery pixels, which are screen pixels here.
    assert (x, y) == (0, 0)
    detector = MediaPipeFaceDetector()
    try:
        finder = FaceFinder(detector)
        for name, image in (("window", region), ("whole screen", shot)):
            found = finder(FrameResult(0, 0.0, datetime.now(UTC), (0, 0, image.shape[1], image.shape[0]),
                                       image=np.ascontiguousarray(image)))
            missed, extra = _matches(truth, found.faces.xyxy.tolist())
            assert not missed and not extra, f"{name} screenshot: missed {missed}, extra {extra}"
    finally:
        detector.close()

    # 3. The panel started over the gallery and moved off every tile by itself; the run was told
    #    the rectangle it covers (on X11 it is captured), and nothing was left over the gallery.
    px, py, pw, ph = scene["panel"]
    sx, sy = scene["panel_start_xy"]
    assert any(x1 < sx + pw and sx < x2 and y1 < sy + ph and sy < y2 for x1, y1, x2, y2 in scene["tiles_xyxy"]), \
        "setup: the panel should start over the gallery"
    for x1, y1, x2, y2 in scene["tiles_xyxy"]:
        assert not (x1 < px + pw and px < x2 and y1 < py + ph and py < y2), (scene["panel"], (x1, y1, x2, y2))
    assert scene["occluders_xyxy"] == [[px, py, px + pw, py + ph]]
    assert scene["frames"][-1]["occluded_xyxy"] == [], "the gallery region's frames are not covered any more"

    # 4. The panel beside it said what it saw, in numbers true of the frame it showed.
    counts, mood, attention, covering, _status = scene["panel_texts"]
    shown = next(f for f in scene["frames"] if f["frame_id"] == scene["panel_frame_id"])
    assert f"faces now {len(truth)} of {scene['tiles']} tiles" in counts, scene["panel_texts"]
    assert covering == ""
    assert scene["privacy"] == "full"
    assert mood.endswith(f" from {shown['faces_readable']} of {len(truth)} faces"), mood
    if shown["attention"] is not None and shown["attention"][1] > 0:
        attending, read = shown["attention"]
        assert attention.startswith(f"Looking at the lesson: {attending} of {read}"), attention


def test_every_overlay_text_reads_at_wcag_aa_without_a_desktop_theme(xvfb_display: str) -> None:
    """No window manager, no platform theme: the colours are all the overlay's own."""
    from overlay_contrast import WCAG_AA

    out = ARTIFACTS / "overlay_contrast"
    shutil.rmtree(out, ignore_errors=True)
    result = run_scene(xvfb_display, "--contrast", "--out", str(out), timeout_s=60)
    assert result.returncode == 0, result.stderr[-3000:]
    measured = json.loads((out / "contrast.json").read_text())
    assert measured["platform"] == "xcb"
    counts = {k: len(v) for k, v in measured.items() if isinstance(v, list) and k != "panel_xy"}
    assert counts["settings"] >= 15 and counts["menu"] == 5 and counts["panel_paused_over_white"] >= 8, counts
    low = [(where, m) for where, ms in measured.items() if where not in ("platform", "panel_xy")
           for m in ms if m["ratio"] < WCAG_AA]
    assert not low, low
