"""Painted by the app or filmed by a camera: the tests the face finder asks of a tile or a box.

A meeting app paints its camera-off tiles, initials discs, profile photos, panels and icons in
exact colours and repaints them identically frame after frame; a camera's picture, even a dark,
heavily compressed one, has gradients and noise and changes with every frame. BlazeFace takes
some painted things for faces (a disc at 0.5-0.69, a photo at 0.5-0.72), so ``bot.detect``
drops boxes these tests call painted. Each judges on one frame (``flat``, ``camera_off_like``,
``profile_photo``) or against the previous one (``moving``); ``skin_share`` is the colour test
of the close look.
"""

from __future__ import annotations

import dataclasses
import functools

import cv2
import numpy as np

# A detection scoring under FLAT_MAX_SCORE whose box is at least FLAT_SHARE_MIN one grey is
# dropped (see flat).
FLAT_MAX_SCORE = 0.7
FLAT_SHARE_MIN = 0.33
EXACT_SHARE_MIN = 0.4  # inside a grid tile: see flat
EXACT_SHARE_MIN_OUTSIDE = 0.2  # outside the grid, with FLAT_SHARE_MIN: see flat
# Share of a tile's pixels within 1 grey level of its commonest grey from which it is painted,
# not filmed. Measured on 176 camera-off and 765 live tiles (composed galleries and simulated
# screens): camera-off 0.70-1.0, live 0.03-0.77 (95th percentile 0.34-0.57); 0.7 catches 175
# camera-off tiles and mistakes 2 live ones.
OFF_TILE_MIN_EXACT = 0.7
# Share of a region's pixels exactly as on the previous frame from which it can be painted (see
# moving): camera-off tiles 0.991-1.0, live tiles at most 0.92 on the bench screens.
PAINTED_MIN_UNCHANGED = 0.97
# A profile photo on a camera-off tile, told from a live face on one frame (see profile_photo):
# the tile is PHOTO_TILE_MIN_PAINTED or more one exact grey (+-1 level), and the face lies in a
# blob of other pixels that is clear of every edge of the tile, at most PHOTO_MAX_AREA of it, its
# centre within PHOTO_MAX_OFFSET of the tile's (share of the tile's width / height). Measured on
# the first frames of the bench's 43 screens (truth boxes): the 46 profile photos are painted
# 0.73-0.91, their blob 8.7-9.3 % of the tile and 11+ px clear of its edges; of 426 live faces
# 423 have a blob that reaches an edge (a webcam picture fills its tile; a body is cut by the
# bottom), the others are off-centre or on a tile painted under 0.6.
PHOTO_TILE_MIN_PAINTED = 0.65
PHOTO_MAX_AREA = 0.35
PHOTO_MAX_OFFSET = (0.1, 0.15)

# Skin in YCrCb (the usual Cr/Cb box, luma from 20 so dim faces count): the scan's cost filter.
SKIN_YCRCB_LO = np.array([20, 133, 77], np.uint8)
SKIN_YCRCB_HI = np.array([255, 178, 130], np.uint8)
SKIN_LIT_Y = 90.0  # pixels darker than this are judged as if lit to it (see skin_share)
SKIN_MIN_Y = 8.0
SKIN_MAX_GAIN = 3.0


def camera_off_like(gray: np.ndarray, tile: np.ndarray | tuple[int, int, int, int]) -> bool:
    """True when a tile of the frame ``gray`` looks painted by the app rather than filmed: at
    least ``OFF_TILE_MIN_EXACT`` of its pixels within 1 grey level of its commonest grey. Apps
    paint a camera-off tile in one exact colour around a name, a disc or a small photo; a
    camera's picture, even a dark, heavily compressed one of a plain wall, has gradients and
    noise. (A looser "mostly one grey within 6 levels" skipped a 35 px face in a dark tile.)"""
    x0, y0, x1, y1 = (int(v) for v in tile)
    if y1 - y0 < 16 or x1 - x0 < 16:
        return False
    return mode_share(gray[y0:y1:2, x0:x1:2], 1) >= OFF_TILE_MIN_EXACT


def moving(gray_half: np.ndarray, previous: np.ndarray | None, xyxy: np.ndarray | tuple[int, int, int, int]) -> bool:
    """True when under ``PAINTED_MIN_UNCHANGED`` of the region's pixels (half-scale grey) are
    exactly as on the previous frame: the picture is filmed, whatever it looks like. False
    without a previous frame (the first frame is judged on its looks alone).

    An app paints a camera-off tile, an icon or a disc again exactly, frame after frame; a
    camera's picture changes with sensor noise and movement. Measured on the bench.detect
    screens (two frames each): camera-off tiles 0.991-1.000 of their pixels unchanged, live
    tiles 0.08-0.92 (a dark, heavily compressed one included). Only ever used to overrule a
    "painted" judgement, so a codec that skips unchanged blocks of a still live picture leaves
    things as the looks alone decide."""
    if previous is None:
        return False
    x0, y0, x1, y1 = (int(v) // 2 for v in xyxy)
    a = gray_half[y0:y1 + 1, x0:x1 + 1]
    if a.size == 0:
        return False
    unchanged = a.size - cv2.countNonZero(cv2.absdiff(a, previous[y0:y1 + 1, x0:x1 + 1]))
    return float(unchanged) < PAINTED_MIN_UNCHANGED * a.size


@dataclasses.dataclass(frozen=True)
class PaintedTile:
    """A tile that looks painted by the app (see ``painted_tile``): the blobs of pixels that are
    not its painted grey, at half resolution."""

    xy: tuple[int, int]  # the tile's top-left, screen pixels
    shape: tuple[int, int]  # the half-resolution tile's (h, w)
    labels: np.ndarray  # (h, w) int32 blob of each pixel, 0: painted
    count: int  # the number of labels, 0 included

    def blob(self, label: int) -> tuple[int, int, int, int, int]:
        """The blob ``label``'s bounding box ``x, y, w, h`` (half-resolution pixels) and area, as
        cv2.connectedComponentsWithStats gives them. Worked out for the one blob a box asks
        about: the statistics of every blob cost ~10x the labelling on a large painted tile."""
        mask = (self.labels == label).view(np.uint8)
        x, y, w, h = cv2.boundingRect(mask)
        return x, y, w, h, cv2.countNonZero(mask)


def painted_tile(gray: np.ndarray, tile: np.ndarray) -> PaintedTile | None:
    """The blobs of a tile that is ``PHOTO_TILE_MIN_PAINTED`` one grey (+-1 level), or None for a
    live tile (see ``profile_photo``). Read at half resolution, ~0.6 ms for a 1500x860 px tile;
    worked out once a frame per tile when several boxes lie in it."""
    x0, y0, x1, y1 = (int(v) for v in tile)
    sample = gray[y0:y1:4, x0:x1:4]
    if not sample.size or mode_share(sample, 1) < PHOTO_TILE_MIN_PAINTED - 0.05:
        return None  # a live tile, seen on a quarter of the pixels (the share within ~0.01)
    g = np.ascontiguousarray(gray[y0:y1:2, x0:x1:2])
    if g.shape[0] < 16 or g.shape[1] < 16:
        return None
    grey, share = commonest_grey(g, 1)
    if share < PHOTO_TILE_MIN_PAINTED:
        return None
    other = cv2.bitwise_not(cv2.inRange(g, max(0, grey - 1), min(255, grey + 1)))  # not the painted grey (+-1)
    count, labels = cv2.connectedComponents(other, connectivity=8)
    return PaintedTile((x0, y0), (g.shape[0], g.shape[1]), labels, count)


def profile_photo(found: PaintedTile, xyxy: np.ndarray) -> bool:
    """True when the face box is a still profile photo on a camera-off tile, on one frame.

    Every app paints a camera-off tile in one exact colour and puts the photo (a square, a
    disc) small in its middle, the painted colour all around it; a webcam picture fills its
    tile, and the person in it is cut by the tile's bottom edge. So: the tile is
    ``PHOTO_TILE_MIN_PAINTED`` one grey (+-1 level), and the connected blob of other pixels
    holding most of the face box touches no edge of the tile, covers at most ``PHOTO_MAX_AREA``
    of it and sits centred (``PHOTO_MAX_OFFSET``). The painted share alone does not separate
    them (dark, compressed live tiles reach 0.76, photo tiles start at 0.73); the floating,
    centred blob does. ``found``: ``painted_tile`` of the tile holding the box (a live tile
    has none: no photo)."""
    x0, y0 = found.xy
    bx0, by0, bx1, by1 = (int(v) for v in xyxy)
    inside = found.labels[max(0, by0 - y0) // 2:max(0, by1 - y0) // 2 + 1,
                          max(0, bx0 - x0) // 2:max(0, bx1 - x0) // 2 + 1]
    counts = np.bincount(inside.ravel(), minlength=found.count)
    counts[0] = 0
    if counts.max() == 0:
        return False
    cx, cy, cw, ch, area = found.blob(int(np.argmax(counts)))
    h, w = found.shape
    return (cx > 0 and cy > 0 and cx + cw < w and cy + ch < h and area <= PHOTO_MAX_AREA * h * w
            and abs(cx + cw / 2 - w / 2) <= PHOTO_MAX_OFFSET[0] * w
            and abs(cy + ch / 2 - h / 2) <= PHOTO_MAX_OFFSET[1] * h)


def commonest_grey(gray: np.ndarray, within: int) -> tuple[int, float]:
    """The grey with the most of ``gray``'s pixels (uint8, not empty) within ``within`` levels of
    it, and their share (0..1). Counted by OpenCV's histogram: ``np.bincount`` widens every pixel
    to 64 bits first (0.5 ms for a large tile's half-resolution pixels, 3x OpenCV's)."""
    if not gray.size:
        return 0, 0.0
    counts = cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel().astype(np.int64)
    near = np.convolve(counts, np.ones(2 * within + 1), mode="same")
    grey = int(np.argmax(near))
    return grey, float(near[grey] / gray.size)


def mode_share(gray: np.ndarray, within: int) -> float:
    """Share of ``gray``'s pixels within ``within`` grey levels of its commonest grey (0..1)."""
    return commonest_grey(gray, within)[1]


def flat(gray: np.ndarray, xyxy: np.ndarray, score: float, in_grid: bool = False) -> bool:
    """True for a weak box that is largely one flat grey: Teams' initials disc on a
    camera-off tile, which BlazeFace scores 0.5-0.69, or a flat piece of the UI. Measured on
    composed galleries: such boxes have a flat share (pixels within 6 grey levels of the
    box's commonest grey) of 0.36-0.82; real faces 0.18 typically,
    those scoring under 0.7 at most 0.30 (faces scoring higher reach 0.52 and are always kept).

    Inside a grid tile (camera video: painted camera-off tiles are judged by their own test)
    only a box that is *painted* is flat: ``EXACT_SHARE_MIN`` of it within 1 grey level. Dark,
    backlit and low-contrast live faces have a flat share of 0.35-0.67 but an exact share of
    0.09-0.34 (88 weak faces on the first frames of the bench screens); the painted UI
    pieces BlazeFace takes for faces 0.34-0.95 (most above 0.45)."""
    if score >= FLAT_MAX_SCORE:
        return False
    x0, y0, x1, y1 = (int(v) for v in xyxy)
    box = gray[y0:y1, x0:x1]
    if not box.size:
        return True  # as both shares of an empty box are 1
    exact = mode_share(box, 1)
    if in_grid:
        return exact >= EXACT_SHARE_MIN
    return mode_share(box, 6) >= FLAT_SHARE_MIN and exact >= EXACT_SHARE_MIN_OUTSIDE


def skin_share(image_bgr: np.ndarray, xyxy: np.ndarray) -> float:
    """Share of the box's pixels that are skin-coloured (see ``skin_mask``)."""
    x0, y0, x1, y1 = (int(v) for v in xyxy)
    box = image_bgr[max(0, y0):max(0, y1), max(0, x0):max(0, x1)]
    return float(skin_mask(box).mean()) if box.size else 0.0


def skin_mask(image_bgr: np.ndarray) -> np.ndarray:
    """``(h, w)`` bool: the skin-coloured pixels, dim ones judged as if lit.

    The YCrCb box holds skin at ordinary exposure. A camera in a dim room scales a face's
    colour towards black, and its chroma (Cr, Cb distances from 128) with it: a face at a third
    of normal brightness sits at Cr 131-135, outside the box. So a pixel under ``SKIN_LIT_Y``
    luma is judged with its luma and chroma distances scaled up to that level (at most
    ``SKIN_MAX_GAIN`` times, from luma ``SKIN_MIN_Y``, so black noise stays black)."""
    h, w = image_bgr.shape[:2]
    if image_bgr.size == 0:
        return np.zeros((h, w), bool)
    return lit_skin(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2YCrCb))


def lit_skin(ycc: np.ndarray) -> np.ndarray:
    """``(h, w)`` bool: ``skin_mask`` of a picture already in YCrCb ``(h, w, 3)`` uint8.

    The scaling depends on a pixel's luma alone, so each luma's box of its own (Y, Cr, Cb) values
    (``_lit_skin_bounds``) is looked up and the pixel tested against it: two table look-ups and
    one range test a pixel, where scaling every pixel in floating point cost ~4x as much."""
    luma = cv2.merge([np.ascontiguousarray(ycc[:, :, 0])] * 3)
    lo, hi = _lit_skin_bounds()
    return cv2.inRange(ycc, cv2.LUT(luma, lo), cv2.LUT(luma, hi)) > 0


@functools.cache
def _lit_skin_bounds() -> tuple[np.ndarray, np.ndarray]:
    """``(1, 256, 3)`` uint8 lower and upper bounds, per luma, of the (Y, Cr, Cb) values a pixel of
    that luma is skin with (see ``skin_mask``): the values whose lit value (in float32, as scaled
    for that luma) lies in the YCrCb skin box. A lit value grows with the value, so they form one
    range; where there are none the bounds are (1, 0)."""
    value = np.arange(256, dtype=np.float32)
    gain = np.where(value >= SKIN_MIN_Y, np.clip(SKIN_LIT_Y / np.maximum(value, 1.0), 1.0, SKIN_MAX_GAIN), 1.0)
    lit_luma = value * gain  # (256,): a pixel's luma is the luma its gain is for
    lit_chroma = 128.0 + (value[None, :] - 128.0) * gain[:, None]  # (luma, chroma value)
    ok = np.zeros((256, 256, 3), bool)  # (luma, value, channel)
    ok[:, :, 0] = np.diag((lit_luma >= SKIN_YCRCB_LO[0]) & (lit_luma <= SKIN_YCRCB_HI[0]))
    for ch in (1, 2):
        ok[:, :, ch] = (lit_chroma >= SKIN_YCRCB_LO[ch]) & (lit_chroma <= SKIN_YCRCB_HI[ch])
    has = ok.any(axis=1)  # (256, 3)
    lo = np.where(has, ok.argmax(axis=1), 1)
    hi = np.where(has, 255 - ok[:, ::-1, :].argmax(axis=1), 0)
    return lo.astype(np.uint8)[None], hi.astype(np.uint8)[None]
