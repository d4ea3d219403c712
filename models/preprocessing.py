"""The one face-crop preprocessing used by training, evaluation and the live pipeline.

Keeping a single function means the network sees at run time exactly the pixel statistics it
was trained on: grayscale, 48x48, values in 0..1. Mean/std normalisation lives inside the ONNX
graph so no caller can forget it.
"""

from __future__ import annotations

import cv2
import numpy as np

FACE_SIZE_PX = 48


def face_tensor(crops: list[np.ndarray] | np.ndarray) -> np.ndarray:
    """Turn face crops into the emotion model's input.

    Args:
        crops: a list of images, each ``(h, w)`` grayscale or ``(h, w, 3)`` BGR uint8, or one
            ``(n, h, w)`` uint8 array of grayscale crops.

    Returns:
        float32 array ``(n, 1, 48, 48)`` with values in 0..1.
    """
    out = np.empty((len(crops), 1, FACE_SIZE_PX, FACE_SIZE_PX), dtype=np.float32)
    for i, crop in enumerate(crops):
        out[i, 0] = face_gray_48(crop).astype(np.float32) / 255.0
    return out


def face_gray_48(crop: np.ndarray) -> np.ndarray:
    """One crop as a ``(48, 48)`` uint8 grayscale image.

    Colour crops are converted with OpenCV's BGR weights; area interpolation is used when
    shrinking (it averages, so screen-capture aliasing does not survive) and cubic when growing.
    """
    if crop.ndim == 3:
        if crop.shape[2] == 4:
            crop = cv2.cvtColor(crop, cv2.COLOR_BGRA2GRAY)
        else:
            crop = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    if crop.dtype != np.uint8:
        crop = np.clip(crop, 0, 255).astype(np.uint8)
    h, w = crop.shape[:2]
    if (h, w) == (FACE_SIZE_PX, FACE_SIZE_PX):
        return crop
    shrinking = h >= FACE_SIZE_PX and w >= FACE_SIZE_PX
    interp = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    return cv2.resize(crop, (FACE_SIZE_PX, FACE_SIZE_PX), interpolation=interp)
