"""The tile finder recovers the composed tiles (IoU > 0.9) and never cuts through a face."""

from __future__ import annotations

import numpy as np
import pytest

from bot.tiles import find_tiles
from tools.compose_gallery import compose_gallery, load_face_photos
from vocab.geometry import box_overlap  # checked against hand-worked overlaps in tests/vocab/test_geometry.py


@pytest.fixture(scope="module")
def photos():
    return load_face_photos()


@pytest.fixture(scope="module")
def portraits():
    return load_face_photos(utkface=False)


# grid, size, layout, n_tiles, theme, seed
CASES = [
    ((1, 1), (1920, 1080), "grid", None, "dark", 1),
    ((2, 2), (1280, 720), "grid", None, "dark", 2),
    ((2, 2), (1920, 1080), "grid", 3, "light", 3),
    ((3, 3), (1280, 720), "grid", None, "light", 4),
    ((3, 3), (1920, 1080), "grid", 8, "dark", 5),
    ((5, 5), (1280, 720), "grid", None, "dark", 6),
    ((5, 5), (1920, 1080), "grid", 23, "light", 7),
    ((7, 7), (1280, 720), "grid", None, "light", 8),
    ((7, 7), (1920, 1080), "grid", 47, "dark", 9),
    ((4, 4), (1920, 1080), "strip-top", 6, "dark", 10),
    ((4, 4), (1280, 720), "strip-right", 6, "light", 11),
]


@pytest.mark.parametrize(("grid", "size_wh", "layout", "n_tiles", "theme", "seed"), CASES)
@pytest.mark.parametrize("source", ["mixed", "portraits"])
def test_tiles_match_composed(photos, portraits, grid, size_wh, layout, n_tiles, theme, seed, source):
    g = compose_gallery(photos if source == "mixed" else portraits, grid=grid, size_wh=size_wh, layout=layout,
                        n_tiles=n_tiles, theme=theme, seed=seed)
    found = find_tiles(g.image)
    truth = g.tiles_xyxy()
    assert found.dtype == np.int32 and found.shape == truth.shape
    iou = box_overlap(truth, found)
    assert (iou.max(axis=1) > 0.9).all(), f"worst tile IoU {iou.max(axis=1).min():.2f}"
    for t in g.tiles:  # each face lies whole inside one found tile
        if t.face_xyxy is not None:
            fx0, fy0, fx1, fy1 = t.face_xyxy
            inside = ((found[:, 0] <= fx0 + 1) & (found[:, 1] <= fy0 + 1)
                      & (found[:, 2] >= fx1 - 1) & (found[:, 3] >= fy1 - 1))
            assert inside.sum() == 1


def test_all_cameras_off(photos):
    g = compose_gallery(photos, grid=(3, 3), size_wh=(1280, 720), camera_off_frac=1.0, seed=3)
    iou = box_overlap(g.tiles_xyxy(), find_tiles(g.image))
    assert (iou.max(axis=1) > 0.9).all()


@pytest.mark.parametrize("image", [
    np.zeros((1080, 1920, 3), np.uint8),
    np.full((720, 1280, 3), 243, np.uint8),
    np.zeros((10, 10, 3), np.uint8),
    np.zeros((0, 0, 3), np.uint8),
], ids=["black", "light-blank", "10x10", "empty"])
def test_blank_or_tiny_frame_has_no_tiles(image):
    found = find_tiles(image)
    assert found.shape == (0, 4) and found.dtype == np.int32


def test_frame_without_gaps_is_one_tile():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (360, 640, 3), dtype=np.uint8)
    assert find_tiles(image).tolist() == [[0, 0, 640, 360]]


def test_slivers_are_dropped():
    image = np.full((720, 1280, 3), 26, np.uint8)
    image[100:400, 100:600] = 180
    image[100:400, 640:1200] = 90
    image[406:416, 100:1200] = 200  # a 10 px bar 6 px below: a sliver, not a tile
    assert find_tiles(image).tolist() == [[100, 100, 600, 400], [640, 100, 1200, 400]]
