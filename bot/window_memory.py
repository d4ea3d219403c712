"""What a detector window showed and answered, to ask it again only when that changed.

The frames of a class barely change from one second to the next. ``bot.detect.FaceFinder``
keeps each detector window's answer (``Kept``) with a coarse picture of the window
(``coarse_cells``: grey means of 16 px cells) and reuses it while no cell changed by
``CHANGE_MAX_DIFF`` grey levels (``cells_changed``), for at most ``REDETECT_AFTER_S``. The
same change test serves the expression and attention stages, which keep their readings of an
unchanged face the same way.

A person moving in their camera changes every window over them; those windows are not asked
again while the person's face is found again in the window it came from (``Hit``) and the
changes lie in that person's zone (``person_zones``, ``changed_within``; see FOLLOW_MIN_IOU).
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from vocab.geometry import Overlap, box_overlap, containing_box, points_inside
from vocab.protocols import FaceDetector

Window = tuple[int, int, int, int]


# Change test for kept detections: cells of CHANGE_CELL_PX screen pixels (grey means). Uniform
# camera noise of sigma 3 moves a 16 px cell's mean by ~0.2 and the largest of ~150 cells'
# differences to ~1; a face moving by a few pixels or a camera switched on moves cells by 10-100.
CHANGE_CELL_PX = 16
CHANGE_MAX_DIFF = 4.0
# Unchanged windows are asked again after this long (x0.75..1.25 each): a safety net only, any
# change is caught by the cells above. At 10 s the refreshes were ~6 detector calls a frame of a
# still 7x7 class (~9 ms of CPU), at 30 s ~2 (issue 13).
REDETECT_AFTER_S = 30.0


# A face found on the previous frame is followed: its window (the one whose box became the face)
# is asked first, and where it finds the face again (IoU >= FOLLOW_MIN_IOU with its last box),
# any other window whose changed cells all lie in that person's zone keeps its answer (less its
# boxes in the zone) instead of being asked again: a person moving in their camera changes the
# cells of every window over them (the padded tile, the second and close looks, 4-12 scan
# windows of three levels over a speaker), and all of them would only find that face again.
# The zone: the face box widened by FOLLOW_ZONE_SIDE face widths each side, FOLLOW_ZONE_UP face
# heights above and FOLLOW_ZONE_DOWN below (hair, shoulders, torso, hands at the chin),
# clipped to the face's tile. A change elsewhere (someone joining beside them, a slide) is asked
# about at once; the refresh after redetect_after_s still asks every window.
FOLLOW_MIN_IOU = 0.3
FOLLOW_ZONE_SIDE = 2.0
FOLLOW_ZONE_UP = 1.0
FOLLOW_ZONE_DOWN = 5.0


# Between two answers of the detector a followed face is tracked: its last picture, at most
# FOLLOW_PATCH_PX high, is looked for (normalised cross-correlation) within FOLLOW_SEARCH of its
# size around its last box, and where it matches at FOLLOW_MATCH_MIN or better the box moves with
# it; the window is asked again after FOLLOW_REDETECT_S, or at once when the match fails (a face
# turning, leaving, another person). A person swaying changes their window on every frame; the
# detector is not needed to see that the same face moved by a few pixels.
FOLLOW_PATCH_PX = 32
# Faces under this height (screen pixels) are not tracked: their picture is too coarse to place
# them reliably (two 25-29 px faces drifted off and were lost on the bench), the detector is asked.
FOLLOW_TRACK_MIN_PX = 40
# Nor are weak boxes: a box on a shirt or a chin under a face too small to find scores 0.5-0.6,
# and tracked it would stay there; asked again, the detector can find the face instead.
FOLLOW_TRACK_MIN_SCORE = 0.7
FOLLOW_SEARCH = 0.5
FOLLOW_MATCH_MIN = 0.9
FOLLOW_REDETECT_S = 5.0


@dataclasses.dataclass(frozen=True)
class Hit:
    """Where a face of the last frame came from: the window and detector whose box it is, and
    its picture then (``face_picture``), to track it by."""

    detector: FaceDetector
    window: Window
    min_score: float
    xyxy: np.ndarray  # (4,) float32, screen pixels
    score: float
    picture: tuple[np.ndarray, float, float, float] | None  # grey patch, its screen x0, y0, scale


def face_picture(gray_half: np.ndarray, xyxy: np.ndarray) -> tuple[np.ndarray, float, float, float] | None:
    """The face ``xyxy`` (screen pixels) cut from the half-scale grey frame and shrunk to at most
    ``FOLLOW_PATCH_PX`` high: ``(patch, x0, y0, scale)``, the patch's top-left in screen pixels
    and its pixels per half-scale pixel; None for a face under ``FOLLOW_TRACK_MIN_PX``."""
    h, w = gray_half.shape[:2]
    hx0, hy0 = max(0, int(xyxy[0] / 2)), max(0, int(xyxy[1] / 2))
    hx1, hy1 = min(w, int(np.ceil(xyxy[2] / 2))), min(h, int(np.ceil(xyxy[3] / 2)))
    if 2 * min(hx1 - hx0, hy1 - hy0) < FOLLOW_TRACK_MIN_PX:
        return None
    scale = min(1.0, FOLLOW_PATCH_PX / max(hx1 - hx0, hy1 - hy0))
    patch = gray_half[hy0:hy1, hx0:hx1]
    if scale < 1.0:
        patch = cv2.resize(patch, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return patch.copy(), 2.0 * hx0, 2.0 * hy0, scale


def track_face(gray_half: np.ndarray, hit: Hit) -> np.ndarray | None:
    """``(4,)`` float32: the face of ``hit`` found again in ``gray_half`` by its picture, its box
    moved with it; None where it does not match at ``FOLLOW_MATCH_MIN``."""
    if hit.picture is None or hit.score < FOLLOW_TRACK_MIN_SCORE:
        return None
    patch, px0, py0, scale = hit.picture
    h, w = gray_half.shape[:2]
    margin = FOLLOW_SEARCH * float(max(hit.xyxy[2] - hit.xyxy[0], hit.xyxy[3] - hit.xyxy[1]))
    rx0, ry0 = max(0, int((hit.xyxy[0] - margin) / 2)), max(0, int((hit.xyxy[1] - margin) / 2))
    rx1, ry1 = min(w, int((hit.xyxy[2] + margin) / 2) + 1), min(h, int((hit.xyxy[3] + margin) / 2) + 1)
    region = gray_half[ry0:ry1, rx0:rx1]
    if scale < 1.0 and region.size:
        region = cv2.resize(region, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    if region.shape[0] < patch.shape[0] or region.shape[1] < patch.shape[1]:
        return None
    _, best, _, (bx, by) = cv2.minMaxLoc(cv2.matchTemplate(region, patch, cv2.TM_CCOEFF_NORMED))
    if best < FOLLOW_MATCH_MIN:
        return None
    dx, dy = 2.0 * (rx0 + bx / scale) - px0, 2.0 * (ry0 + by / scale) - py0
    return (hit.xyxy + np.array([dx, dy, dx, dy], np.float32)).astype(np.float32)


@dataclasses.dataclass
class Kept:
    """One window's last detector answer and the coarse picture it was found on."""

    cells: np.ndarray  # (rows, cols) float32 grey means
    t_s: float
    due_s: float
    xyxy: np.ndarray  # (n, 4) float32, window pixels
    score: np.ndarray  # (n,) float32


def coarse_cells(small_gray: np.ndarray, window: Window, scale: int = 4, cell_px: int = CHANGE_CELL_PX) -> np.ndarray:
    """``(rows, cols)`` float32: the mean grey of each ``cell_px`` square of ``window`` (screen
    pixels), read from ``small_gray``, the frame in grey at ``1/scale`` size."""
    x0, y0, x1, y1 = (v // scale for v in window)
    patch = small_gray[y0:max(y1, y0 + 1), x0:max(x1, x0 + 1)]
    step = max(1, cell_px // scale)
    size = (max(1, patch.shape[1] // step), max(1, patch.shape[0] // step))
    return cv2.resize(patch, size, interpolation=cv2.INTER_AREA).astype(np.float32) if patch.size \
        else np.zeros((1, 1), np.float32)


def cells_changed(a: np.ndarray, b: np.ndarray, max_diff: float = CHANGE_MAX_DIFF) -> bool:
    """Whether any cell of ``b`` differs from ``a`` by ``max_diff`` grey levels or more (or the shapes differ)."""
    return a.shape != b.shape or float(np.abs(a - b).max()) >= max_diff


def person_zones(faces: np.ndarray, tiles: np.ndarray) -> np.ndarray:
    """``(n, 4)`` float32: where each person's movement shows around their face box ``faces``
    ``(n, 4)`` (see FOLLOW_ZONE_SIDE), clipped to the tile holding the face, if any."""
    w, h = (faces[:, 2] - faces[:, 0])[:, None], (faces[:, 3] - faces[:, 1])[:, None]
    zones = (faces + np.hstack((-FOLLOW_ZONE_SIDE * w, -FOLLOW_ZONE_UP * h, FOLLOW_ZONE_SIDE * w,
                                FOLLOW_ZONE_DOWN * h))).astype(np.float32).reshape(-1, 4)
    k = containing_box(faces, tiles) if len(tiles) and len(faces) else np.full(len(faces), -1)
    inside = k >= 0
    zones[inside, :2] = np.maximum(zones[inside, :2], tiles[k[inside], :2])
    zones[inside, 2:] = np.minimum(zones[inside, 2:], tiles[k[inside], 2:])
    return zones


def centre_in(xyxy: np.ndarray, zones: np.ndarray, reverse: bool = False) -> np.ndarray:
    """``(n,)`` bool: boxes ``xyxy`` whose centre lies in any of ``zones``; with ``reverse``,
    the boxes ``xyxy`` holding the centre of any of ``zones``."""
    if not len(xyxy) or not len(zones):
        return np.zeros(len(xyxy), bool)
    inner, outer = (zones, xyxy) if reverse else (xyxy, zones)
    inside = points_inside((inner[:, :2] + inner[:, 2:]) / 2, outer)
    return np.asarray(inside.any(axis=0 if reverse else 1), bool)


def changed_within(old: np.ndarray, now: np.ndarray, window: Window, zones: np.ndarray, max_diff: float) -> bool:
    """Whether every cell of ``window`` that changed (see ``cells_changed``) has its centre in one of ``zones``."""
    if old.shape != now.shape:
        return False
    rows, cols = np.nonzero(np.abs(old - now) >= max_diff)
    x0, y0, x1, y1 = window
    centres = np.stack((x0 + (cols + 0.5) * (x1 - x0) / now.shape[1], y0 + (rows + 0.5) * (y1 - y0) / now.shape[0]), 1)
    return bool(points_inside(centres, zones).any(axis=1).all())


def window_origin(window: Window) -> np.ndarray:
    """``(4,)`` float32 ``(x0, y0, x0, y0)``: added to a box in ``window``'s pixels, gives it in screen pixels."""
    return np.array(window[:2] * 2, np.float32)


def same_boxes(a: np.ndarray, b: np.ndarray, min_iou: float = 0.85) -> bool:
    """Whether two ``(n, 4)`` box sets are the same faces: as many boxes, each of ``b``
    overlapping its best match in ``a`` by ``min_iou`` or more (IoU)."""
    if len(a) != len(b):
        return False
    return not len(a) or bool((box_overlap(b, a, Overlap.IOU).max(axis=1) >= min_iou).all())
