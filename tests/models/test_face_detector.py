"""MediaPipe BlazeFace behind the FaceDetector protocol: real model, real photos."""

from __future__ import annotations

import logging
import shutil

import cv2
import numpy as np
import pytest

from models.face_detector import DEFAULT_MODEL_PATH, SHIPPED_MODEL_SHA256, MediaPipeFaceDetector
from tools.compose_gallery import load_face_photos
from vocab.errors import ModelError


@pytest.fixture(scope="module")
def detector():
    with MediaPipeFaceDetector() as d:
        yield d


def test_shipped_model_checksum(detector):
    assert detector.model_sha256 == SHIPPED_MODEL_SHA256


def test_finds_the_face_of_a_portrait(detector):
    photo = next(p for p in load_face_photos(utkface=False) if p.face_frac[3] - p.face_frac[1] > 0.2)
    image = cv2.imread(str(photo.path))
    xyxy, score = detector.detect(image)
    assert xyxy.dtype == np.float32 and score.dtype == np.float32
    assert xyxy.shape == (1, 4) and score.shape == (1,)
    h, w = image.shape[:2]
    expected = np.array(photo.face_frac) * [w, h, w, h]
    ix = min(xyxy[0, 2], expected[2]) - max(xyxy[0, 0], expected[0])
    iy = min(xyxy[0, 3], expected[3]) - max(xyxy[0, 1], expected[1])
    assert ix > 0 and iy > 0 and score[0] > 0.7


def test_boxes_are_clipped_to_the_image(detector):
    photo = load_face_photos(utkface=False)[0]
    image = cv2.imread(str(photo.path))
    h, w = image.shape[:2]
    x0, y0, x1, y1 = (np.array(photo.face_frac) * [w, h, w, h]).astype(int)
    cut = np.ascontiguousarray(image[:, : (x0 + x1) // 2 + (x1 - x0) // 4])  # face partly cut off
    xyxy, _ = detector.detect(cut)
    assert (xyxy >= 0).all() and (xyxy[:, [0, 2]] <= cut.shape[1]).all() and (xyxy[:, [1, 3]] <= h).all()


@pytest.mark.parametrize("image", [
    np.zeros((720, 1280, 3), np.uint8),
    np.full((10, 10, 3), 128, np.uint8),
    np.zeros((1, 1, 3), np.uint8),
    np.random.default_rng(0).integers(0, 256, (200, 300, 3), dtype=np.uint8),
], ids=["black", "10x10", "1x1", "noise"])
def test_no_face_is_empty(detector, image):
    xyxy, score = detector.detect(image)
    assert xyxy.shape == (0, 4) and score.shape == (0,)


def test_rejects_non_bgr(detector):
    with pytest.raises(ValueError, match="BGR"):
        detector.detect(np.zeros((10, 10), np.uint8))


def test_missing_model_is_one_line_model_error(tmp_path):
    with pytest.raises(ModelError, match="not found") as info:
        MediaPipeFaceDetector(tmp_path / "nope.tflite")
    assert "\n" not in str(info.value)


def test_corrupt_model_is_model_error_and_checksum_is_reported(tmp_path, caplog):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a flatbuffer")
    with caplog.at_level(logging.WARNING, logger="models.face_detector"), \
            pytest.raises(ModelError, match="cannot be loaded") as info:
        MediaPipeFaceDetector(bad)
    assert "\n" not in str(info.value)
    assert any("sha256" in r.getMessage() for r in caplog.records)


def test_copy_of_the_shipped_model_loads_without_warning(tmp_path, caplog):
    copy = tmp_path / "copy.tflite"
    shutil.copy(DEFAULT_MODEL_PATH, copy)
    with caplog.at_level(logging.WARNING), MediaPipeFaceDetector(copy, min_score=0.6) as d:
        assert d.min_score == 0.6
    assert not caplog.records


def test_closed_detector_refuses_and_close_is_idempotent():
    d = MediaPipeFaceDetector()
    d.close()
    d.close()
    with pytest.raises(ModelError, match="closed"):
        d.detect(np.zeros((64, 64, 3), np.uint8))


def test_bad_min_score():
    with pytest.raises(ValueError, match="min_score"):
        MediaPipeFaceDetector(min_score=1.5)


def test_full_range_model_ships_and_finds_a_small_face():
    """The full-range model (the scan's) ships with its checksum and finds a face that is ~10 %
    of its input, where the short-range model needs ~17 %."""
    from models.face_detector import FULL_RANGE_MODEL_PATH, FULL_RANGE_MODEL_SHA256

    photo = next(p for p in load_face_photos(utkface=False) if p.face_frac[3] - p.face_frac[1] > 0.2)
    image = cv2.imread(str(photo.path))
    h, w = image.shape[:2]
    fx0, fy0, fx1, fy1 = (np.array(photo.face_frac) * [w, h, w, h]).astype(int)
    face = cv2.resize(image[fy0:fy1, fx0:fx1], (40, int(40 * (fy1 - fy0) / (fx1 - fx0))))
    canvas = np.full((400, 400, 3), 128, np.uint8)
    canvas[150:150 + face.shape[0], 200:240] = face
    with MediaPipeFaceDetector(FULL_RANGE_MODEL_PATH) as full:
        assert full.model_sha256 == FULL_RANGE_MODEL_SHA256
        xyxy, _ = full.detect(canvas)
    assert len(xyxy) == 1 and 190 <= (xyxy[0, 0] + xyxy[0, 2]) / 2 <= 250
