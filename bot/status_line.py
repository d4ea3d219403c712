"""The live one-line terminal status: fps, faces, participants, mood."""

from __future__ import annotations

from vocab.labels import EMOTIONS
from vocab.types import FrameResult


def status_line(frame: FrameResult, fps: float, storage_error: str | None = None) -> str:
    m = frame.mood
    faces = m.faces_seen if m is not None else len(frame.faces)  # the faces themselves stay in aggregate mode
    parts = [f"{fps:4.1f} fps", f"faces {faces:>2}"]
    if m is not None:
        parts.append(f"participants {m.participants_known:>2}")
        if m.distribution is not None and m.mood_index is not None:
            top = max(range(len(EMOTIONS)), key=lambda k: m.distribution[k])  # type: ignore[index]
            parts.append(f"mood {m.mood_index:+4.0f} ({EMOTIONS[top]} {m.distribution[top]:.0%})")
        elif m.faces_seen == 0:
            parts.append("no faces: is the gallery view visible?")
    if storage_error:
        parts.append(f"STORAGE: {storage_error}")
    return " | ".join(parts)
