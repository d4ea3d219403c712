"""What a detector window showed and answered, to ask it again only when that changed.

The frames of a class barely change from one second to the next. ``bot.detect.FaceFinder``
keeps each detector window's answer (``Kept``) with a coarse picture of the window
(``coarse_cells``: grey means of 16 px cells) and reuses it while no cell changed by
``CHANGE_MAX_DIFF`` grey levels (``cells_changed``), for at most ``REDETECT_AFTER_S``. The
same change test serves the expression and attention stages, which keep their readings of an
unchanged face the same way.

A person moving in their camera changes every window over them; those windows are not asked
again while the person's face is found again in the window it came from (``Hit``) and the
changes lie in that person's zone (``person_zones``, ``cells_within``; see FOLLOW_MIN_IOU).
A window whose picture only moved with the tiles it shows keeps its answer, moved with them
(``picture_motion``, ``Kept.moved``; which answers may: ``Movable``).
"""

from __future__ import annotations

import dataclasses
import enum
import functools

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
# it; after FOLLOW_REDETECT_S, or at once when the match fails (a face turning, leaving, another
# person), the window goes back to the change tests: asked again unless its whole picture only
# moved (see SHIFT_MAX_SHARE). A person swaying changes their window on every frame; the
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


# A window whose picture only moved keeps its answer, moved with it: a camera that shakes (a
# laptop on a desk being typed on, a phone in the hand) or a person swaying with everything their
# camera shows changes every textured cell of every window over that tile, and those windows
# would only find the same faces again a few pixels away. Each tile in a window moves on its own
# (every participant's camera sways out of step); the rest of the window (gaps, the app, a
# slide) must stay. A tile's move is measured by phase correlation of its part of the window's
# 1/4-scale grey picture against the one the answer was found on (never against a later one, so
# small moves cannot add up unseen); the moves explain the change when, with each tile's part
# of the old picture moved by its own, no cell differs by SHIFT_MAX_DIFF any more (pixels within
# a move of the edge a part moved away from aside: what came in there is not in the old picture;
# changes in followed faces' zones are allowed as above). At most SHIFT_MAX_SHARE of the part's side.
# Anything new (a face joining or turning, a slide) does not move with the rest and changes
# cells by tens of levels; a picture moved by a fraction of a 1/4-scale pixel and coded again
# differs from the old one moved by up to ~8 levels on sharp edges (on the bench's swaying
# screens, 44 of the windows failed at 4 levels and passed at 6, 33 more at 8).
SHIFT_MAX_SHARE = 0.06
SHIFT_MAX_DIFF = 2 * CHANGE_MAX_DIFF
# A tile's part of a window narrower or lower than this (at 1/4 scale) is a sliver: its move is
# not measured, its pixels are left out of the test and its boxes keep their place.
SHIFT_MIN_PART_PX = 8
# The move is measured on the middle of a part at most this many 1/4-scale pixels each way (a
# phase correlation of 160x160 costs ~0.75 ms, of 96x96 ~0.15 ms) and checked on all of it.
SHIFT_ESTIMATE_PX = 96

# A window's answer is moved with its picture (see SHIFT_MAX_SHARE) for up to
# redetect_after_s when every box in it scores MOVED_MIN_SCORE or more. A weaker answer is
# sometimes the hair or shirt of a face the detector did not see (a 102 px turned face was boxed
# on its forehead at 0.5 and found at 0.67 when asked again; a 70 px box at 0.51 over a 29 px face
# became its own 0.54 box), and asking again gives it another chance; so it moves only once the
# detector, asked again, gave the same boxes (``Kept.confirmed``), and for FOLLOW_REDETECT_S at
# most. Asked on every change, weak answers cost speaker views 1.8x the per-tile cost (bench.detect
# --cost); moved from their first answer on, two small faces of the bench were lost.
MOVED_MIN_SCORE = 0.7


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
    xyxy: np.ndarray  # (n, 4) float32, window pixels, where the faces are now
    score: np.ndarray  # (n,) float32
    patch: np.ndarray | None = None  # the window at 1/4 scale, grey, when the answer was found
    found_xyxy: np.ndarray | None = None  # (n, 4) the boxes as found on ``patch``; None: as ``xyxy``
    confirmed: bool = False  # the detector, asked again, gave the same boxes as the answer before

    def unmoved(self) -> Kept:
        """The answer where it was found (the picture is back in place)."""
        return self if self.found_xyxy is None else dataclasses.replace(self, xyxy=self.found_xyxy, found_xyxy=None)

    def moved(self, motion: Motion, window: Window) -> Kept:
        """The answer with each box moved as the part of the picture holding its centre moved
        (see ``picture_motion``)."""
        found = self.xyxy if self.found_xyxy is None else self.found_xyxy
        shift = motion.shift_of(found + window_origin(window))
        return dataclasses.replace(self, xyxy=(found + np.hstack((shift, shift))).astype(np.float32), found_xyxy=found)

    def only(self, keep: np.ndarray) -> Kept:
        """The answer with only the boxes where ``keep`` (``(n,)`` bool)."""
        found = None if self.found_xyxy is None else self.found_xyxy[keep]
        return dataclasses.replace(self, xyxy=self.xyxy[keep], score=self.score[keep], found_xyxy=found)


@dataclasses.dataclass(frozen=True)
class Motion:
    """How a window's picture moved since its answer was found: each of ``pieces`` (screen
    xyxy, tiles) by its own ``shifts`` (screen px ``dx, dy``); everything else stayed."""

    pieces: np.ndarray  # (k, 4) float32
    shifts: np.ndarray  # (k, 2) float32

    def shift_of(self, xyxy: np.ndarray) -> np.ndarray:
        """``(n, 2)`` float32: the move of the piece holding each box's centre (0 outside them)."""
        out = np.zeros((len(xyxy), 2), np.float32)
        if len(xyxy) and len(self.pieces):
            inside = points_inside((xyxy[:, :2] + xyxy[:, 2:]) / 2, self.pieces)  # (n, k)
            has = inside.any(axis=1)
            out[has] = self.shifts[inside[has].argmax(axis=1)]
        return out


class Movable(enum.Enum):
    """Which answers of a look may move with their window's picture (see MOVED_MIN_SCORE)."""

    # The scan and a large tile's square windows: most hold no face. An empty answer moves too, so
    # a window over a swaying speaker that missed a marginal face is asked again at its refresh
    # (or when something in it changed beyond a move), not on every frame; the bench's recall over
    # six scored frames was the same or better on every row (docs/finding-faces.md).
    ANY = "any answer"
    # A grid tile's own padded window, and a followed face's window: no face there is a miss or a
    # camera off, asked again whenever the tile changed.
    FACE = "an answer with a face"
    NEVER = "never"  # the looks at a tile still without a face: asked again whenever it changed

    def allows(self, kept: Kept, age_s: float) -> bool:
        """Whether ``kept``, found ``age_s`` ago, may move with its picture."""
        if self is Movable.NEVER or (self is Movable.FACE and not len(kept.score)):
            return False
        return bool((kept.score >= MOVED_MIN_SCORE).all()) or (kept.confirmed and age_s < FOLLOW_REDETECT_S)


def coarse_cells(small_gray: np.ndarray, window: Window, scale: int = 4, cell_px: int = CHANGE_CELL_PX) -> np.ndarray:
    """``(rows, cols)`` float32: the mean grey of each ``cell_px`` square of ``window`` (screen
    pixels), read from ``small_gray``, the frame in grey at ``1/scale`` size."""
    patch = _window_view(small_gray, window, scale)
    return _cell_means(patch, scale, cell_px).astype(np.float32) if patch.size else np.zeros((1, 1), np.float32)


def _window_view(small_gray: np.ndarray, window: Window, scale: int) -> np.ndarray:
    """``window`` (screen pixels) in ``small_gray``, the frame at ``1/scale`` size (a view)."""
    x0, y0, x1, y1 = window[0] // scale, window[1] // scale, window[2] // scale, window[3] // scale
    return small_gray[y0:max(y1, y0 + 1), x0:max(x1, x0 + 1)]


def cells_shape(small_shape: tuple[int, ...], window: Window, scale: int = 4,
                cell_px: int = CHANGE_CELL_PX) -> tuple[int, int]:
    """``(rows, cols)``: the shape of ``coarse_cells`` of ``window`` in a frame of ``small_shape``
    at ``1/scale`` size, without its pixels."""
    patch = _window_view(np.broadcast_to(np.uint8(0), small_shape[:2]), window, scale)
    return _grid_of(patch.shape, scale, cell_px) if patch.size else (1, 1)


def _grid_of(patch_shape: tuple[int, ...], scale: int, cell_px: int) -> tuple[int, int]:
    """``(rows, cols)`` of the ``cell_px`` squares (screen pixels) of a window of ``patch_shape`` at
    ``1/scale`` size, at least one each way."""
    step = max(1, cell_px // scale)
    return max(1, patch_shape[0] // step), max(1, patch_shape[1] // step)


def _cell_means(patch: np.ndarray, scale: int, cell_px: int) -> np.ndarray:
    """The mean of each ``cell_px`` square (screen pixels) of ``patch``, a window at ``1/scale`` size."""
    rows, cols = _grid_of(patch.shape, scale, cell_px)
    return cv2.resize(patch, (cols, rows), interpolation=cv2.INTER_AREA)


def away_from(kept: Kept, window: Window, zones: np.ndarray | None) -> Kept:
    """``kept`` less its boxes centred in ``zones``: the followed faces' own windows have found them."""
    if zones is None or not len(zones) or not len(kept.xyxy):
        return kept
    return kept.only(~centre_in(kept.xyxy + window_origin(window), zones))


def window_patch(small_gray: np.ndarray, window: Window, scale: int = 4) -> np.ndarray:
    """A copy of ``window`` (screen pixels) cut from ``small_gray``, the frame in grey at ``1/scale`` size."""
    return _window_view(small_gray, window, scale).copy()


def picture_motion(before: np.ndarray, now: np.ndarray, window: Window, pieces: np.ndarray,
                   zones: np.ndarray | None = None, max_diff: float = SHIFT_MAX_DIFF, scale: int = 4,
                   cell_px: int = CHANGE_CELL_PX) -> Motion | None:
    """How ``window``'s picture moved from ``before`` to ``now`` (``window_patch`` of each),
    each of ``pieces`` (screen xyxy: the tiles) on its own, when those moves explain every change
    (see SHIFT_MAX_SHARE); None when they do not."""
    if before.shape != now.shape or min(now.shape[:2]) < SHIFT_MIN_PART_PX:
        return None
    a, b = before.astype(np.float32), now.astype(np.float32)
    h, w = a.shape[:2]
    # Each pixel is explained by its tile's move or by staying (a name label, the app's icons
    # drawn over the video), whichever is nearer: worked out per moved tile, the rest stays.
    best, unknown = a.copy(), np.zeros((h, w), bool)
    x0, y0, x1, y1 = window
    pieces = np.asarray(pieces).reshape(-1, 4)
    pieces = pieces[(pieces[:, 0] < x1) & (pieces[:, 2] > x0) & (pieces[:, 1] < y1) & (pieces[:, 3] > y0)]
    ox, oy = x0 // scale * scale, y0 // scale * scale  # the patches' top-left, screen pixels
    used, shifts = [], []
    for piece in pieces.tolist():
        px0, py0 = max(0, -(-(int(piece[0]) - ox) // scale)), max(0, -(-(int(piece[1]) - oy) // scale))
        px1, py1 = min(w, (int(piece[2]) - ox) // scale), min(h, (int(piece[3]) - oy) // scale)
        if px1 <= px0 or py1 <= py0:
            continue
        if px1 - px0 < SHIFT_MIN_PART_PX or py1 - py0 < SHIFT_MIN_PART_PX:
            unknown[py0:py1, px0:px1] = True
            continue
        # This tile did not change (a camera off, a still one); told on the 8-bit pictures.
        if cv2.minMaxLoc(cv2.absdiff(before[py0:py1, px0:px1], now[py0:py1, px0:px1]))[1] < max_diff:
            continue
        pa, pb = a[py0:py1, px0:px1], b[py0:py1, px0:px1]
        ea, eb = _middle(pa), _middle(pb)
        (dx, dy), _ = cv2.phaseCorrelate(ea, eb, _hanning(ea.shape[:2]))
        if max(abs(dx), abs(dy)) > SHIFT_MAX_SHARE * min(px1 - px0, py1 - py0):
            return None
        step_m = np.array([[1, 0, dx], [0, 1, dy]], np.float32)
        moved = cv2.warpAffine(pa, step_m, (px1 - px0, py1 - py0), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)
        best[py0:py1, px0:px1] = np.where(cv2.absdiff(moved, pb) <= cv2.absdiff(pa, pb), moved, pa)
        # What came in at the edge the picture moved away from is not in the old picture.
        mx, my = int(np.ceil(abs(dx))) + 1, int(np.ceil(abs(dy))) + 1
        if dx >= 0:
            unknown[py0:py1, px0:px0 + mx] = True
        else:
            unknown[py0:py1, max(px0, px1 - mx):px1] = True
        if dy >= 0:
            unknown[py0:py0 + my, px0:px1] = True
        else:
            unknown[max(py0, py1 - my):py1, px0:px1] = True
        used.append(piece)
        shifts.append((dx * scale, dy * scale))
    # A cell changed if the explanation is off by max_diff. Pixels of unknown origin (a moved
    # edge, a sliver) count as explained.
    np.copyto(best, b, where=unknown)
    changed = np.abs(_cell_means(best, scale, cell_px) - _cell_means(b, scale, cell_px)) >= max_diff
    if changed.any() and (zones is None or not len(zones) or not cells_within(changed, window, zones)):
        return None
    return Motion(np.array(used, np.float32).reshape(-1, 4), np.array(shifts, np.float32).reshape(-1, 2))


@functools.lru_cache(maxsize=16)
def _hanning(shape_hw: tuple[int, ...]) -> np.ndarray:
    """The Hanning window phase correlation weighs a part of ``shape_hw`` with (read only; the
    parts' middles come in a few sizes)."""
    window = cv2.createHanningWindow((shape_hw[1], shape_hw[0]), cv2.CV_32F)
    window.flags.writeable = False
    return window


def _middle(part: np.ndarray) -> np.ndarray:
    """The middle of ``part``, at most SHIFT_ESTIMATE_PX each way."""
    h, w = part.shape[:2]
    y0, x0 = max(0, (h - SHIFT_ESTIMATE_PX) // 2), max(0, (w - SHIFT_ESTIMATE_PX) // 2)
    return part[y0:y0 + min(h, SHIFT_ESTIMATE_PX), x0:x0 + min(w, SHIFT_ESTIMATE_PX)]


def changed_cells(a: np.ndarray, b: np.ndarray, max_diff: float = CHANGE_MAX_DIFF) -> np.ndarray | None:
    """``(rows, cols)`` bool: the cells of ``b`` that differ from ``a`` by ``max_diff`` grey levels
    or more; None when the shapes differ (all of it changed). Worked out once a window and frame
    for both ``cells_changed`` and ``cells_within``."""
    return None if a.shape != b.shape else np.abs(a - b) >= max_diff


def cells_changed(a: np.ndarray, b: np.ndarray, max_diff: float = CHANGE_MAX_DIFF) -> bool:
    """Whether any cell of ``b`` differs from ``a`` by ``max_diff`` grey levels or more (or the shapes differ)."""
    changed = changed_cells(a, b, max_diff)
    return changed is None or bool(changed.any())


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


def cells_within(changed: np.ndarray, window: Window, zones: np.ndarray) -> bool:
    """Whether every True cell of ``changed`` (a grid of cells over ``window``) has its centre in one of ``zones``.

    A cell's centre lies in a zone when its column's centre lies in the zone's x range and its
    row's in its y range, so the test is one ``(zones, rows, cols)`` product of two small masks
    instead of a point-in-box test per changed cell (a window changes in most of its cells when
    someone moves)."""
    if not changed.any():
        return True
    cx, cy = _cell_centres(window, changed.shape)
    z = np.asarray(zones, np.float64).reshape(-1, 4)
    in_x = (cx[None, :] >= z[:, 0:1]) & (cx[None, :] < z[:, 2:3])  # (k, cols)
    in_y = (cy[None, :] >= z[:, 1:2]) & (cy[None, :] < z[:, 3:4])  # (k, rows)
    covered = (in_y[:, :, None] & in_x[:, None, :]).any(axis=0)
    return not bool((changed & ~covered).any())


@functools.lru_cache(maxsize=1024)
def _cell_centres(window: Window, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The screen x of the centres of each column, and the y of each row, of a ``shape`` grid of
    cells over ``window`` (read only; a frame tests the same windows as the last one did)."""
    x0, y0, x1, y1 = window
    rows, cols = shape
    cx = x0 + (np.arange(cols) + 0.5) * (x1 - x0) / cols
    cy = y0 + (np.arange(rows) + 0.5) * (y1 - y0) / rows
    cx.flags.writeable = cy.flags.writeable = False
    return cx, cy


def window_origin(window: Window) -> np.ndarray:
    """``(4,)`` float32 ``(x0, y0, x0, y0)``: added to a box in ``window``'s pixels, gives it in screen pixels."""
    return np.array(window[:2] * 2, np.float32)


def same_boxes(a: np.ndarray, b: np.ndarray, min_iou: float = 0.85) -> bool:
    """Whether two ``(n, 4)`` box sets are the same faces: as many boxes, each of ``b``
    overlapping its best match in ``a`` by ``min_iou`` or more (IoU)."""
    if len(a) != len(b):
        return False
    return not len(a) or bool((box_overlap(b, a, Overlap.IOU).max(axis=1) >= min_iou).all())
