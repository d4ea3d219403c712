"""The detection stage: gallery tiles, then faces per tile, written into the ``FrameResult``.

BlazeFace short range sees a 128x128 copy of its input, so on a whole 1080p gallery of 49
tiles each face is a few pixels and nothing is found. Run per tile instead, each face is
10-50 % of its input. Large tiles (a speaker view, a classroom camera) are also scanned in
overlapping square windows so faces down to ~10 % of the window's side are found; duplicates
from tile and windows are merged. Cost: one detector call per tile, plus a few per large tile.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import cv2
import numpy as np

from bot.tiles import find_tiles
from vocab.protocols import FaceDetector
from vocab.types import Faces, FrameResult

# A detection scoring under FLAT_MAX_SCORE whose box is at least FLAT_SHARE_MIN one grey is
# dropped (see _flat).
FLAT_MAX_SCORE = 0.7
FLAT_SHARE_MIN = 0.33
# Second look at an empty wide tile: square windows overlapping this much; not on tiles whose
# pixels are mostly one grey (flat share), i.e. camera-off tiles.
SECOND_LOOK_OVERLAP = 0.4
SECOND_LOOK_MAX_FLAT = 0.6


class FaceFinder:
    """Writes ``tiles_xyxy`` and ``faces`` (xyxy, score, tile_xyxy) of each frame.

    Args:
        detector: any ``FaceDetector``; not closed by this class.
        tile_pad_frac: each tile is cropped with this share of its size added around it
            (clipped to the frame) so a face at the tile's edge keeps some context.
        large_tile_px: tiles whose shorter side exceeds this are also scanned in windows.
        window_frac: window side as a share of the large tile's shorter side; smaller finds
            smaller faces but costs more calls ((1/window_frac)^2 roughly).
        window_overlap: overlap between neighbouring windows (share of the side); a face
            smaller than the overlap always lies whole in one window.
        min_score: detections scoring below this are dropped. BlazeFace scores real faces in
            tiles mostly above 0.8, while Teams' initials discs on camera-off tiles and
            face-like backdrops score 0.5-0.6.
        min_face_px: faces with a shorter side below this are dropped.
        merge_iou: two boxes overlapping more than this (IoU), or one lying mostly (60 %)
            inside the other, are the same face; the higher score is kept.
        tile_finder: ``image -> (n, 4) int32`` tiles; default ``bot.tiles.find_tiles``.
    """

    def __init__(self, detector: FaceDetector, *, tile_pad_frac: float = 0.04,
                 large_tile_px: int = 400, window_frac: float = 0.6,
                 window_overlap: float = 0.3, min_score: float = 0.5, min_face_px: int = 8,
                 merge_iou: float = 0.3,
                 tile_finder: Callable[[np.ndarray], np.ndarray] = find_tiles):
        if not 0 < window_frac <= 1 or not 0 <= window_overlap < 1:
            raise ValueError("window_frac must be in (0, 1] and window_overlap in [0, 1)")
        self.detector = detector
        self.tile_pad_frac = tile_pad_frac
        self.large_tile_px = large_tile_px
        self.window_frac = window_frac
        self.window_overlap = window_overlap
        self.min_score = min_score
        self.min_face_px = min_face_px
        self.merge_iou = merge_iou
        self.tile_finder = tile_finder

    def __call__(self, frame: FrameResult) -> FrameResult:
        image = frame.image
        if image is None or image.ndim != 3 or image.shape[0] < 2 or image.shape[1] < 2:
            return dataclasses.replace(frame, tiles_xyxy=np.zeros((0, 4), np.int32),
                                       faces=Faces.empty())
        tiles = self.tile_finder(image)
        h, w = image.shape[:2]
        # No tiles (a blank or tiny frame): scan the frame as one region, report no tiles.
        regions = tiles if len(tiles) else np.array([[0, 0, w, h]], np.int32)
        return dataclasses.replace(frame, tiles_xyxy=tiles,
                                   faces=self.find_faces(image, regions))

    def find_faces(self, image_bgr: np.ndarray, tiles_xyxy: np.ndarray) -> Faces:
        """Faces in the given tiles of ``image_bgr``; each face belongs to the tile holding its
        centre and is clipped to it."""
        boxes: list[np.ndarray] = []
        scores: list[np.ndarray] = []
        owners: list[np.ndarray] = []

        def look(k: int, windows: list[np.ndarray]) -> None:
            for win in windows:
                x0, y0, x1, y1 = (int(v) for v in win)
                xyxy, score = self.detector.detect(image_bgr[y0:y1, x0:x1])
                if len(xyxy):
                    boxes.append(xyxy + np.array([x0, y0, x0, y0], np.float32))
                    scores.append(score)
                    owners.append(np.full(len(xyxy), k))

        for k, tile in enumerate(tiles_xyxy):
            look(k, self._windows(tile, image_bgr.shape))
        found = set(np.concatenate(owners).tolist()) if owners else set()
        for k, tile in enumerate(tiles_xyxy):
            if k not in found:
                look(k, self._second_look(tile, image_bgr))
        if not boxes:
            return Faces.empty()
        xyxy = np.concatenate(boxes).astype(np.float32)
        score = np.concatenate(scores).astype(np.float32)
        owner = np.concatenate(owners)
        xyxy, score, owner = self._plausible(xyxy, score, owner, tiles_xyxy)
        textured = np.array([not _flat(image_bgr, b, s) for b, s in zip(xyxy, score, strict=True)],
                            bool).reshape(-1)
        xyxy, score, owner = xyxy[textured], score[textured], owner[textured]
        keep = merge_duplicates(xyxy, score, self.merge_iou)
        tile_of = tiles_xyxy[owner[keep]].astype(np.int32).reshape(-1, 4)
        return Faces(xyxy=xyxy[keep], score=score[keep], tile_xyxy=tile_of)

    def _windows(self, tile: np.ndarray, shape: tuple[int, ...]) -> list[np.ndarray]:
        """The padded tile, plus overlapping square windows when the tile is large."""
        h, w = shape[:2]
        x0, y0, x1, y1 = (int(v) for v in tile)
        pad_x = int((x1 - x0) * self.tile_pad_frac)
        pad_y = int((y1 - y0) * self.tile_pad_frac)
        out = [np.array([max(0, x0 - pad_x), max(0, y0 - pad_y),
                         min(w, x1 + pad_x), min(h, y1 + pad_y)])]
        short = min(x1 - x0, y1 - y0)
        if short > self.large_tile_px:
            side = max(2, int(short * self.window_frac))
            step = max(1, int(side * (1 - self.window_overlap)))
            for wy in _starts(y0, y1, side, step):
                for wx in _starts(x0, x1, side, step):
                    out.append(np.array([wx, wy, wx + side, wy + side]))
        return out

    def _second_look(self, tile: np.ndarray, image_bgr: np.ndarray) -> list[np.ndarray]:
        """Square windows across a wide tile where the first look found nothing.

        The detector letterboxes a 16:9 tile into its square input, so a face there is drawn
        at about half the scale a square crop gives it; hard faces (small, blurred, low
        contrast) come through at the larger scale. Plain tiles (camera off: one colour and
        a name) are skipped, so the extra calls go only where a face may be.
        """
        x0, y0, x1, y1 = (int(v) for v in tile)
        w, h = x1 - x0, y1 - y0
        if w < 1.25 * h or h < 2 * self.min_face_px or flat_share(image_bgr, tile) >= SECOND_LOOK_MAX_FLAT:
            return []
        step = max(1, int(h * (1 - SECOND_LOOK_OVERLAP)))
        return [np.array([wx, y0, wx + h, y1]) for wx in _starts(x0, x1, h, step)]

    def _plausible(self, xyxy: np.ndarray, score: np.ndarray, owner: np.ndarray,
                   tiles: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Reassign each box to the tile holding its centre, clip to it, drop tiny or outside
        boxes (a neighbour's face seen through the padding, a sliver left after clipping)."""
        centre = (xyxy[:, :2] + xyxy[:, 2:]) / 2
        inside = ((centre[:, None, 0] >= tiles[None, :, 0]) & (centre[:, None, 0] < tiles[None, :, 2])
                  & (centre[:, None, 1] >= tiles[None, :, 1])
                  & (centre[:, None, 1] < tiles[None, :, 3]))
        has = inside.any(axis=1)
        owner = np.where(has, inside.argmax(axis=1), owner)
        t = tiles[owner].astype(np.float32)
        area = (xyxy[:, 2] - xyxy[:, 0]) * (xyxy[:, 3] - xyxy[:, 1])
        clipped = np.concatenate((np.maximum(xyxy[:, :2], t[:, :2]),
                                  np.minimum(xyxy[:, 2:], t[:, 2:])), axis=1)
        cw, ch = clipped[:, 2] - clipped[:, 0], clipped[:, 3] - clipped[:, 1]
        ok = (has & (score >= self.min_score) & (np.minimum(cw, ch) >= self.min_face_px)
              & (cw * ch >= 0.5 * np.maximum(area, 1e-6)))
        return clipped[ok], score[ok], owner[ok]


def flat_share(image_bgr: np.ndarray, xyxy: np.ndarray) -> float:
    """Share of the box's pixels within 6 grey levels of its commonest grey (0..1)."""
    x0, y0, x1, y1 = (int(v) for v in xyxy)
    gray = cv2.cvtColor(image_bgr[y0:y1, x0:x1], cv2.COLOR_BGR2GRAY)
    if gray.size == 0:
        return 1.0
    hist = np.bincount(gray.ravel(), minlength=256)
    return float(np.convolve(hist, np.ones(13), mode="same").max() / gray.size)


def _flat(image_bgr: np.ndarray, xyxy: np.ndarray, score: float) -> bool:
    """True for a weak box that is largely one flat grey: Teams' initials disc on a
    camera-off tile, which BlazeFace scores 0.5-0.69. Measured on composed galleries: such
    boxes have a flat share of 0.36-0.82; real faces 0.18 typically, those scoring under 0.7
    at most 0.30 (faces scoring higher reach 0.52 and are always kept)."""
    return score < FLAT_MAX_SCORE and flat_share(image_bgr, xyxy) >= FLAT_SHARE_MIN


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
    area = np.maximum((xyxy[:, 2] - xyxy[:, 0]) * (xyxy[:, 3] - xyxy[:, 1]), 1e-6)
    keep: list[int] = []
    for i in order:
        if keep:
            k = np.array(keep)
            ix = np.minimum(xyxy[i, 2], xyxy[k, 2]) - np.maximum(xyxy[i, 0], xyxy[k, 0])
            iy = np.minimum(xyxy[i, 3], xyxy[k, 3]) - np.maximum(xyxy[i, 1], xyxy[k, 1])
            inter = np.clip(ix, 0, None) * np.clip(iy, 0, None)
            union = area[i] + area[k] - inter
            if ((inter / union) > iou).any() or (inter / np.minimum(area[i], area[k])
                                                 > contained).any():
                continue
        keep.append(int(i))
    return np.array(keep, np.int64)
