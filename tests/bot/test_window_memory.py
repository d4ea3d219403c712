"""The change test behind kept detections, and the person zones that let a moving face's
neighbouring windows keep their answers (``bot.window_memory``)."""

from __future__ import annotations

import cv2
import numpy as np

from bot.window_memory import (
    CHANGE_MAX_DIFF,
    FOLLOW_ZONE_DOWN,
    cells_changed,
    centre_in,
    changed_within,
    coarse_cells,
    person_zones,
)


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
    assert changed_within(before, moved, window, zones, CHANGE_MAX_DIFF)
    # The same movement, with a zone somewhere else: the window must be asked again.
    elsewhere = person_zones(np.array([[500, 20, 540, 60]], np.float32), np.zeros((0, 4), np.int32))
    assert not changed_within(before, moved, window, elsewhere, CHANGE_MAX_DIFF)


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
