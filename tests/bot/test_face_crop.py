"""The expression model's crop frames real people's faces as FER2013 frames its faces
(``bot.classify.face_crops``): found by the real detector on galleries of the shared photos, the
eyes (real face landmarks) land where FER2013 has them in the 48x48 input."""

from __future__ import annotations

import numpy as np
import pytest

from bot.classify import crop_square, face_crops
from bot.detect import FaceFinder
from models.face_detector import FULL_RANGE_MODEL_PATH, MediaPipeFaceDetector
from models.face_landmarks import EYE_CORNERS, FaceLandmarker
from models.preprocessing import FER_EYES_48
from tools.compose_gallery import compose_gallery, load_face_photos, shared_dir


@pytest.fixture(scope="module")
def eyes_in_crop() -> np.ndarray:
    """``(n, 2, 2)``: each found face's eye centres in its 48x48 crop's pixels."""
    if shared_dir() is None:
        pytest.skip("../shared/data/faces not found (set CLASSMOOD_SHARED): the galleries need real photos")
    photos = load_face_photos()
    out = []
    with FaceLandmarker(threads=1) as landmarker, MediaPipeFaceDetector() as short, \
            MediaPipeFaceDetector(FULL_RANGE_MODEL_PATH) as full:
        finder = FaceFinder(short, scan_detector=full)
        for seed, grid in enumerate([(3, 3), (4, 4), (4, 5)]):
            gallery = compose_gallery(photos, grid=grid, seed=300 + seed, camera_off_frac=0.0, jpeg_quality=60)
            faces = finder.find_faces(gallery.image, gallery.tiles_xyxy())
            marks = landmarker.landmarks(gallery.image, faces.xyxy)
            for box, points, presence in zip(faces.xyxy, marks.points_px, marks.presence, strict=True):
                if presence < 0.5:
                    continue
                cx, cy, half = crop_square(box)
                eyes = np.array([points[list(corners), :2].mean(axis=0) for corners in EYE_CORNERS])
                out.append((eyes - (cx - half, cy - half)) * 48 / (2 * half))
    return np.array(out)


def test_real_eyes_sit_where_fer2013_has_them(eyes_in_crop: np.ndarray) -> None:
    assert len(eyes_in_crop) >= 25
    fer = np.array(FER_EYES_48)
    # Measured 0.4-1.2 px from FER2013's eye height (a square around the box centre: 4-5 px high).
    height = float(np.median(eyes_in_crop[:, :, 1].mean(axis=1)))
    assert abs(height - fer[:, 1].mean()) < 1.6, height
    middle = float(np.median(eyes_in_crop[:, :, 0].mean(axis=1)))
    assert abs(middle - fer[:, 0].mean()) < 1.5, middle
    distance = float(np.median(eyes_in_crop[:, 1, 0] - eyes_in_crop[:, 0, 0]))
    assert 0.8 < distance / (fer[1, 0] - fer[0, 0]) < 1.2, distance


def test_crop_shows_more_forehead_than_neck() -> None:
    """The crop reaches further above the box (forehead, as in FER2013) than below it; at the
    frame's edge it is clipped, and a box off the frame gives a 1x1 black crop, not an error."""
    rows = np.repeat(np.arange(200, dtype=np.uint8)[:, None], 300, axis=1)
    image = np.stack([rows] * 3, axis=-1)
    box = np.array([[100.0, 80.0, 140.0, 130.0], [280.0, 0.0, 320.0, 30.0], [400.0, 10.0, 440.0, 50.0]])
    inside, edge, outside = face_crops(image, box)
    above, below = 80 - int(inside[0, 0, 0]), int(inside[-1, 0, 0]) - 129
    assert above >= below + 8, (above, below)
    assert 55 <= inside.shape[0] <= 62 and abs(inside.shape[0] - inside.shape[1]) <= 1
    assert edge.shape[1] < edge.shape[0] and edge[0, 0, 0] == 0
    assert outside.shape == (1, 1, 3) and not outside.any()
