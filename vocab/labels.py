"""The seven FER2013 emotion classes, in the order of the model's output, and what they mean for mood.

``UNCERTAIN`` is the label index of a face whose smoothed confidence is under the threshold.
``VALENCE`` is each class's valence on -1..+1 (Russell's circumplex, rounded): what the mood
index averages. Surprise is mildly positive in a classroom (curiosity), Neutral is zero.
"""

from __future__ import annotations

import numpy as np

EMOTIONS: tuple[str, ...] = ("Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral")
UNCERTAIN = -1

VALENCE: dict[str, float] = {"Angry": -0.8, "Disgust": -0.7, "Fear": -0.6, "Happy": 1.0,
                             "Sad": -0.7, "Surprise": 0.2, "Neutral": 0.0}
NEGATIVE: tuple[str, ...] = ("Angry", "Disgust", "Fear", "Sad")
VALENCE_VEC = np.array([VALENCE[e] for e in EMOTIONS], np.float64)  # (7,) in EMOTIONS order
NEGATIVE_MASK = np.array([e in NEGATIVE for e in EMOTIONS])  # (7,) bool


def mood_index(distribution: np.ndarray) -> np.ndarray:
    """``100 * sum(p * valence)`` over the last axis: -100..+100, 0 for a neutral class.

    ``distribution`` ``(..., 7)`` probabilities in ``EMOTIONS`` order; NaN rows stay NaN.
    """
    return 100.0 * (np.asarray(distribution, np.float64) @ VALENCE_VEC)


def label_text(label: int) -> str:
    """A face's label index as shown to people: an emotion's name or "Uncertain"."""
    return "Uncertain" if label == UNCERTAIN else EMOTIONS[label]
