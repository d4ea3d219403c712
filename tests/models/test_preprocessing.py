"""Training and run time must feed the network identical tensors for the same face."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from models.preprocessing import FACE_SIZE_PX, face_gray_48, face_tensor
from training.data import Split, load_splits


@pytest.fixture(scope="module")
def public_slice(fer2013_npz: Path) -> Split:
    """The first few real PublicTest faces."""
    splits, _ = load_splits(fer2013_npz, max_per_split=8)
    return splits["public"]


@pytest.fixture(scope="module")
def real_faces(public_slice: Split) -> np.ndarray:
    """``(n, 48, 48)`` uint8, as stored in the data file."""
    return public_slice.images


@pytest.fixture(scope="module")
def training_tensor(public_slice: Split) -> np.ndarray:
    """What the training path feeds the network for those faces."""
    return public_slice.tensor()


def _in_frame_bgr(face: np.ndarray, scale: int) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The face upscaled by ``scale`` (nearest) inside a larger BGR "screen" frame, and its xyxy box."""
    big = cv2.resize(face, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    frame = np.full((400, 600, 3), 30, dtype=np.uint8)
    x0, y0 = 123, 57
    frame[y0:y0 + big.shape[0], x0:x0 + big.shape[1]] = cv2.cvtColor(big, cv2.COLOR_GRAY2BGR)
    return frame, (x0, y0, x0 + big.shape[1], y0 + big.shape[0])


@pytest.mark.parametrize("scale", [1, 2, 4])
def test_training_and_runtime_paths_agree_on_real_faces(real_faces: np.ndarray, training_tensor: np.ndarray,
                                                        scale: int) -> None:
    """A real face shown on screen (grey as BGR, integer zoom) and cropped gives the training tensor exactly."""
    crops = []
    for face in real_faces:
        frame, (x0, y0, x1, y1) = _in_frame_bgr(face, scale)
        crops.append(frame[y0:y1, x0:x1])
    runtime = face_tensor(crops)
    assert runtime.dtype == training_tensor.dtype == np.float32
    np.testing.assert_array_equal(runtime, training_tensor)


def test_batch_array_and_list_of_crops_agree(real_faces: np.ndarray) -> None:
    np.testing.assert_array_equal(face_tensor(real_faces), face_tensor(list(real_faces)))


@pytest.mark.parametrize(("shape", "dtype"), [
    ((48, 48), np.uint8),          # grey, already 48x48
    ((48, 48, 3), np.uint8),       # BGR
    ((48, 48, 4), np.uint8),       # BGRA (screen capture)
    ((7, 5), np.uint8),            # tiny grey crop: upscaled
    ((11, 9, 3), np.uint8),        # tiny colour crop
    ((30, 200, 3), np.uint8),      # very wide: grows in height, shrinks in width
    ((720, 540, 3), np.uint8),     # large colour crop
    ((1080, 1080, 4), np.uint8),   # large BGRA crop
    ((64, 64), np.float32),        # float pixels in 0..255 are clipped and cast
], ids=lambda v: "x".join(map(str, v)) if isinstance(v, tuple) else np.dtype(v).name)
def test_any_crop_shape_gives_model_input(shape: tuple[int, ...], dtype: type) -> None:
    crop = (np.random.default_rng(0).random(shape) * 255).astype(dtype)
    out = face_tensor([crop, crop])
    assert out.shape == (2, 1, FACE_SIZE_PX, FACE_SIZE_PX) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0
    np.testing.assert_array_equal(out[0], out[1])


@pytest.mark.parametrize(("bgr", "grey"), [
    ((0, 0, 0), 0), ((255, 255, 255), 255), ((255, 0, 0), 29), ((0, 255, 0), 150), ((0, 0, 255), 76),
], ids=["black", "white", "blue", "green", "red"])
def test_colour_uses_bgr_luma_weights(bgr: tuple[int, int, int], grey: int) -> None:
    """Channel order matters: the captured frame is BGR, so pure red must come out darker than green."""
    crop = np.zeros((60, 60, 3), dtype=np.uint8) + np.array(bgr, dtype=np.uint8)
    bgra = np.dstack([crop, np.full((60, 60), 255, dtype=np.uint8)])
    assert int(face_gray_48(crop)[0, 0]) == grey
    assert int(face_gray_48(bgra)[0, 0]) == grey


def test_empty_batch() -> None:
    assert face_tensor([]).shape == (0, 1, FACE_SIZE_PX, FACE_SIZE_PX)


@pytest.mark.parametrize(("eye_gap_px", "roll_deg", "channels"), [
    (17.6, 0.0, 0), (40.0, 20.0, 3), (120.0, -35.0, 3), (9.0, 10.0, 0), (300.0, 5.0, 4),
], ids=["fer-size", "tilted", "large-tilted", "small", "huge-bgra"])
def test_eye_alignment_puts_the_eyes_where_fer2013_has_them(eye_gap_px: float, roll_deg: float,
                                                           channels: int) -> None:
    """Two bright dots at the eye centres of a rolled, scaled face land on FER_EYES_48."""
    from models.preprocessing import FER_EYES_48, eye_aligned_gray_48

    size = int(eye_gap_px * 4 + 40)
    img = np.zeros((size, size), np.uint8)
    centre = np.array([size / 2, size / 2])
    a = np.deg2rad(roll_deg)
    half = eye_gap_px / 2 * np.array([np.cos(a), np.sin(a)])
    eyes = np.stack([centre - half, centre + half])
    r = max(1.0, eye_gap_px / 8)
    for x, y in eyes:
        cv2.circle(img, (int(round(x * 16)), int(round(y * 16))), int(round(r * 16)), 255, -1, cv2.LINE_AA, shift=4)
    if channels:
        img = np.dstack([img] * channels)
    out = eye_aligned_gray_48(img, eyes)
    assert out.shape == (FACE_SIZE_PX, FACE_SIZE_PX) and out.dtype == np.uint8
    for (ex, ey), half_side in zip(FER_EYES_48, (slice(0, 24), slice(24, 48)), strict=True):
        patch = out[:, half_side].astype(np.float64)
        ys, xs = np.mgrid[0:48, half_side]
        cx, cy = (patch * xs).sum() / patch.sum(), (patch * ys).sum() / patch.sum()
        assert abs(cx - ex) < 1.0 and abs(cy - ey) < 1.0, (cx, cy, ex, ey)
