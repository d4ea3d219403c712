"""The composed galleries and their ground truth are consistent and deterministic."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from tools.compose_gallery import (
    auto_grid,
    compose_gallery,
    fallback_photo_path,
    grid_layout,
    load_face_photos,
    main,
    speaker_strip_layout,
    write_gallery_video,
)


@pytest.fixture(scope="module")
def photos():
    return load_face_photos()


@pytest.mark.parametrize(("grid", "size_wh", "layout", "n_expected"), [
    ((1, 1), (1280, 720), "grid", 1),
    ((2, 2), (1920, 1080), "grid", 4),
    ((7, 7), (1280, 720), "grid", 49),
    ((3, 3), (1920, 1080), "strip-top", 6),
    ((3, 3), (1280, 720), "strip-right", 6),
])
def test_truth_is_consistent(photos, grid, size_wh, layout, n_expected):
    g = compose_gallery(photos, grid=grid, size_wh=size_wh, layout=layout, seed=5)
    w, h = size_wh
    assert g.image.shape == (h, w, 3) and g.image.dtype == np.uint8
    tiles = g.tiles_xyxy()
    assert tiles.shape == (n_expected, 4)
    assert (tiles[:, 0] >= 0).all() and (tiles[:, 2] <= w).all() and (tiles[:, 3] <= h).all()
    for i, a in enumerate(tiles):  # no two tiles overlap
        for b in tiles[i + 1:]:
            assert min(a[2], b[2]) <= max(a[0], b[0]) or min(a[3], b[3]) <= max(a[1], b[1])
    for t in g.tiles:
        assert (t.face_xyxy is not None) == t.has_face == (t.photo is not None)
        if t.face_xyxy is not None:
            x0, y0, x1, y1 = t.xyxy
            fx0, fy0, fx1, fy1 = t.face_xyxy
            assert x0 <= fx0 < fx1 <= x1 and y0 <= fy0 < fy1 <= y1
    people = [t.person_id for t in g.tiles if t.has_face]
    assert len(people) == len(set(people)), "one person appears once per gallery"


def test_deterministic_from_seed(photos):
    a = compose_gallery(photos, grid=(3, 3), size_wh=(1280, 720), seed=9)
    b = compose_gallery(photos, grid=(3, 3), size_wh=(1280, 720), seed=9)
    c = compose_gallery(photos, grid=(3, 3), size_wh=(1280, 720), seed=10)
    assert np.array_equal(a.image, b.image) and a.tiles == b.tiles
    assert not np.array_equal(a.image, c.image)


def test_camera_off_share(photos):
    g = compose_gallery(photos, grid=(4, 5), size_wh=(1920, 1080), seed=1, camera_off_frac=0.25)
    assert (~g.face_mask()).sum() == 5
    g = compose_gallery(photos, grid=(2, 2), size_wh=(1280, 720), seed=1, camera_off_frac=1.0)
    assert not g.face_mask().any()


@pytest.mark.parametrize(("n", "grid"), [(1, (1, 1)), (2, (1, 2)), (5, (2, 3)), (9, (3, 3)), (10, (3, 4)),
                                         (49, (7, 7))])
def test_auto_grid(n, grid):
    assert auto_grid(n) == grid


def test_layouts_partial_row_is_centred():
    boxes = grid_layout(3, 3, (1280, 720), n_tiles=7)
    assert len(boxes) == 7
    last = boxes[6]
    assert abs((last[0] + last[2]) / 2 - 640) <= 1
    speaker, *strip = speaker_strip_layout(4, (1920, 1080), side="top")
    assert speaker[1] > strip[0][3] and len(strip) == 4
    with pytest.raises(ValueError, match="side"):
        speaker_strip_layout(4, (1920, 1080), side="left")


def test_fallback_photo_ships_with_matplotlib(tmp_path):
    assert fallback_photo_path().is_file()
    photos = load_face_photos(tmp_path)  # a folder without data/faces
    assert len(photos) == 1 and photos[0].person_id == "grace_hopper"
    g = compose_gallery(photos, grid=(2, 2), size_wh=(1280, 720), seed=0, camera_off_frac=0)
    assert len({t.person_id for t in g.tiles}) == 4  # varied copies get their own ids


def test_video_reflows_and_keeps_identities(photos, tmp_path):
    path = tmp_path / "class.avi"
    truths = write_gallery_video(path, photos, n_frames=6, size_wh=(640, 360), n_start=4, seed=2)
    cap = cv2.VideoCapture(str(path))
    frames = 0
    while cap.read()[0]:
        frames += 1
    cap.release()
    assert frames == 6 and len(truths) == 6
    before, after = truths[0], truths[-1]
    assert (len(before), len(after)) == (4, 5)
    moved = {t.name: t.xyxy for t in before}
    assert any(moved[t.name] != t.xyxy for t in after if t.name in moved), "tiles reflow"
    same = {t.name: t.person_id for t in before}
    assert all(same[t.name] == t.person_id for t in after if t.name in same)
    with pytest.raises(ValueError, match="avi or .mp4"):
        write_gallery_video(tmp_path / "x.mov", photos, n_frames=1)


def test_cli_writes_image_and_truth(tmp_path, capsys):
    out = tmp_path / "g.png"
    assert main(["--grid", "2x3", "--size", "1280x720", "--seed", "4", "--out", str(out)]) == 0
    image = cv2.imread(str(out))
    assert image.shape == (720, 1280, 3)
    truth = json.loads(out.with_suffix(".json").read_text())
    assert len(truth) == 6 and {"xyxy", "person_id", "face_xyxy"} <= set(truth[0])
    assert "wrote" in capsys.readouterr().out
