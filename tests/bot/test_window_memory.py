"""The change test behind kept detections, the person zones that let a moving face's
neighbouring windows keep their answers, and the moves of cameras that sway (``bot.window_memory``)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from bot.window_memory import (
    CHANGE_MAX_DIFF,
    FOLLOW_ZONE_DOWN,
    Kept,
    cells_changed,
    cells_shape,
    cells_within,
    centre_in,
    changed_cells,
    coarse_cells,
    person_zones,
    picture_motion,
    window_patch,
)
from vocab.geometry import points_inside


def _small(gray: np.ndarray) -> np.ndarray:
    return cv2.resize(gray, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)


def _scene(rng: np.random.Generator, face_x: int = 200) -> np.ndarray:
    """A textured 640x360 grey frame with a bright 'face' block and fresh noise of +-5 levels."""
    base = np.tile(np.linspace(40, 200, 640, dtype=np.float32), (360, 1))
    base[100:160, face_x:face_x + 50] = 230
    return np.clip(base + rng.integers(-5, 6, base.shape), 0, 255).astype(np.uint8)


def test_camera_noise_is_no_change_and_a_moved_face_is() -> None:
    rng = np.random.default_rng(0)
    window = (0, 0, 640, 360)
    first = coarse_cells(_small(_scene(rng)), window)
    assert not cells_changed(first, coarse_cells(_small(_scene(rng)), window))
    assert cells_changed(first, coarse_cells(_small(_scene(rng, face_x=216)), window))


def test_a_change_only_around_a_followed_face_lies_within_its_zone() -> None:
    rng = np.random.default_rng(1)
    window = (0, 0, 640, 360)
    before = coarse_cells(_small(_scene(rng)), window)
    moved = coarse_cells(_small(_scene(rng, face_x=216)), window)
    face = np.array([[216, 100, 266, 160]], np.float32)
    zones = person_zones(face, np.zeros((0, 4), np.int32))
    changed = changed_cells(before, moved, CHANGE_MAX_DIFF)
    assert changed is not None and cells_within(changed, window, zones)
    # The same movement, with a zone somewhere else: the window must be asked again.
    elsewhere = person_zones(np.array([[500, 20, 540, 60]], np.float32), np.zeros((0, 4), np.int32))
    assert not cells_within(changed, window, elsewhere)


def test_a_zone_reaches_down_to_the_torso_but_stays_in_its_tile() -> None:
    face = np.array([[100, 50, 140, 90]], np.float32)
    free = person_zones(face, np.zeros((0, 4), np.int32))[0]
    assert free[3] == 90 + FOLLOW_ZONE_DOWN * 40 and free[0] < 100 - 40
    tile = np.array([[80, 30, 300, 200]], np.int32)
    clipped = person_zones(face, tile)[0]
    assert clipped.tolist() == [80, 30, 220, 200]


def test_centre_in_tells_boxes_in_zones_and_zones_holding_boxes() -> None:
    zones = np.array([[0, 0, 100, 100], [200, 0, 300, 100]], np.float32)
    boxes = np.array([[40, 40, 60, 60], [150, 40, 170, 60]], np.float32)
    assert centre_in(boxes, zones).tolist() == [True, False]
    assert centre_in(zones, boxes, reverse=True).tolist() == [True, False]


def _two_tiles(rng: np.random.Generator, shift_a: tuple[float, float], shift_b: tuple[float, float],
               new_face: bool = False) -> np.ndarray:
    """A 640x360 grey screen: two 'camera' tiles of one textured picture each, each moved by its
    own (dx, dy), a static name label drawn over the first, flat gaps, camera noise of +-2."""
    screen = np.full((360, 640), 30, np.float32)
    picture = cv2.GaussianBlur(np.random.default_rng(7).integers(0, 255, (400, 400)).astype(np.float32), (0, 0), 4) * 3
    picture = np.clip(picture - picture.mean() + 128, 0, 255)
    for (x0, y0, x1, y1), (dx, dy) in (((20, 20, 300, 340), shift_a), ((340, 20, 620, 340), shift_b)):
        moved = cv2.warpAffine(picture, np.float32([[1, 0, dx], [0, 1, dy]]), (400, 400), borderMode=cv2.BORDER_REFLECT)
        screen[y0:y1, x0:x1] = moved[40:40 + y1 - y0, 40:40 + x1 - x0]
    screen[300:320, 30:150] = 220  # the first tile's name label: drawn by the app, it does not move
    if new_face:
        screen[120:170, 420:460] = 235
    return np.clip(screen + rng.integers(-2, 3, screen.shape), 0, 255).astype(np.uint8)


TILES = np.array([[20, 20, 300, 340], [340, 20, 620, 340]], np.float32)


def test_each_camera_moving_on_its_own_is_told_and_boxes_move_with_their_tile() -> None:
    rng = np.random.default_rng(2)
    window = (0, 0, 640, 360)
    before = window_patch(_small(_two_tiles(rng, (0, 0), (0, 0))), window)
    now = window_patch(_small(_two_tiles(rng, (8, 0), (-4, 4))), window)
    motion = picture_motion(before, now, window, TILES)
    assert motion is not None
    assert np.abs(motion.shifts - np.array([[8, 0], [-4, 4]])).max() <= 1.5, motion.shifts
    kept = Kept(np.zeros((1, 1), np.float32), 0.0, 30.0, np.array([[100, 100, 160, 170], [400, 100, 460, 170]],
                np.float32), np.array([0.9, 0.9], np.float32), patch=before)
    moved = kept.moved(motion, window)
    assert np.abs(moved.xyxy - np.array([[108, 100, 168, 170], [396, 104, 456, 174]])).max() <= 1.5
    assert np.array_equal(moved.unmoved().xyxy, kept.xyxy)  # back in place: the boxes as found


def test_something_new_in_a_moving_camera_is_not_explained_by_the_move() -> None:
    rng = np.random.default_rng(3)
    window = (0, 0, 640, 360)
    before = window_patch(_small(_two_tiles(rng, (0, 0), (0, 0))), window)
    joined = window_patch(_small(_two_tiles(rng, (8, 0), (-4, 4), new_face=True)), window)
    assert picture_motion(before, joined, window, TILES) is None
    # A move the tiles cannot explain: the whole screen scrolled (the gaps and label too).
    scrolled = np.roll(_two_tiles(rng, (0, 0), (0, 0)), 24, axis=0)
    assert picture_motion(before, window_patch(_small(scrolled), window), window, TILES) is None
    # Too far for a sway (over SHIFT_MAX_SHARE of the tile).
    far = window_patch(_small(_two_tiles(rng, (40, 0), (0, 0))), window)
    assert picture_motion(before, far, window, TILES) is None


def test_changed_cells_lie_in_zones_as_their_centres_do() -> None:
    """``cells_within`` (masks of columns and rows per zone) against the test it stands for:
    every changed cell's centre in one of the zones, on random grids, windows and zones."""
    rng = np.random.default_rng(4)
    for _ in range(2000):
        rows, cols = (int(v) for v in rng.integers(1, 30, 2))
        changed = rng.random((rows, cols)) < rng.random()
        x0, y0 = (int(v) for v in rng.integers(0, 500, 2))
        window = (x0, y0, x0 + int(rng.integers(4, 800)), y0 + int(rng.integers(4, 800)))
        corners = rng.uniform(-50, 850, (int(rng.integers(0, 5)), 2, 2)) + np.array([x0, y0])
        zones = np.concatenate((corners.min(axis=1), corners.max(axis=1)), axis=1).astype(np.float32)
        r, c = np.nonzero(changed)
        centres = np.stack((x0 + (c + 0.5) * (window[2] - x0) / cols, y0 + (r + 0.5) * (window[3] - y0) / rows), 1)
        assert cells_within(changed, window, zones) == bool(points_inside(centres, zones).any(axis=1).all())


@pytest.mark.parametrize("window", [(0, 0, 1920, 1080), (0, 0, 1366, 768), (1600, 760, 1920, 1080),
                                    (1617, 133, 1920, 305), (5, 5, 9, 9), (1900, 1070, 2100, 1200)])
def test_the_cells_shape_is_told_without_the_pixels(window: tuple[int, int, int, int]) -> None:
    small = np.zeros((270, 480), np.uint8)
    assert cells_shape(small.shape, window) == coarse_cells(small, window).shape
