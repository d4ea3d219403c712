"""The classification stage: crop every face, preprocess once, one batched model call."""

from __future__ import annotations

import dataclasses

import numpy as np

from models.preprocessing import face_tensor
from vocab.labels import EMOTIONS, is_readable
from vocab.protocols import EmotionClassifier
from vocab.types import FrameResult

# BlazeFace boxes run from brows to chin; FER2013 faces include forehead and jaw line.
CROP_SCALE = 1.25


def face_crops(image: np.ndarray, xyxy: np.ndarray, scale: float = CROP_SCALE) -> list[np.ndarray]:
    """Square crops ``scale`` times the box's longer side around each box centre.

    Crops are clipped to the image; a box entirely outside gives a 1x1 black crop (the model
    then answers something uncertain instead of the pipeline failing).
    """
    h, w = image.shape[:2]
    crops = []
    for x1, y1, x2, y2 in xyxy:
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        half = max(x2 - x1, y2 - y1) * scale / 2
        a, b = int(max(0, round(cx - half))), int(max(0, round(cy - half)))
        c, d = int(min(w, round(cx + half))), int(min(h, round(cy + half)))
        crops.append(image[b:d, a:c] if c > a and d > b else np.zeros((1, 1, 3), np.uint8))
    return crops


class EmotionStage:
    """Writes ``faces.emotion_probs``: one batched model call over the faces that can be read.

    A face the attention stage found unreadable (looking down or away, eyes closed, lower face
    covered) is not classified: its row is NaN, so no expression is guessed from it.
    """

    def __init__(self, classifier: EmotionClassifier) -> None:
        self._classifier = classifier

    def __call__(self, frame: FrameResult) -> FrameResult:
        faces = frame.faces
        probs = np.full((len(faces), len(EMOTIONS)), np.nan, np.float32)
        readable = np.ones(len(faces), bool) if faces.attention is None else \
            np.array([is_readable(int(a)) for a in faces.attention], bool)
        if frame.image is not None and readable.any():
            crops = face_crops(frame.image, faces.xyxy[readable])
            probs[readable] = self._classifier.predict(face_tensor(crops)).astype(np.float32)
        return dataclasses.replace(frame, faces=dataclasses.replace(faces, emotion_probs=probs))
