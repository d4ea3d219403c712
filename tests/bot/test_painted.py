"""The painted-or-filmed tests' building blocks (``bot.painted``), against the plain computations
they stand for."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from bot.painted import (
    SKIN_LIT_Y,
    SKIN_MAX_GAIN,
    SKIN_MIN_Y,
    SKIN_YCRCB_HI,
    SKIN_YCRCB_LO,
    commonest_grey,
    lit_skin,
    painted_tile,
    profile_photo,
)


def _lit_skin_by_scaling(ycc: np.ndarray) -> np.ndarray:
    """``skin_mask``'s rule spelt out: every pixel's luma and chroma distances scaled in float32."""
    h, w = ycc.shape[:2]
    v = ycc.reshape(-1, 3).astype(np.float32)
    gain = np.where(v[:, 0] >= SKIN_MIN_Y, np.clip(SKIN_LIT_Y / np.maximum(v[:, 0], 1.0), 1.0, SKIN_MAX_GAIN), 1.0)
    lit = np.concatenate((v[:, :1] * gain[:, None], 128.0 + (v[:, 1:] - 128.0) * gain[:, None]), axis=1)
    return ((lit >= SKIN_YCRCB_LO) & (lit <= SKIN_YCRCB_HI)).all(axis=1).reshape(h, w)


def test_skin_by_table_is_skin_by_scaling_for_every_colour() -> None:
    luma, chroma = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    for other in range(256):  # all 256^3 YCrCb values, a plane at a time
        for ycc in (np.stack((luma, chroma, np.full_like(luma, other)), -1),
                    np.stack((luma, np.full_like(luma, other), chroma), -1)):
            ycc = ycc.astype(np.uint8)
            np.testing.assert_array_equal(lit_skin(ycc), _lit_skin_by_scaling(ycc))


@pytest.mark.parametrize("shape", [(1, 1), (15, 30), (430, 765)])
def test_commonest_grey_counts_every_pixel(shape: tuple[int, int]) -> None:
    gray = np.random.default_rng(1).integers(90, 110, (2 * shape[0], 2 * shape[1]), dtype=np.uint8)[::2, ::2]
    near = np.convolve(np.bincount(gray.ravel(), minlength=256), np.ones(3), mode="same")
    assert commonest_grey(gray, 1) == (int(np.argmax(near)), float(near.max() / gray.size))


def test_a_painted_tiles_blobs_are_opencvs_components() -> None:
    """A camera-off tile (one grey) with a centred photo and a name label: each blob's box and
    area as cv2.connectedComponentsWithStats gives them, and the photo told as a photo."""
    gray = np.full((200, 320), 60, np.uint8)
    gray[60:140, 120:200] = np.random.default_rng(2).integers(100, 250, (80, 80), dtype=np.uint8)  # the photo
    gray[170:185, 10:90] = 230  # the name label
    found = painted_tile(gray, np.array([0, 0, 320, 200]))
    assert found is not None
    half = (np.abs(gray[::2, ::2].astype(np.int16) - 60) > 1).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(half, connectivity=8)
    assert found.count == count and np.array_equal(found.labels, labels)
    assert [found.blob(k) for k in range(count)] == [tuple(row) for row in stats.tolist()]
    assert profile_photo(found, np.array([140, 80, 180, 120], np.float32))
    assert not profile_photo(found, np.array([10, 168, 90, 186], np.float32))  # the label: off-centre
