"""Class mood: the whole class in a few numbers (faces seen, emotion mix, one mood index)."""

from __future__ import annotations

import dataclasses

import numpy as np

from bot.types import ClassMood, FrameResult
from models.labels import EMOTIONS

# Valence of each FER2013 class on -1..+1 (Russell's circumplex, rounded): what the mood index
# averages. Surprise is mildly positive in a classroom (curiosity), Neutral is zero.
VALENCE: dict[str, float] = {"Angry": -0.8, "Disgust": -0.7, "Fear": -0.6, "Happy": 1.0,
                             "Sad": -0.7, "Surprise": 0.2, "Neutral": 0.0}
NEGATIVE = ("Angry", "Disgust", "Fear", "Sad")
_VALENCE = np.array([VALENCE[e] for e in EMOTIONS], np.float32)
_NEGATIVE = np.array([e in NEGATIVE for e in EMOTIONS])


def class_mood(frame: FrameResult, participants_known: int) -> ClassMood:
    """The ``ClassMood`` of one frame; emotion fields are None when nothing was classified."""
    faces = frame.faces
    probs = faces.smoothed_probs
    if probs is None or len(faces) == 0:
        return ClassMood(len(faces), len(frame.tiles_xyxy), participants_known, None, None, None)
    dist = probs.mean(axis=0)
    return ClassMood(
        faces_seen=len(faces),
        tiles_seen=len(frame.tiles_xyxy),
        participants_known=participants_known,
        distribution=tuple(float(v) for v in dist),
        mood_index=float(100.0 * dist @ _VALENCE),
        negative_share=float(dist[_NEGATIVE].sum()),
    )


def with_mood(frame: FrameResult, participants_known: int) -> FrameResult:
    """Writes ``mood``."""
    return dataclasses.replace(frame, mood=class_mood(frame, participants_known))
