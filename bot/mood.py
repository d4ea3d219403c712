"""Class mood: the whole class in a few numbers (faces seen, emotion mix, one mood index)."""

from __future__ import annotations

import dataclasses

from vocab.labels import NEGATIVE_MASK, mood_index
from vocab.types import ClassMood, FrameResult


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
        mood_index=float(mood_index(dist)),
        negative_share=float(dist[NEGATIVE_MASK].sum()),
    )


def with_mood(frame: FrameResult, participants_known: int) -> FrameResult:
    """Writes ``mood``."""
    return dataclasses.replace(frame, mood=class_mood(frame, participants_known))
