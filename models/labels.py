"""The seven FER2013 emotion classes, in the order of the model's output."""

from __future__ import annotations

EMOTIONS: tuple[str, ...] = ("Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral")
