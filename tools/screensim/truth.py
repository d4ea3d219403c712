"""Ground truth of a simulated screen: what is where, and under which conditions.

Every box is ``xyxy`` in screen pixels (floats for faces, ints for UI boxes; right/bottom
exclusive). The JSON written by the CLI is ``Screen.truth_dict()``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

XYXY = tuple[int, int, int, int]
FXYXY = tuple[float, float, float, float]

# Conditions a face can carry (several at once). "frontal" means none of the pose conditions.
CONDITIONS = ("frontal", "yaw", "down", "masked", "small", "tiny", "offcentre", "lowlight",
              "backlight", "motionblur", "pillarbox", "occluded", "speaker", "strip", "self")


@dataclass(frozen=True)
class FaceTruth:
    """One live participant's face.

    ``xyxy`` is approximate: for the named portraits and utkface crops it comes from where the
    photo was placed (boxes measured once on the photo), for head-pose photos from a fixed
    share of the photo (their faces are centred). ``yaw_deg``/``pitch_deg`` are the photo's
    fitted pose (AFLW2000-3D) where known, None for the frontal photo sets.
    """

    xyxy: FXYXY
    tile_index: int
    person_id: str
    photo: str
    conditions: tuple[str, ...]
    yaw_deg: float | None = None
    pitch_deg: float | None = None

    @property
    def height_px(self) -> float:
        return self.xyxy[3] - self.xyxy[1]


@dataclass(frozen=True)
class TileTruth:
    """One participant tile. ``camera`` is ``on``, ``off-name``, ``off-initials`` or
    ``off-photo`` (a still profile photo: a face-like picture that is not a live face).
    ``name_text`` is the label as drawn (possibly cut with "…"), ``name_xyxy`` its box
    (None where no label is drawn)."""

    xyxy: XYXY
    role: str  # gallery | speaker | strip | self
    name: str
    name_text: str
    name_xyxy: XYXY | None
    camera: str
    face_index: int | None = None
    speaking: bool = False


@dataclass(frozen=True)
class Decoy:
    """A face-like picture that is not a participant's live face: a panel or chat avatar, a
    camera-off profile photo. Detections here are false positives."""

    xyxy: XYXY
    kind: str  # panel-avatar | chat-avatar | profile-photo


@dataclass(frozen=True)
class TextItem:
    """A piece of UI text drawn on the screen (panel names, chat, title), for OCR tests."""

    xyxy: XYXY
    text: str
    kind: str  # tile-name | panel-name | chat | title | toolbar | badge | watermark | slide


@dataclass(frozen=True, eq=False)
class Screen:
    """A simulated desktop screen ``image`` ``(h, w, 3)`` BGR uint8 and its ground truth."""

    image: np.ndarray
    seed: int
    frame_index: int
    app: str
    theme: str
    layout: str
    windowed: bool
    panels: tuple[str, ...]
    window_xyxy: XYXY
    stage_xyxy: XYXY  # where the app draws tiles (or the share plus its strip)
    tiles: tuple[TileTruth, ...]
    faces: tuple[FaceTruth, ...]
    decoys: tuple[Decoy, ...]
    texts: tuple[TextItem, ...]
    regions: dict[str, XYXY] = field(default_factory=dict)  # panels, toolbar, taskbar, share

    def faces_xyxy(self) -> np.ndarray:
        """``(n, 4)`` float32 face boxes."""
        return np.array([f.xyxy for f in self.faces], np.float32).reshape(-1, 4)

    def tiles_xyxy(self) -> np.ndarray:
        """``(n, 4)`` int32 tile boxes."""
        return np.array([t.xyxy for t in self.tiles], np.int32).reshape(-1, 4)

    def truth_dict(self) -> dict[str, Any]:
        """Everything but the image, JSON-ready."""
        return {
            "seed": self.seed, "frame_index": self.frame_index, "app": self.app,
            "theme": self.theme, "layout": self.layout, "windowed": self.windowed,
            "panels": list(self.panels), "size_wh": [self.image.shape[1], self.image.shape[0]],
            "window_xyxy": list(self.window_xyxy), "stage_xyxy": list(self.stage_xyxy),
            "regions": {k: list(v) for k, v in self.regions.items()},
            "tiles": [asdict(t) for t in self.tiles],
            "faces": [asdict(f) for f in self.faces],
            "decoys": [asdict(d) for d in self.decoys],
            "texts": [asdict(t) for t in self.texts],
        }
