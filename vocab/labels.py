"""The seven FER2013 emotion classes, in the order of the model's output, and what they mean for mood.

``UNCERTAIN`` is the label index of a face whose smoothed confidence is under the threshold.
``VALENCE`` is each class's valence on -1..+1 (Russell's circumplex, rounded): what the mood
index averages. Surprise is mildly positive in a classroom (curiosity), Neutral is zero.
"""

from __future__ import annotations

import numpy as np

EMOTIONS: tuple[str, ...] = ("Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral")
UNCERTAIN = -1
UNREADABLE = -2  # label index of a face whose expression cannot be read (looking away/down, eyes closed, covered)

# Where a face is looking (``bot.attention``); index = the code stored in ``Faces.attention``,
# -1 = not read yet. "hidden": the lower face is covered (mask, hand) or the face is not clear.
ATTENTION_STATES: tuple[str, ...] = ("screen", "down", "away", "eyes_closed", "hidden")
NOT_READ = -1
# Following the lesson: looking at the screen, lower face covered or not; the rest is not.
ATTENDING_STATES: tuple[str, ...] = ("screen", "hidden")
AWAY_STATES: tuple[str, ...] = tuple(s for s in ATTENTION_STATES if s not in ATTENDING_STATES)

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
    """A face's label index as shown to people: an emotion's name, "Uncertain" or "Unreadable"."""
    if label == UNCERTAIN:
        return "Uncertain"
    if label == UNREADABLE:
        return "Unreadable"
    return EMOTIONS[label]


def attention_text(code: int) -> str | None:
    """An attention code as stored and shown (``"screen"``...), None where not read."""
    return ATTENTION_STATES[code] if 0 <= code < len(ATTENTION_STATES) else None


def is_readable(attention_code: int) -> bool:
    """Whether an expression may be read from a face in this attention state.

    Only a face looking at the screen: a face looking down reads as "sad" to an expression
    model, a masked one as "neutral", closed eyes as "sad" or "neutral". A face not read yet
    (``NOT_READ``) is readable, so it keeps its label until its first reading says otherwise.
    """
    return attention_code in (NOT_READ, 0)


def is_attending(attention_code: int) -> bool:
    """Whether a face counts as following the lesson: looking at the screen (mask or not)."""
    return attention_text(attention_code) in ATTENDING_STATES


def eyes_text(eyes_closed: int) -> str | None:
    """An eye reading (1 closed, 0 open, -1 not judged) as stored and shown: "closed", "open" or None."""
    return {1: "closed", 0: "open"}.get(eyes_closed)
