"""The crop picture in docs/emotion-model.md (``training.framing_picture``) draws what it says: the photo with
the detector's box and both crop squares, then the three 48x48 panels, with FER2013's eye line."""

from __future__ import annotations

import cv2
import numpy as np

from tools.compose_gallery import fallback_photo_path
from training.framing_picture import BEFORE, BOX, NOW, ZOOM, framing_picture


def test_picture_shows_box_both_crops_and_the_eye_line() -> None:
    photo = cv2.imread(str(fallback_photo_path()))
    faces = np.random.default_rng(0).integers(0, 256, (16, 48, 48), dtype=np.uint8)
    picture = framing_picture(photo, faces)
    assert picture.shape[0] == 48 * ZOOM + 36 + 30 and picture.shape[1] > 3 * 48 * ZOOM
    left = picture[:48 * ZOOM + 36, :picture.shape[1] - 3 * (48 * ZOOM + 22)]
    for colour in (BOX, BEFORE, NOW):  # the three outlines on the photo (resized: near the colour)
        near = np.abs(left.astype(int) - np.array(colour)).sum(axis=2) < 60
        assert near.sum() > 50, colour
    yellow = np.abs(picture.astype(int) - np.array((0, 220, 255))).sum(axis=2) < 30
    assert yellow.sum() > 3 * 48 * ZOOM  # the dashed eye line crosses the three panels
