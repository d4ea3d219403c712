"""The detection stage: faces anywhere on the screen, then their tiles, written into the ``FrameResult``.

Tiles are a hint, not a gate. A real meeting screen has panels, a shared slide with a strip of
small tiles, a window that is not maximised, tiles the gap finder cannot separate; running the
detector only inside found tiles lost every face in a region the tile finder got wrong.

Where the tile grid is certain (a set of equal tiles: a gallery, a filmstrip) faces are looked
for per tile: BlazeFace short range finds faces that are ~17-50 % of its input's side, which is
what a webcam tile shows, one call per tile. Large tiles are also scanned in square
windows; a wide tile without a confident face gets a second look in square windows, and a tile
still without one a third, whole, with the full-range model, unless it looks like a camera-off
tile (70 % of it one exact grey, and, where the previous frame had the same tiles, unchanged
since: a dark, compressed camera picture can be as much one grey, but it moves). Each model
keeps boxes from its own score threshold (see TILE_SCORE_FACTOR).

Everything the grid does not explain (a speaker tile, panels, a shared slide, a window on a
desktop, a screen the gap finder could not cut) is scanned in square windows at the scales a
face can have: windows of ``min_face_px / scan_face_share`` px, then twice that, and so on up to
the frame's short side; windows of a level overlap by more than the largest face that level
is responsible for; flat windows are skipped. The scan uses ``scan_detector`` (BlazeFace full
range, which finds faces from ~10 % of its input on degraded tiles) when given.

Not faces: a weak box in a grid tile that looks painted by the app (70 % one exact grey: a
camera-off tile with its initials disc or profile photo) is dropped; so is any box on a small,
centred picture floating on a painted tile (a profile photo, told on one frame: see
bot.painted.profile_photo); so is a weak box on a flat grey patch; and a box whose pixels have not
changed at all for ``still_after_s`` (a profile photo the other rules missed, a panel avatar)
is dropped too. That last test needs a few frames of history, so the finder keeps state: use one
``FaceFinder`` per stream.

Re-detection only where something changed: the frames of a class barely change from one second
to the next, so each detector window's detections are kept with a coarse picture of the window
(16 px cells, grey) and reused while no cell has changed by ``change_max_diff`` grey levels
since they were found, for at most ``redetect_after_s`` (staggered per window, so the refreshes
do not all fall on one frame). A face that joins, leaves, turns or moves changes its cells by
tens of levels; camera noise changes them by about one. Only the detector calls are skipped:
every kept box still passes the per-frame tests below against the current frame, so the still
test keeps seeing fresh frames and a face that freezes into a photo is still dropped in time.

A window whose picture only moved (a camera that shakes, a person swaying with everything their
camera shows) keeps its answer, each box moved with its tile's picture, where the tiles' moves
explain every change (see bot.window_memory.picture_motion): never the looks at a tile still
without a face, and weak answers only for a few seconds (see bot.window_memory.Movable).

Faces are followed: a person moving in their camera changes every window over them, so each
face of the last frame is first looked for in the window it came from, and where it is found
again the other windows that changed only around that person keep their answers (see
bot.window_memory). The price: a second face appearing right beside a followed one (within two
face widths, in the same tile) is found at the next refresh, not at once.
"""

from __future__ import annotations

import copy
import dataclasses
from collections import deque
from collections.abc import Callable

import cv2
import numpy as np

from bot import painted
from bot.detector_pair import DetectorPair
from bot.tiles import find_tiles, participant_piece, same_size
from bot.window_memory import (
    CHANGE_MAX_DIFF,
    FOLLOW_MIN_IOU,
    FOLLOW_REDETECT_S,
    REDETECT_AFTER_S,
    SHIFT_MAX_DIFF,
    Hit,
    Kept,
    Movable,
    Window,
    away_from,
    cells_changed,
    cells_shape,
    cells_within,
    centre_in,
    changed_cells,
    coarse_cells,
    face_picture,
    person_zones,
    picture_motion,
    same_boxes,
    track_face,
    window_origin,
    window_patch,
)
from vocab.geometry import Overlap, box_overlap, containing_box
from vocab.protocols import FaceDetector
from vocab.types import Faces, FrameResult

# A box scoring under this in a tile that looks camera-off (see camera_off_like) is dropped:
# initials discs and profile photos score 0.5-0.72 there; live faces on flat painted
# backdrops, which that test can mistake for camera-off tiles, mostly score higher.
OFF_TILE_MAX_SCORE = 0.75
PREVIOUS_MAX_AGE_S = 5.0
MOVING_TILE_MAX_SHARE = 0.1  # a moving piece up to this share of the frame is looked at as a tile
# Score thresholds, chosen on the bench's 43 simulated screens (python -m bench.detect; a sweep of
# 0.3-0.5 for each model, the "weak beside confident" rule below on): the short-range model on
# grid tiles keeps boxes from 0.4 (masked 70.5 -> 78.7 %, looking down 91.4 -> 94.3 %, 24-32 px
# 56.5 -> 63.0 %, frontal unchanged, boxes in live tiles that are not faces 3 -> 4, none on the
# UI); the full-range scan over the rest of the screen (panels, slides, desktop) keeps 0.5:
# lower gained one 24-32 px face for more false boxes. The user's ``min_face_score`` is the
# scan's; grid tiles get TILE_SCORE_FACTOR of it.
TILE_SCORE_FACTOR = 0.8
SCAN_MIN_SCORE = 0.5
TILE_MIN_SCORE = TILE_SCORE_FACTOR * SCAN_MIN_SCORE


def tile_min_score(min_face_score: float) -> float:
    """The grid tiles' threshold for a screen-wide ``min_face_score`` (the scan's)."""
    return TILE_SCORE_FACTOR * min_face_score


# A face box at or above this score is a confident face: it makes a tile explained (no second
# look) and a weaker box in the same tile is dropped (see _weak_beside_confident).
CONFIDENT_SCORE = 0.5
# A window whose grey values (at 1/4 scale) vary less than this holds no face.
WINDOW_MIN_STD = 3.0
# A piece of the tile grid smaller than this each way is not trusted as a webcam tile (see _regular):
# the smallest strip tiles of the apps are ~110x62 px; a slide's title letters come out 40-55 px.
GRID_MIN_TILE_PX = 60
# Second look at an empty wide grid tile: square windows overlapping this much.
SECOND_LOOK_OVERLAP = 0.4
# A last look at a grid tile still without a face: windows this share of its height (see _close_looks).
CLOSE_LOOK_SIDE = 0.6
CLOSE_LOOK_MIN_SKIN = 0.25
# Inside a grid tile or a tile that moves, boxes are kept from this side (elsewhere from
# drop_below_px): BlazeFace's box covers brow to mouth, 17-19 px for a 25-28 px face (chin to
# hairline) of a webcam far away.
GRID_MIN_FACE_PX = 15


HISTORY_STEP_S = 0.5  # frames kept for the still test: at most two a second, whatever the frame rate


# The tile layout is kept while under GAP_CHANGED_SHARE of the pixels between tiles changed by
# more than GAP_CHANGE_MIN grey levels (apps paint the gaps in one colour; even camera noise of
# +-5 levels on them stays under it; a tile that moves or appears puts faces, backdrops and
# edges there). At most GAP_SAMPLES of those pixels are compared.
GAP_CHANGE_MIN = 12
GAP_CHANGED_SHARE = 0.005
GAP_SAMPLES = 50_000
GAP_CELL_PX = 16  # moving content between the tiles leaves the test in cells of this size, +-1 cell


@dataclasses.dataclass(frozen=True)
class _ScanRoom:
    """What the scan outside the grid needs of the grid alone (see ``FaceFinder._scan_windows``)."""

    shape: tuple[tuple[int, ...], tuple[int, ...]]  # the frame's (h, w) and its 1/4 scale's
    grid: np.ndarray  # (k, 4) the grid tiles
    covered: np.ndarray  # (h/4, w/4) bool: the grid tiles and the gaps around them, at 1/4 scale
    free: np.ndarray  # (h/4, w/4) uint8: 255 where not covered
    free_cells: np.ndarray  # (rows, cols) bool: the 16 px cells with a pixel outside the grid
    windows: np.ndarray  # (n, 4) int64 screen xyxy: the scan windows with room for a face outside the grid
    bounds: np.ndarray  # (4, n) int64: their rows and columns at 1/4 scale (see _quarter_bounds)
    free_px: np.ndarray  # (n,) float64: their 1/4-scale pixels outside the grid, at least 1


@dataclasses.dataclass
class _KeptTiles:
    shape: tuple[int, ...]  # the grey frame's
    between: np.ndarray  # (k,) int64 flat indices of pixels clear of every tile
    values: np.ndarray  # (k,) uint8 their grey values when the tiles were found
    tiles_xyxy: np.ndarray
    t_s: float


class FaceFinder:
    """Writes ``tiles_xyxy`` and ``faces`` (xyxy, score, tile_xyxy) of each frame.

    Args:
        detector: a ``FaceDetector`` for tiles (BlazeFace short range); not closed here.
        scan_detector: a ``FaceDetector`` for the scale scan (BlazeFace full range); default
            ``detector``. Not closed here.
        min_face_px: the smallest face (box height, screen pixels) the scan is built to find
            outside the grid; smaller ones may be found but are not promised. Lower costs more.
        scan_face_share: the smallest face the scan detector reliably finds, as a share of its
            window's side. Measured on simulated screens: full range ~0.1, short range ~0.17
            (the default when no ``scan_detector`` is given).
        level_factor: each scan level's window is this many times the previous one's.
        tile_pad_frac: grid tiles are cropped with this share of their size added around them.
        large_tile_px: grid tiles whose shorter side exceeds this are also scanned in windows.
        min_score: detections of ``detector`` (the tiles) below this are dropped.
        scan_min_score: detections of ``scan_detector`` below this are dropped; default
            ``min_score / TILE_SCORE_FACTOR``. The detectors must be built with thresholds no
            higher than these (see ``tile_min_score``).
        drop_below_px: boxes with a shorter side below this are dropped (panel avatars are
            16-24 px photos whose faces come out at 12-20 px).
        merge_iou: boxes overlapping more than this (IoU), or one lying mostly (60 %) inside
            the other, are one face; the higher score is kept.
        still_after_s: a face box whose pixels have not changed (mean absolute difference
            under ``still_max_diff`` grey levels) against every remembered frame of the last
            ``still_after_s`` seconds (and one at least that old) is a still picture (a
            camera-off profile photo), not a live face. 0 turns this off.
        tile_finder: ``image -> (n, 4) int32`` tiles; default ``bot.tiles.find_tiles``.
        redetect_after_s: a window whose pixels have not changed (see the module notes) keeps
            its detections for up to this long (x0.75..1.25 per window); 0 detects every
            window on every frame (the full-cost path). Needs ``t_mono``.
        change_max_diff: a change of this many grey levels in any 16 px cell of a window
            re-detects it at once.
        twin: a second instance of ``detector`` (same model and threshold) that answers half of
            a frame's many tile windows on a worker thread (``bot.detector_pair``); not closed
            here (``close()`` stops the worker).

    ``detector_calls`` counts the detector calls made, ``detector_calls_kept`` those saved,
    ``scan_choices`` the times the scan windows outside the grid were chosen afresh.
    """

    def __init__(self, detector: FaceDetector, *, scan_detector: FaceDetector | None = None,
                 min_face_px: int = 32, scan_face_share: float | None = None, level_factor: float = 2.0,
                 tile_pad_frac: float = 0.04, large_tile_px: int = 400, min_score: float = TILE_MIN_SCORE,
                 scan_min_score: float | None = None,
                 drop_below_px: int = 20, merge_iou: float = 0.3, still_after_s: float = 4.0,
                 still_max_diff: float = 0.6, tile_finder: Callable[[np.ndarray], np.ndarray] = find_tiles,
                 redetect_after_s: float = REDETECT_AFTER_S, change_max_diff: float = CHANGE_MAX_DIFF,
                 twin: FaceDetector | None = None):
        share = scan_face_share if scan_face_share is not None else (0.1 if scan_detector is not None else 0.17)
        if not 0 < share < 1 or level_factor <= 1 or min_face_px < 4:
            raise ValueError("scan_face_share must be in (0, 1), level_factor > 1 and min_face_px >= 4")
        if redetect_after_s < 0 or change_max_diff <= 0:
            raise ValueError("redetect_after_s must be >= 0 and change_max_diff > 0")
        if not 0 <= min_score <= 1 or not (scan_min_score is None or 0 <= scan_min_score <= 1):
            raise ValueError("min_score and scan_min_score must be in 0..1")
        self.detector = detector
        self.scan_detector = scan_detector if scan_detector is not None else detector
        self.pair = DetectorPair(detector, twin) if twin is not None else None
        self.min_face_px = min_face_px
        self.scan_face_share = share
        self.level_factor = level_factor
        self.tile_pad_frac = tile_pad_frac
        self.large_tile_px = large_tile_px
        self.min_score = min_score
        self.scan_min_score = scan_min_score if scan_min_score is not None else min(1.0, min_score / TILE_SCORE_FACTOR)
        self.drop_below_px = drop_below_px
        self.merge_iou = merge_iou
        self.still_after_s = still_after_s
        self.still_max_diff = still_max_diff
        self.tile_finder = tile_finder
        # Recent frames (t_mono, half-scale grey), for the still-picture test.
        self._history: deque[tuple[float, np.ndarray]] = deque(maxlen=32)
        self.redetect_after_s = redetect_after_s
        self.change_max_diff = change_max_diff
        # Kept detections per (detector, window); windows not asked for in a frame are dropped.
        self._kept: dict[tuple[int, Window], Kept] = {}
        self._tiles_kept: _KeptTiles | None = None
        # Painted tiles' blobs (see find_faces' photo()): tile -> (its cells then, the blobs).
        self._painted: dict[Window, tuple[np.ndarray, painted.PaintedTile | None]] = {}
        self._last_tiles: np.ndarray | None = None  # the tiles of the last frame, for _previous_frame
        # The scan windows chosen on an earlier frame: (grid, free cells, every cell's grey mean, t, windows).
        self._scan_kept: tuple[np.ndarray, np.ndarray, np.ndarray, float, list[Window]] | None = None
        self._room: _ScanRoom | None = None  # the scan's geometry for the last grid (see _scan_room)
        # The faces of the last frame and their windows: (t_mono, tiles, hits), see FOLLOW_MIN_IOU.
        self._hits: tuple[float, np.ndarray, list[Hit]] | None = None
        self.detector_calls = 0
        self.detector_calls_kept = 0
        self.detector_calls_followed = 0
        self.detector_calls_moved = 0
        self.faces_tracked = 0
        self.scan_choices = 0

    def close(self) -> None:
        """Stop the twin's worker thread, if any (the detectors are the caller's to close)."""
        if self.pair is not None:
            self.pair.close()

    def fresh(self) -> FaceFinder:
        """The same detectors and settings with no memory of earlier frames (for an unrelated image or stream)."""
        new = copy.copy(self)
        new._history = deque(maxlen=self._history.maxlen)
        new._kept, new._tiles_kept, new._scan_kept, new._last_tiles, new._hits = {}, None, None, None, None
        new._painted, new._room = {}, None
        new.detector_calls = new.detector_calls_kept = new.detector_calls_followed = new.scan_choices = 0
        new.detector_calls_moved = 0
        new.faces_tracked = 0
        return new

    def __call__(self, frame: FrameResult) -> FrameResult:
        image = frame.image
        if image is None or image.ndim != 3 or image.shape[0] < 2 or image.shape[1] < 2:
            return dataclasses.replace(frame, tiles_xyxy=np.zeros((0, 4), np.int32),
                                       faces=Faces.empty())
        grey = _greys(image)
        tiles = self._tiles(image, grey[0], frame.t_mono)
        faces = self.find_faces(image, tiles, t_mono=frame.t_mono, grey=grey)
        # All pieces served the search; the frame reports the participant tiles: a title bar or
        # a tool bar the cut set loose is no camera-off participant (unless a face is on it).
        with_face = {tuple(t) for t in faces.tile_xyxy.tolist()}
        shown = [participant_piece(t) or tuple(t) in with_face for t in tiles.tolist()]
        return dataclasses.replace(frame, tiles_xyxy=tiles[np.array(shown, bool).reshape(-1)], faces=faces)

    def _tiles(self, image_bgr: np.ndarray, gray: np.ndarray, t_mono: float | None) -> np.ndarray:
        """The tile finder's answer, kept while the pixels between the tiles (gaps, margins,
        empty places of the grid) have not changed and it is not ``redetect_after_s`` old. A
        grid that reflows, a tile that appears or goes, a window moved: each puts tile content
        where background was. Saves ~15 ms a 1080p frame."""
        kept = self._tiles_kept
        if self.redetect_after_s > 0 and t_mono is not None and kept is not None \
                and kept.shape == gray.shape and kept.t_s <= t_mono < kept.t_s + self.redetect_after_s:
            now = gray.ravel()[kept.between]
            if len(now) and np.count_nonzero(_gap_changed(now, kept.values)) / len(now) < GAP_CHANGED_SHARE:
                return kept.tiles_xyxy
        tiles = self.tile_finder(image_bgr)
        if self.redetect_after_s > 0 and t_mono is not None:
            if kept is not None and kept.shape == gray.shape and np.array_equal(kept.tiles_xyxy, tiles):
                # The same tiles again: what changed between them is moving content no tile holds
                # (a camera the finder did not cut loose, a video on a slide). The pixels near it
                # leave the test, so that such a screen does not pay a tile finding every frame.
                now = gray.ravel()[kept.between]
                moved = _gap_changed(now, kept.values)
                if moved.any():
                    rows, cols = np.divmod(kept.between[moved], gray.shape[1])
                    near = np.zeros((gray.shape[0] // GAP_CELL_PX + 1, gray.shape[1] // GAP_CELL_PX + 1), np.uint8)
                    near[rows // GAP_CELL_PX, cols // GAP_CELL_PX] = 1
                    near = cv2.dilate(near, np.ones((3, 3), np.uint8)).astype(bool)
                    rows, cols = np.divmod(kept.between, gray.shape[1])
                    stay = ~near[rows // GAP_CELL_PX, cols // GAP_CELL_PX]
                    self._tiles_kept = dataclasses.replace(kept, between=kept.between[stay], values=now[stay],
                                                           t_s=t_mono)
                    return tiles
            between = np.ones(gray.shape, bool)
            for x0, y0, x1, y1 in tiles:  # 1 px margin: a tile's edge blurs into the gap
                between[max(0, y0 - 1):y1 + 1, max(0, x0 - 1):x1 + 1] = False
            idx = np.flatnonzero(between)
            if len(idx) > GAP_SAMPLES:  # an even sample keeps the test cheap on a wide margin
                idx = idx[np.linspace(0, len(idx) - 1, GAP_SAMPLES).astype(np.int64)]
            self._tiles_kept = _KeptTiles(gray.shape, idx, gray.ravel()[idx], tiles, t_mono)
        return tiles

    def find_faces(self, image_bgr: np.ndarray, tiles_xyxy: np.ndarray, t_mono: float | None = None,
                   grey: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> Faces:
        """Faces anywhere in ``image_bgr``; each carries the tile holding its centre (clipped to
        it) or, outside every tile, a box twice its size. ``t_mono`` feeds the still test and
        the kept detections; ``grey`` is ``_greys(image_bgr)`` when the caller already has it
        (converted once a frame)."""
        h, w = image_bgr.shape[:2]
        gray, gray_half, small = grey if grey is not None else _greys(image_bgr)
        boxes: list[np.ndarray] = []
        scores: list[np.ndarray] = []
        previous = self._previous_frame(gray_half, tiles_xyxy, t_mono)
        self._last_tiles = tiles_xyxy.copy()

        kept: dict[tuple[int, Window], Kept] = {}
        zones = self._followed_zones(image_bgr, small, gray_half, tiles_xyxy, t_mono, kept)
        origins: list[tuple[FaceDetector, Window, float]] = []  # per box appended to boxes, where it came from

        def look(detector: FaceDetector, windows: list[Window], min_score: float, skin: bool = False,
                 movable: Movable = Movable.ANY) -> None:
            answers = self._detect_windows(detector, image_bgr, small, windows, t_mono, kept, tiles_xyxy, zones,
                                           movable=movable)
            for window, (xyxy, score) in zip(windows, answers, strict=True):
                if not len(score):  # most windows hold no face
                    continue
                good = score >= min_score
                xyxy, score = xyxy[good] + window_origin(window), score[good]
                if skin and len(xyxy):  # see _close_looks
                    good = np.array([painted.skin_share(image_bgr, b) >= CLOSE_LOOK_MIN_SKIN for b in xyxy], bool)
                    xyxy, score = xyxy[good], score[good]
                if len(xyxy):
                    boxes.append(xyxy)
                    scores.append(score)
                    origins.extend([(detector, window, min_score)] * len(xyxy))

        moving: dict[int, bool] = {}

        def moves(j: int) -> bool:  # tile j changed since the previous frame; asked lazily (~0.05 ms)
            if j < 0:
                return False
            if j not in moving:
                moving[j] = painted.moving(gray_half, previous, tiles_xyxy[j])
            return moving[j]

        regular = _regular(tiles_xyxy) if len(tiles_xyxy) else np.zeros(0, bool)
        if previous is not None and len(tiles_xyxy):
            # A tile the gap finder cut at another size (a strip tile run into a bar above it)
            # that is shaped like a participant's and moves is a camera: looked at per tile too.
            area = (tiles_xyxy[:, 2] - tiles_xyxy[:, 0]) * (tiles_xyxy[:, 3] - tiles_xyxy[:, 1])
            regular |= np.array([not r and participant_piece(t) and a <= MOVING_TILE_MAX_SHARE * h * w and moves(j)
                                 for j, (r, t, a) in enumerate(zip(regular.tolist(), tiles_xyxy.tolist(),
                                                                   area.tolist(), strict=True))], bool)
        grid_tile = np.flatnonzero(regular)  # grid index -> index in tiles_xyxy
        grid = tiles_xyxy[regular]
        off_cache: dict[int, bool] = {}

        def off(k: int) -> bool:  # asked lazily (large, empty or face-holding tiles): ~0.03 ms a tile
            if k not in off_cache:
                off_cache[k] = painted.camera_off_like(gray, grid[k]) and not moves(int(grid_tile[k]))
            return off_cache[k]

        look(self.detector, [self._padded(tile, (h, w)) for tile in grid], self.min_score, movable=Movable.FACE)
        look(self.detector, self._large_tile_windows(grid, off), self.min_score)
        # The looks at a live tile still without a face are asked again whenever it changed:
        # each time the detector gets another chance at a face it could not see (see window_memory.Movable).
        look(self.detector, self._second_looks(grid, off, boxes, scores), self.min_score, movable=Movable.NEVER)
        look(self.scan_detector, self._empty_tiles(grid, off, boxes, scores, (h, w)), self.scan_min_score,
             movable=Movable.NEVER)
        look(self.detector, self._close_looks(image_bgr, grid, off, boxes, scores), self.min_score, skin=True,
             movable=Movable.NEVER)
        look(self.scan_detector, self._scan_windows(image_bgr, small, grid, t_mono, zones), self.scan_min_score)
        self._kept = kept
        older = self._references(t_mono)
        if t_mono is not None and self.still_after_s > 0 and \
                (not self._history or t_mono - self._history[-1][0] >= HISTORY_STEP_S or t_mono < self._history[-1][0]):
            self._history.append((t_mono, gray_half))
            # Keep only what the still test reads: the newest frame at least still_after_s old
            # and those after it (a 1080p half-scale grey frame is ~0.5 MB).
            while len(self._history) >= 2 and self._history[1][0] <= t_mono - self.still_after_s:
                self._history.popleft()
        if not boxes:
            self._hits = (t_mono, tiles_xyxy.copy(), []) if t_mono is not None else None
            return Faces.empty()
        xyxy = np.concatenate(boxes).astype(np.float32)
        score = np.concatenate(scores).astype(np.float32)
        side = np.minimum(xyxy[:, 2] - xyxy[:, 0], xyxy[:, 3] - xyxy[:, 1])
        # Scores were checked per detector in look(). Panel avatars (the reason for drop_below_px)
        # are never inside a grid tile or a tile that moves; a webcam far from its user is, with a
        # box of 16-20 px.
        small_ok = (side < self.drop_below_px) & (side >= GRID_MIN_FACE_PX)
        if small_ok.any():
            k_grid, k_tile = containing_box(xyxy[small_ok], grid), containing_box(xyxy[small_ok], tiles_xyxy)
            small_ok[small_ok] = [k >= 0 or moves(j) for k, j in zip(k_grid.tolist(), k_tile.tolist(), strict=True)]
        ok = (side >= self.drop_below_px) | small_ok
        xyxy, score, index = xyxy[ok], score[ok], np.flatnonzero(ok)
        keep = merge_duplicates(xyxy, score, self.merge_iou)
        xyxy, score, index = xyxy[keep], score[keep], index[keep]
        in_grid = containing_box(xyxy, grid)
        in_tile = containing_box(xyxy, tiles_xyxy)
        painted_now: dict[Window, tuple[np.ndarray, painted.PaintedTile | None]] = {}

        def photo(j: int, box: np.ndarray) -> bool:
            """A profile photo (``painted.profile_photo``). The tile's blobs are worked out once a
            frame, and kept from the last frame while the tile's 16 px cells have not changed (a
            panel or a camera-off tile stays as it was; ~1.4 ms a frame on a screen with panels)."""
            x0, y0, x1, y1 = (int(v) for v in tiles_xyxy[j])
            key = (x0, y0, x1, y1)
            if key not in painted_now:
                cells = coarse_cells(small, key)
                last = self._painted.get(key) if self.redetect_after_s > 0 else None
                if last is not None and not cells_changed(last[0], cells, self.change_max_diff):
                    painted_now[key] = last
                else:
                    painted_now[key] = (cells, painted.painted_tile(gray, tiles_xyxy[j]))
            blobs = painted_now[key][1]
            return blobs is not None and painted.profile_photo(blobs, box)
        # A box in a grid tile, or in any tile that changed since the previous frame (a speaker's
        # camera), is judged as camera video by the flat test (see flat).
        real = np.array([not painted.flat(gray, b, s, in_grid=k >= 0 or (s < painted.FLAT_MAX_SCORE and moves(j)))
                         and not self._still(gray_half, older, b)
                         and not (k >= 0 and s < OFF_TILE_MAX_SCORE and off(k))  # a picture on a camera-off tile
                         and not (j >= 0 and not moves(j) and photo(j, b))
                         for b, s, k, j in zip(xyxy, score, in_grid, in_tile, strict=True)], bool).reshape(-1)
        xyxy, score, index = xyxy[real], score[real], index[real]
        self._painted = painted_now
        keep = _weak_beside_confident(xyxy, score, tiles_xyxy)
        xyxy, score, index = xyxy[~keep], score[~keep], index[~keep]
        if t_mono is not None:
            self._hits = (t_mono, tiles_xyxy.copy(),
                          [self._hit(origins[i], b, float(c), gray_half)
                           for i, b, c in zip(index.tolist(), xyxy, score, strict=True)])
        tile_of = _tile_of(xyxy, tiles_xyxy, image_bgr.shape)
        xyxy = np.concatenate((np.maximum(xyxy[:, :2], tile_of[:, :2]), np.minimum(xyxy[:, 2:], tile_of[:, 2:])),
                              axis=1).astype(np.float32)
        return Faces(xyxy=xyxy, score=score, tile_xyxy=tile_of)

    def _detect_windows(self, detector: FaceDetector, image_bgr: np.ndarray, small: np.ndarray,
                        windows: list[Window], t_mono: float | None, kept: dict[tuple[int, Window], Kept],
                        pieces: np.ndarray, zones: np.ndarray | None = None,
                        pictures: dict[Window, np.ndarray] | None = None,
                        movable: Movable = Movable.ANY) -> list[tuple[np.ndarray, np.ndarray]]:
        """The detector's answer for each window (window pixels): answered already this frame,
        or kept from an earlier frame while the window has not changed (or changed only in the
        ``zones`` of followed faces, see FOLLOW_MIN_IOU, or only moved with the ``pieces`` (tiles)
        it shows, see SHIFT_MAX_SHARE, as far as ``movable`` allows) and is not due, else asked
        now (by ``pair`` with its twin, when ``detector`` is the tile detector and a pair was given).
        Records them in ``kept``. ``pictures``: windows' ``coarse_cells`` of this frame already
        worked out."""
        t = t_mono if self.redetect_after_s > 0 else None  # None: nothing kept, nothing reused
        answers: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(windows)
        cells: list[np.ndarray] = []
        for i, window in enumerate(windows):
            if t is None:
                continue
            key = (id(detector), window)
            if key in kept:  # a followed face's window, asked first
                cells.append(kept[key].cells)
                answers[i] = (kept[key].xyxy, kept[key].score)
                continue
            now = pictures.get(window) if pictures else None
            cells.append(now := now if now is not None else coarse_cells(small, window))
            old = self._kept.get(key)
            if old is None or not old.t_s <= t < old.due_s:
                continue
            changed = changed_cells(old.cells, now, self.change_max_diff)
            if changed is not None and not changed.any():
                kept[key] = old.unmoved()
                self.detector_calls_kept += 1
            elif changed is not None and zones is not None and len(zones) and cells_within(changed, window, zones):
                kept[key] = away_from(old.unmoved(), window, zones)
                self.detector_calls_followed += 1
            elif movable.allows(old, t - old.t_s) and old.patch is not None \
                    and (motion := picture_motion(
                    old.patch, window_patch(small, window), window, pieces, zones,
                    self.change_max_diff * SHIFT_MAX_DIFF / CHANGE_MAX_DIFF)) is not None:
                kept[key] = away_from(old.moved(motion, window), window, zones)
                self.detector_calls_moved += 1
            else:
                continue
            answers[i] = (kept[key].xyxy, kept[key].score)
        asked = [i for i, a in enumerate(answers) if a is None]
        crops = [image_bgr[y0:y1, x0:x1] for x0, y0, x1, y1 in (windows[i] for i in asked)]
        fresh = self.pair.detect_all(crops) if self.pair is not None and detector is self.pair.first \
            else [detector.detect(c) for c in crops]
        self.detector_calls += len(asked)
        for i, (xyxy, score) in zip(asked, fresh, strict=True):
            answers[i] = (xyxy, score)
            if t is None:
                continue
            x0, y0 = windows[i][:2]
            key = (id(detector), windows[i])
            old = self._kept.get(key)
            again = old is not None and old.t_s <= t and same_boxes(old.xyxy, xyxy)
            if again:
                # A refresh that finds the same faces keeps the same boxes: the detector's pixel
                # jitter would otherwise shift every crop and make the later stages redo their work.
                assert old is not None
                xyxy, score = old.xyxy, old.score
                answers[i] = (xyxy, score)
            # Stagger the refreshes of windows found together over half a period (golden-ratio spread).
            spread = 0.75 + 0.5 * (((x0 * 31 + y0 * 17) * 0.6180339887) % 1.0)
            kept[key] = Kept(cells[i], t, t + self.redetect_after_s * spread, xyxy, score,
                             patch=window_patch(small, windows[i]), confirmed=again)
        return [a for a in answers if a is not None]

    def _followed_zones(self, image_bgr: np.ndarray, small: np.ndarray, gray_half: np.ndarray,
                        tiles_xyxy: np.ndarray, t_mono: float | None, kept: dict[tuple[int, Window], Kept],
                        ) -> np.ndarray:
        """``(m, 4)`` float32 screen boxes: the zones of the last frame's faces found again, each
        in the window it came from; the answers go to ``kept``. A window that changed is asked
        again, unless every face in it is tracked by its picture (``track_face``) and the
        detector answered it less than ``FOLLOW_REDETECT_S`` ago: then its answer is the last
        one with those faces' boxes moved. After that, or where tracking fails, the window goes
        to ``_detect_windows``, where an answer whose picture only moved is still kept. Empty on
        a first frame, after a layout change or a gap of more than ``PREVIOUS_MAX_AGE_S``. A
        zone holding the centre of a face not found again is not used: the windows over it are
        asked, the full search for that face."""
        last, self._hits = self._hits, None
        none = np.zeros((0, 4), np.float32)
        if last is None or t_mono is None or self.redetect_after_s <= 0:
            return none
        t_last, tiles_last, hits = last
        if not hits or not 0 < t_mono - t_last <= PREVIOUS_MAX_AGE_S or not np.array_equal(tiles_last, tiles_xyxy):
            return none
        in_window: dict[tuple[int, Window], list[int]] = {}
        for i, hit in enumerate(hits):
            in_window.setdefault((id(hit.detector), hit.window), []).append(i)
        moved: dict[int, np.ndarray] = {}  # hit -> its tracked box
        ask: dict[int, tuple[FaceDetector, list[Window]]] = {}
        pictures: dict[Window, np.ndarray] = {}  # the windows' coarse cells, for _detect_windows too
        for key, members in in_window.items():
            detector, window = hits[members[0]].detector, hits[members[0]].window
            old = self._kept.get(key)
            if old is not None and old.t_s <= t_mono < min(old.due_s, old.t_s + FOLLOW_REDETECT_S) \
                    and cells_changed(old.cells, pictures.setdefault(window, coarse_cells(small, window)),
                                      self.change_max_diff):
                boxes = {i: track_face(gray_half, hits[i]) for i in members}
                offset = window_origin(window)
                old = old.unmoved()
                if all(b is not None for b in boxes.values()) and len(old.xyxy):
                    xyxy = old.xyxy.copy()
                    for i, b in boxes.items():
                        assert b is not None
                        j = int(box_overlap((hits[i].xyxy - offset)[None], xyxy, Overlap.IOU)[0].argmax())
                        xyxy[j], moved[i] = b - offset, b
                    # The boxes as found stay the reference of the window's picture (see Kept.moved).
                    kept[key] = dataclasses.replace(old, xyxy=xyxy, found_xyxy=old.xyxy)
                    self.faces_tracked += len(members)
                    continue
            ask.setdefault(id(detector), (detector, []))[1].append(window)
        for detector, windows in ask.values():
            # A followed face's window holds a face: its answer may move like a grid tile's (see Movable).
            self._detect_windows(detector, image_bgr, small, windows, t_mono, kept, tiles_xyxy, pictures=pictures,
                                 movable=Movable.FACE)
        around = np.array([hit.xyxy for hit in hits], np.float32)  # per hit: its face, last frame and now
        found_again = np.ones(len(hits), bool)
        for i, hit in enumerate(hits):
            answer = kept[(id(hit.detector), hit.window)]
            if i in moved:
                now = moved[i]
            elif answer.t_s != t_mono and answer.found_xyxy is None:
                continue  # its window has not changed: the face is where it was
            else:
                found = answer.xyxy[answer.score >= hit.min_score] + window_origin(hit.window)
                overlap = box_overlap(hit.xyxy[None], found, Overlap.IOU)[0] if len(found) else np.zeros(0)
                if not len(overlap) or float(overlap.max()) < FOLLOW_MIN_IOU:
                    found_again[i] = False
                    continue
                now = found[overlap.argmax()]
            around[i] = np.concatenate((np.minimum(hit.xyxy[:2], now[:2]), np.maximum(hit.xyxy[2:], now[2:])))
        zones = person_zones(around[found_again], tiles_xyxy)
        if not found_again.all():
            zones = zones[~centre_in(zones, around[~found_again], reverse=True)]
        return zones

    @staticmethod
    def _hit(origin: tuple[FaceDetector, Window, float], xyxy: np.ndarray, score: float, gray_half: np.ndarray) -> Hit:
        """A face of this frame as the next frame follows it (see ``_followed_zones``)."""
        detector, window, min_score = origin
        return Hit(detector, window, min_score, xyxy.copy(), score, face_picture(gray_half, xyxy))

    def _large_tile_windows(self, grid: np.ndarray, off: Callable[[int], bool]) -> list[Window]:
        """Square windows over grid tiles larger than ``large_tile_px`` that do not look
        camera-off (each tile itself is also looked at whole, padded).

        Two stacked 16:9 tiles per call would save a third of the calls, but a face then scores
        lower (0.81 alone, 0.66 paired, on a 50 px face with a hand at the chin) and falls
        under the stricter threshold for tiles that look camera-off: recall comes first."""
        out: list[Window] = []
        for k, (x0, y0, x1, y1) in enumerate(grid):
            short = int(min(x1 - x0, y1 - y0))
            if short > self.large_tile_px and not off(k):
                side = max(2, int(short * 0.6))
                step = max(1, int(side * 0.7))
                out += [(wx, wy, wx + side, wy + side) for wy in _starts(int(y0), int(y1), side, step)
                        for wx in _starts(int(x0), int(x1), side, step)]
        return out

    def _second_looks(self, grid: np.ndarray, off: Callable[[int], bool], boxes: list[np.ndarray],
                      scores: list[np.ndarray]) -> list[Window]:
        """Square windows across wide grid tiles where nothing was found: a tile letterboxed
        into the detector's square input shows its face at about half the scale a square crop
        does, and hard faces (small, dark, blurred) come through at the larger scale."""
        explained = self._explained(grid, boxes, scores)
        out: list[Window] = []
        for k, (x0, y0, x1, y1) in enumerate(grid):
            tw, th = int(x1 - x0), int(y1 - y0)
            if tw < 1.25 * th or th < 2 * self.drop_below_px:
                continue
            if explained[k] or off(k):
                continue
            step = max(1, int(th * (1 - SECOND_LOOK_OVERLAP)))
            out += [(wx, int(y0), wx + th, int(y1)) for wx in _starts(int(x0), int(x1), th, step)]
        return out

    def _empty_tiles(self, grid: np.ndarray, off: Callable[[int], bool], boxes: list[np.ndarray],
                     scores: list[np.ndarray], hw: tuple[int, int]) -> list[Window]:
        """Grid tiles still without a confident face after the first two looks (camera-off
        ones aside), padded, for the scan detector: the full-range model sees a tile at 192 px and
        finds faces from ~10 % of it, where the short-range model (128 px) needs ~17 %."""
        explained = self._explained(grid, boxes, scores)
        return [self._padded(tile, hw) for k, tile in enumerate(grid) if not explained[k] and not off(k)]

    def _close_looks(self, image_bgr: np.ndarray, grid: np.ndarray, off: Callable[[int], bool],
                     boxes: list[np.ndarray], scores: list[np.ndarray]) -> list[Window]:
        """Square windows of ``CLOSE_LOOK_SIDE`` of the tile's height, overlapping by half, over
        grid tiles still without a confident face after three looks (camera-off ones aside): a
        webcam far from its user shows a face 14-24 % of the tile's height, 7-12 % of what the
        short-range model sees of a whole 16:9 tile; in such a window it is 25-40 %, where that
        model is surest. So close, it also takes a shirt under a face too small or blurred to
        find for one; a box found this way is kept only if ``CLOSE_LOOK_MIN_SKIN`` of it is
        skin-coloured (``skin_share``). So a window with fewer skin-coloured pixels than a
        quarter of the smallest box kept (``GRID_MIN_FACE_PX`` square) cannot give one and is not
        asked (a tile's skin mask costs ~0.2 ms, a window's call ~1.2 ms; 10-18 windows a tile)."""
        explained = self._explained(grid, boxes, scores)
        out: list[Window] = []
        least = CLOSE_LOOK_MIN_SKIN * GRID_MIN_FACE_PX ** 2
        for k, (x0, y0, x1, y1) in enumerate(grid):
            side = int((y1 - y0) * CLOSE_LOOK_SIDE)
            if explained[k] or side < 2 * self.drop_below_px or off(k):
                continue
            step = max(1, side // 2)
            skin = cv2.integral(painted.skin_mask(image_bgr[y0:y1, x0:x1]).astype(np.uint8))
            windows = np.array([(wx, wy, wx + side, wy + side) for wy in _starts(int(y0), int(y1), side, step)
                                for wx in _starts(int(x0), int(x1), side, step)], np.int64)
            inside = np.stack((windows[:, 1] - y0, np.minimum(windows[:, 3], y1) - y0,
                               windows[:, 0] - x0, np.minimum(windows[:, 2], x1) - x0))  # the tile's pixels
            out += [(wx0, wy0, wx1, wy1) for wx0, wy0, wx1, wy1 in windows[_box_sums(skin, inside) >= least].tolist()]
        return out

    def _padded(self, tile: np.ndarray, hw: tuple[int, int]) -> Window:
        """``tile`` grown by ``tile_pad_frac`` of its size each side, clipped to the frame."""
        h, w = hw
        x0, y0, x1, y1 = (int(v) for v in tile)
        px, py = int((tile[2] - tile[0]) * self.tile_pad_frac), int((tile[3] - tile[1]) * self.tile_pad_frac)
        return max(0, x0 - px), max(0, y0 - py), min(w, x1 + px), min(h, y1 + py)

    def _explained(self, grid: np.ndarray, boxes: list[np.ndarray], scores: list[np.ndarray]) -> np.ndarray:
        """``(n,)`` bool: grid tiles holding the centre of a confident box (a weak box explains nothing)."""
        if not boxes:
            return np.zeros(len(grid), bool)
        xyxy = np.concatenate(boxes)
        good = np.concatenate(scores) >= max(self.min_score, CONFIDENT_SCORE)
        cx, cy = ((xyxy[good, :2] + xyxy[good, 2:]) / 2).T
        x0, y0, x1, y1 = (grid[:, k:k + 1] for k in range(4))
        return ((cx >= x0) & (cx < x1) & (cy >= y0) & (cy < y1)).any(axis=1).reshape(-1)

    def levels(self, shape: tuple[int, ...]) -> list[list[Window]]:
        """The scan windows ``(x0, y0, x1, y1)`` of each level for a frame of ``shape``, finest
        first. Level k is built for faces of ``min_face_px * level_factor**k`` and up."""
        h, w = shape[:2]
        short = min(h, w)
        out: list[list[Window]] = []
        side = self.min_face_px / self.scan_face_share
        while True:
            s = int(min(side, short))
            # Overlap: the largest face this level is responsible for (the next level's smallest).
            overlap = min(s - 1, int(self.scan_face_share * side * self.level_factor * 1.25))
            step = max(1, s - overlap)
            out.append([(wx, wy, wx + s, wy + s) for wy in _starts(0, h, s, step) for wx in _starts(0, w, s, step)])
            if s >= short:
                return out
            side *= self.level_factor

    def _scan_windows(self, image_bgr: np.ndarray, small: np.ndarray, grid: np.ndarray,
                      t_mono: float | None = None, zones: np.ndarray | None = None) -> list[Window]:
        """The scan windows of every level that see something the grid does not explain: room
        for a face outside the grid tiles (and the gaps around them), not flat there, and some
        skin-coloured pixels there. The skin test is a cost filter (toolbars, text and slides
        have none); its price is that a grey or strongly tinted face outside the grid is missed.
        The choice is kept while the grid and the 16 px cells outside it have not changed, or
        changed only in ``zones``, those of the faces followed there (as the detections are, see
        the module notes): the colour test costs ~0.7 ms a 1080p frame, and a speaker's or a
        windowed app's one camera outside the grid sways on every frame. A face swaying in its
        zone keeps the skin its windows were chosen for; anything else that changes outside the
        grid (a face appearing, a window opening) chooses them again.
        """
        room = self._scan_room(image_bgr.shape, small.shape, grid)
        if room.covered.all():
            return []
        h, w = image_bgr.shape[:2]
        cells = coarse_cells(small, (0, 0, w, h))
        kept = self._scan_kept
        if self.redetect_after_s > 0 and t_mono is not None and kept is not None and np.array_equal(kept[0], grid) \
                and kept[3] <= t_mono < kept[3] + self.redetect_after_s and np.array_equal(kept[1], room.free_cells):
            changed = changed_cells(kept[2], cells, self.change_max_diff)
            assert changed is not None  # the same free cells: the same frame size
            changed &= room.free_cells  # what the grid covers does not choose the scan windows
            if not changed.any() or (zones is not None and len(zones) and cells_within(changed, (0, 0, w, h), zones)):
                return kept[4]
        out = self._scan_choice(image_bgr, small, room)
        if self.redetect_after_s > 0 and t_mono is not None:
            self._scan_kept = (grid.copy(), room.free_cells, cells, t_mono, out)
        return out

    def _scan_room(self, shape: tuple[int, ...], small_shape: tuple[int, ...], grid: np.ndarray) -> _ScanRoom:
        """The grid's ``_ScanRoom`` for a frame of ``shape`` (``small_shape`` at 1/4 scale): the
        last one while the grid and the frame's size stay (the geometry alone decides it; worked
        out again it cost ~0.3 ms a frame)."""
        last = self._room
        if last is not None and last.shape == (shape[:2], small_shape[:2]) and np.array_equal(last.grid, grid):
            return last
        covered = np.zeros(small_shape[:2], bool)
        for x0, y0, x1, y1 in grid:
            covered[max(0, y0 - 8) // 4:(y1 + 8) // 4, max(0, x0 - 8) // 4:(x1 + 8) // 4] = True
        free = (~covered).astype(np.uint8) * 255
        rows, cols = cells_shape(small_shape, (0, 0, shape[1], shape[0]))
        free_cells = cv2.resize(free, (cols, rows), interpolation=cv2.INTER_AREA) > 0  # cells with a pixel outside
        windows = np.array([window for level in self.levels(shape) for window in level], np.int64).reshape(-1, 4)
        bounds = _quarter_bounds(windows)
        free_px = _box_sums(cv2.integral(free), bounds) // 255
        roomy = free_px >= 2 * self._face_cells()
        self._room = _ScanRoom((shape[:2], small_shape[:2]), grid.copy(), covered, free, free_cells,
                               windows[roomy], bounds[:, roomy], np.maximum(1.0, free_px[roomy].astype(np.float64)))
        return self._room

    def _face_cells(self) -> float:
        """The 1/4-scale pixels of the smallest face the scan is built for."""
        return (self.min_face_px / 4) ** 2

    def _scan_choice(self, image_bgr: np.ndarray, small: np.ndarray, room: _ScanRoom) -> list[Window]:
        """``_scan_windows`` worked out afresh for the windows of ``room`` (their skin and grey spread now)."""
        self.scan_choices += 1
        if not len(room.windows):  # a gallery with thin margins: no colour work (~0.7 ms a 1080p frame)
            return []
        colour = _halved(_halved(image_bgr))
        if colour.shape[:2] != small.shape[:2]:
            colour = cv2.resize(colour, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_NEAREST)
        ycc = cv2.cvtColor(colour, cv2.COLOR_BGR2YCrCb)
        skin = cv2.bitwise_and(cv2.inRange(ycc, painted.SKIN_YCRCB_LO, painted.SKIN_YCRCB_HI), room.free)
        skin_px = _box_sums(cv2.integral(skin), room.bounds) // 255
        # The grey spread of each window's free pixels from two integral images (sum, sum of
        # squares; the sums are exact in 32 bits up to 8 million 1/4-scale pixels, and 5x faster).
        sum_ii, sq_ii = cv2.integral2(cv2.bitwise_and(small, room.free), sdepth=cv2.CV_32S, sqdepth=cv2.CV_64F)
        mean = _box_sums(sum_ii, room.bounds) / room.free_px
        spread = _box_sums(sq_ii, room.bounds) / room.free_px - mean * mean
        chosen = (skin_px >= 0.25 * self._face_cells()) & (spread >= WINDOW_MIN_STD ** 2)
        return [(x0, y0, x1, y1) for x0, y0, x1, y1 in room.windows[chosen].tolist()]

    def _previous_frame(self, gray_half: np.ndarray, tiles_xyxy: np.ndarray, t_mono: float | None) -> np.ndarray | None:
        """The newest remembered frame to tell filmed tiles from painted ones (``moving``), or
        None: only an earlier frame (not one of the same instant) at most ``PREVIOUS_MAX_AGE_S``
        old, of the same size, with the same tiles as now. After a reflow or a page change every
        tile's pixels changed, a camera-off one's too; that is not a camera."""
        if t_mono is None or not self._history or self._last_tiles is None:
            return None
        t, g = self._history[-1]
        if not 0 < t_mono - t <= PREVIOUS_MAX_AGE_S or g.shape != gray_half.shape \
                or not np.array_equal(self._last_tiles, tiles_xyxy):
            return None
        return g

    def _references(self, t_mono: float | None) -> list[np.ndarray]:
        """Every remembered frame of the last ``still_after_s`` and the newest one before them.

        Empty unless the history reaches back ``still_after_s``: a face is only called still
        once it has stayed the same through that whole stretch, against every frame in it. A
        live face blinks, breathes or shifts within a few seconds even on a low-bitrate stream
        that skips unchanged blocks; a profile photo never does.
        """
        if t_mono is None or self.still_after_s <= 0:
            return []
        since = t_mono - self.still_after_s
        old = [g for t, g in self._history if t <= since]
        if not old:
            return []
        return [old[-1], *(g for t, g in self._history if since < t < t_mono)]

    def _still(self, gray_half: np.ndarray, older: list[np.ndarray], xyxy: np.ndarray) -> bool:
        if not older or any(g.shape != gray_half.shape for g in older):
            return False
        x0, y0, x1, y1 = (int(v) // 2 for v in xyxy)
        a = gray_half[y0:y1 + 1, x0:x1 + 1]
        if a.size == 0:
            return False
        return all(float(cv2.absdiff(a, g[y0:y1 + 1, x0:x1 + 1]).mean()) < self.still_max_diff for g in older)


def _halved(image: np.ndarray) -> np.ndarray:
    """``image`` at half size, each pixel the mean of a 2x2 square (OpenCV's fast path for an exact 2:1)."""
    return cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)


def _greys(image_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The frame in grey at full, 1/2 and 1/4 size."""
    gray = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY)
    return gray, _halved(gray), _quartered(gray)


def _quartered(gray: np.ndarray) -> np.ndarray:
    """``gray`` (uint8) at 1/4 size: ``cv2.resize(gray, None, fx=0.25, fy=0.25,
    interpolation=cv2.INTER_AREA)`` pixel for pixel, in a third of its time (OpenCV vectorises its
    whole-number area path for 2:1 only; 4:1 cost ~0.55 ms a 1080p frame). As OpenCV does it:
    each pixel is the mean of a 4x4 square rounded half to even; where a side is not a multiple
    of 4, it is ``round(side / 4)`` long and its last pixel the mean of what is left."""
    h, w = gray.shape[:2]
    if gray.ndim != 2 or h < 4 or w < 4:
        return cv2.resize(gray, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    rows, cols = h // 4, w // 4  # whole squares
    out = np.empty((round(h / 4), round(w / 4)), np.uint8)  # Python's round is half to even, as OpenCV's
    # Sums of four rows by OpenCV (strided views, no copy); then of four columns: four
    # neighbouring 16-bit sums read as one 64-bit word and multiplied by 1 + 2^16 + 2^32 + 2^48
    # hold their total in its top 16 bits (at most 16 * 255, so no lane carries into the next).
    down = cv2.add(cv2.add(gray[0:4 * rows:4, :4 * cols], gray[1:4 * rows:4, :4 * cols], dtype=cv2.CV_16U),
                   cv2.add(gray[2:4 * rows:4, :4 * cols], gray[3:4 * rows:4, :4 * cols], dtype=cv2.CV_16U))
    total = (down.view(np.uint64) * np.uint64(0x0001000100010001)) >> np.uint64(48)
    out[:rows, :cols] = cv2.convertScaleAbs(total.astype(np.uint16), alpha=1 / 16)
    if out.shape[1] > cols:  # the last column: the 2 or 3 columns left
        out[:rows, cols] = _rounded_means(gray[:4 * rows, 4 * cols:].reshape(rows, -1))
    if out.shape[0] > rows:  # the last row
        out[rows, :cols] = _rounded_means(gray[4 * rows:, :4 * cols].reshape(h - 4 * rows, cols, 4)
                                          .transpose(1, 0, 2).reshape(cols, -1))
        if out.shape[1] > cols:
            out[rows, cols] = _rounded_means(gray[4 * rows:, 4 * cols:].reshape(1, -1))[0]
    return out


def _rounded_means(values: np.ndarray) -> np.ndarray:
    """``(n,)`` uint8: the mean of each row of ``values`` ``(n, k)``, rounded half to even."""
    return np.rint(values.sum(axis=1, dtype=np.int64) / values.shape[1]).astype(np.uint8)


def _gap_changed(now: np.ndarray, then: np.ndarray) -> np.ndarray:
    """``(k,)`` bool: the gap pixels ``now`` ``(k,)`` uint8 more than ``GAP_CHANGE_MIN`` grey levels from ``then``."""
    if not len(now):  # OpenCV takes an empty array for a scalar
        return np.zeros(0, bool)
    return (cv2.absdiff(now, then) > GAP_CHANGE_MIN).reshape(-1)


def _weak_beside_confident(xyxy: np.ndarray, score: np.ndarray, tiles: np.ndarray) -> np.ndarray:
    """``(n,)`` bool: the weak boxes (under ``CONFIDENT_SCORE``) whose tile also holds a
    confident one, to be dropped.

    The thresholds are low so that masked, turned, small and dark faces are found; such a
    weak box beside a confident face in one webcam tile is almost always its shoulder, hand or
    backdrop (a second person in one camera is seen about as well as the first)."""
    if len(xyxy) < 2 or len(tiles) == 0:
        return np.zeros(len(xyxy), bool)
    k = containing_box(xyxy, tiles)
    confident_tiles = set(k[(score >= CONFIDENT_SCORE) & (k >= 0)].tolist())
    return np.array([s < CONFIDENT_SCORE and t >= 0 and t in confident_tiles
                     for s, t in zip(score.tolist(), k.tolist(), strict=True)], bool).reshape(-1)


def _box_sums(ii: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """``(n,)``: the sum of the cells ``[y0:y1, x0:x1]`` of each box ``bounds[:, k] = (y0, y1, x0, x1)``,
    from an integral image ``ii`` (cv2.integral or integral2), in ``ii``'s type."""
    y0, y1, x0, x1 = bounds
    return ii[y1, x1] - ii[y0, x1] - ii[y1, x0] + ii[y0, x0]


def _quarter_bounds(windows: np.ndarray) -> np.ndarray:
    """``(4, n)`` int64: the rows ``y0, y1`` and columns ``x0, x1`` of each window ``(n, 4)`` (screen
    xyxy) at 1/4 scale, at least one pixel each way."""
    x0, y0, x1, y1 = (windows // 4).T
    return np.stack((y0, np.maximum(y0 + 1, y1), x0, np.maximum(x0 + 1, x1)))


def _regular(tiles: np.ndarray) -> np.ndarray:
    """``(n,)`` bool: tiles that share their size (within 4 %) with at least one other tile
    and are ``GRID_MIN_TILE_PX`` or more each way (smaller equal pieces are the letters of a
    slide's title or a panel's icons that the gap finder cut loose, not webcam tiles)."""
    if len(tiles) < 2:
        return np.zeros(len(tiles), bool)
    wh = tiles[:, 2:] - tiles[:, :2]
    return (same_size(tiles).sum(axis=1) >= 2) & (wh.min(axis=1) >= GRID_MIN_TILE_PX)


def _tile_of(xyxy: np.ndarray, tiles: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``(n, 4)`` int32: the tile holding each face's centre; outside every tile, a box twice
    the face's size (clipped to the frame) stands for its tile."""
    n = len(xyxy)
    out = np.zeros((n, 4), np.int32)
    if n == 0:
        return out
    h, w = shape[:2]
    centre = (xyxy[:, :2] + xyxy[:, 2:]) / 2
    half = (xyxy[:, 2:] - xyxy[:, :2])
    fallback = np.concatenate((centre - half, centre + half), axis=1)
    out[:] = np.clip(np.round(fallback), 0, [w, h, w, h]).astype(np.int32)
    k = containing_box(xyxy, tiles)
    out[k >= 0] = tiles[k[k >= 0]]
    return out


def _starts(lo: int, hi: int, side: int, step: int) -> list[int]:
    """Window origins covering ``[lo, hi)``: every ``step``, the last flush with ``hi``."""
    if hi - lo <= side:
        return [lo]
    starts = list(range(lo, hi - side, step))
    starts.append(hi - side)
    return starts


def merge_duplicates(xyxy: np.ndarray, score: np.ndarray, iou: float = 0.3,
                     contained: float = 0.6) -> np.ndarray:
    """Indices of the boxes to keep, best score first: greedy NMS that also drops a box lying
    mostly (``contained`` of its area) inside a better one, as a face found whole in one
    window and in part in another does.

    Args:
        xyxy: ``(n, 4)`` float boxes; score: ``(n,)``.
    """
    order = np.argsort(-score, kind="stable")
    iou_m = box_overlap(xyxy, xyxy, Overlap.IOU)
    ios_m = box_overlap(xyxy, xyxy, Overlap.IOS)
    keep: list[int] = []
    for i in order:
        if keep and ((iou_m[i, keep] > iou).any() or (ios_m[i, keep] > contained).any()):
            continue
        keep.append(int(i))
    return np.array(keep, np.int64)
