"""Where each participant's badge goes, and what it says: pure geometry, no Qt.

A badge is a small coloured dot and one word beside a face. It is placed *outside* the face
box (below it, else right, else left, else above), inside the face's gallery tile when it
fits there, so it never covers a face: the detector must keep finding every face when it
captures a screen the badges are drawn on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vocab.labels import AWAY_STATES, EMOTIONS, UNREADABLE, attention_text
from vocab.types import UNCERTAIN, FrameResult

# One colour per FER2013 class, (r, g, b): warm for negative, green for happy, grey neutral.
EMOTION_RGB: dict[str, tuple[int, int, int]] = {
    "Angry": (229, 57, 53), "Disgust": (142, 142, 36), "Fear": (156, 39, 176),
    "Happy": (67, 160, 71), "Sad": (30, 136, 229), "Surprise": (251, 192, 45),
    "Neutral": (158, 158, 158),
}
UNCERTAIN_RGB = (220, 220, 220)
PRESENT_RGB = (0, 188, 212)
AWAY_RGB = (255, 183, 77)  # not following the lesson right now

# What a badge says for a face's attention state (``vocab.labels.ATTENTION_STATES``).
ATTENTION_WORDS: dict[str, str] = {"screen": "looking", "down": "looking down", "away": "looking away",
                                   "eyes_closed": "eyes closed", "hidden": "face covered"}

XYXY = tuple[float, float, float, float]


@dataclass(frozen=True)
class BadgeSpec:
    """What one face's badge says: ``face_xyxy`` and ``tile_xyxy`` in frame pixels."""

    face_xyxy: XYXY
    tile_xyxy: XYXY
    text: str
    rgb: tuple[int, int, int]


def first_name(name: object, max_chars: int = 16) -> str | None:
    """The first word of a display name, leading tags like "[TA]" or "(host)" skipped; None for none.

    Display names are chosen by participants: the result is plain text (badges draw it with
    ``QPainter.drawText``, which never interprets markup) and short.
    """
    if not isinstance(name, str):
        return None
    words = [w for w in name.split() if not (w[:1] in "[(" and w[-1:] in "])")]
    if not words:
        return None
    word = words[0]
    return word if len(word) <= max_chars else word[: max_chars - 1] + "\u2026"


def badge_specs(frame: FrameResult, emotions: bool = True, first_names: bool = False) -> list[BadgeSpec]:
    """One badge per face of ``frame``: its emotion (or "?" when uncertain), else "here".

    With ``first_names`` (a setting, off by default) a face whose tile name was read is badged
    "Ana · Happy".

    A face whose expression cannot be read (``UNREADABLE``: looking down or away, eyes closed,
    covered) says where it is looking instead ("looking down"); so does any face not looking at
    the screen in presence-only privacy (``emotions=False``), which never shows an emotion.
    """
    faces = frame.faces
    specs = []
    for i in range(len(faces)):
        face = tuple(float(v) for v in faces.xyxy[i])
        tile = tuple(float(v) for v in faces.tile_xyxy[i])
        text, rgb = "here", PRESENT_RGB
        state = attention_text(int(faces.attention[i])) if faces.attention is not None else None
        label = _label(faces.label, faces.smoothed_probs, faces.emotion_probs, i) if emotions else None
        if label == UNREADABLE or (not emotions and state not in (None, "screen")):
            text = ATTENTION_WORDS.get(state or "", "unreadable")
            rgb = AWAY_RGB if state in AWAY_STATES else UNCERTAIN_RGB
        elif label == UNCERTAIN:
            text, rgb = "?", UNCERTAIN_RGB
        elif label is not None:
            text, rgb = EMOTIONS[label], EMOTION_RGB[EMOTIONS[label]]
        first = first_name(faces.name[i]) if first_names and faces.name is not None else None
        if first is not None:
            text = f"{first} \u00b7 {text}"
        specs.append(BadgeSpec(face, tile, text, rgb))  # type: ignore[arg-type]
    return specs


def _label(label: np.ndarray | None, smoothed: np.ndarray | None, raw: np.ndarray | None, i: int) -> int | None:
    if label is not None:
        return int(label[i])
    probs = smoothed if smoothed is not None else raw
    if probs is None:
        return None
    return int(np.argmax(probs[i])) if np.isfinite(probs[i]).all() else UNREADABLE


def place_badge(face_xyxy: XYXY, tile_xyxy: XYXY, badge_wh: tuple[float, float],
                frame_wh: tuple[float, float], gap_px: float = 4.0) -> tuple[float, float]:
    """Top-left corner of a ``badge_wh`` badge beside ``face_xyxy``, never overlapping it.

    Tries below, right, left and above the face, first inside the tile, then inside the frame
    (a tile smaller than a badge); the first that fits wins. Along the side it sits on, the
    badge slides to stay in bounds, never across the face. When nothing fits, it goes below the
    face and may leave the frame (it is then drawn clipped, still off the face).
    """
    fx1, fy1, fx2, fy2 = face_xyxy
    bw, bh = badge_wh
    cx, cy = (fx1 + fx2) / 2, (fy1 + fy2) / 2
    candidates = (
        (cx - bw / 2, fy2 + gap_px),  # below
        (fx2 + gap_px, cy - bh / 2),  # right
        (fx1 - gap_px - bw, cy - bh / 2),  # left
        (cx - bw / 2, fy1 - gap_px - bh),  # above
    )
    fw, fh = frame_wh
    for bx1, by1, bx2, by2 in (tile_xyxy, (0.0, 0.0, fw, fh)):
        for k, (x, y) in enumerate(candidates):
            if k in (0, 3):  # below/above: y is fixed, x may slide
                x = min(max(x, bx1), bx2 - bw)
            else:
                y = min(max(y, by1), by2 - bh)
            if bx1 <= x and x + bw <= bx2 and by1 <= y and y + bh <= by2:
                return x, y
    return candidates[0]


def overlaps(a: XYXY, b: XYXY) -> bool:
    """Whether two boxes share any area (touching edges do not count)."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
