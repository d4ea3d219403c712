"""Class mood: the whole class in a few numbers (faces seen, emotion mix, one mood index, attention)."""

from __future__ import annotations

import dataclasses

import numpy as np

from vocab.labels import NEGATIVE_MASK, is_attending, mood_index
from vocab.types import ClassMood, FrameResult


def class_mood(frame: FrameResult, participants_known: int) -> ClassMood:
    """The ``ClassMood`` of one frame.

    The emotion mix is the mean over the faces whose expression could be read (finite smoothed
    probabilities); emotion fields are None when there is none. The attention share is over the
    faces with an attention reading.
    """
    faces = frame.faces
    tiles_with_face = {tuple(t) for t in faces.tile_xyxy.tolist()}
    cameras_off = sum(1 for t in frame.tiles_xyxy.tolist() if tuple(t) not in tiles_with_face)
    attention_share = None
    if faces.attention is not None:
        read = [int(a) for a in faces.attention if a >= 0]
        attention_share = sum(is_attending(a) for a in read) / len(read) if read else None
    probs = faces.smoothed_probs
    readable = np.isfinite(probs).all(axis=1) if probs is not None else np.zeros(0, bool)
    dist = probs[readable].mean(axis=0) if probs is not None and readable.any() else None
    return ClassMood(
        faces_seen=len(faces), tiles_seen=len(frame.tiles_xyxy), participants_known=participants_known,
        distribution=tuple(float(v) for v in dist) if dist is not None else None,
        mood_index=float(mood_index(dist)) if dist is not None else None,
        negative_share=float(dist[NEGATIVE_MASK].sum()) if dist is not None else None,
        faces_readable=int(readable.sum()), attention_share=attention_share,
        hidden_by_overlay=len(frame.hidden_track_ids), cameras_off=cameras_off)


def with_mood(frame: FrameResult, participants_known: int) -> FrameResult:
    """Writes ``mood``."""
    return dataclasses.replace(frame, mood=class_mood(frame, participants_known))
