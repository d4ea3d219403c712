"""The one currency that flows through the pipeline: a frozen ``FrameResult`` per frame.

Every stage takes a ``FrameResult`` and returns a new one with ``dataclasses.replace``; each
field is written by exactly one stage (named beside it), so a reader always knows who to ask.
The overlay, the database writer and the report read these same types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from vocab.labels import EMOTIONS, UNCERTAIN

__all__ = ["UNCERTAIN", "ClassMood", "Faces", "FrameResult"]


def _check(name: str, arr: np.ndarray | None, shape: tuple[int | None, ...], n: int) -> None:
    if arr is None:
        return
    expected = tuple(n if s is None else s for s in shape)
    if arr.shape != expected:
        raise ValueError(f"Faces.{name}: expected shape {expected}, got {arr.shape}")


@dataclass(frozen=True, eq=False)
class Faces:
    """The faces of one frame, one numpy array per field, row i = face i.

    - ``xyxy`` ``(n, 4)`` float32 face boxes in frame pixels (detector)
    - ``score`` ``(n,)`` float32 detection confidence (detector)
    - ``tile_xyxy`` ``(n, 4)`` int32 the gallery tile each face was found in (detector)
    - ``emotion_probs`` ``(n, 7)`` float32 raw model output, FER2013 order (classifier; None in
      presence-only privacy mode)
    - ``track_id`` ``(n,)`` int64 stable participant id within a session (tracker)
    - ``smoothed_probs`` ``(n, 7)`` float32 per-participant probabilities smoothed over a few
      seconds, and ``label`` ``(n,)`` int64 their argmax, ``UNCERTAIN`` or ``UNREADABLE`` (smoother)
    - ``attention`` ``(n,)`` int8 index into ``ATTENTION_STATES`` held over a few seconds, ``NOT_READ``
      (-1) where no reading yet; ``head_pose_deg`` ``(n, 3)`` float32 yaw, pitch, roll of the last
      reading (NaN where none); ``eyes_closed`` ``(n,)`` int8 1 closed, 0 open, -1 not judged
      (attention stage; None where attention is off)
    - ``name`` ``(n,)`` object: the display name on the face's tile, None where unreadable (names
      stage; None where names are not read)

    Rows of an unreadable face (``UNREADABLE``) have NaN ``emotion_probs``/``smoothed_probs``.
    """

    xyxy: np.ndarray
    score: np.ndarray
    tile_xyxy: np.ndarray
    emotion_probs: np.ndarray | None = None
    track_id: np.ndarray | None = None
    smoothed_probs: np.ndarray | None = None
    label: np.ndarray | None = None
    attention: np.ndarray | None = None
    head_pose_deg: np.ndarray | None = None
    eyes_closed: np.ndarray | None = None
    name: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.xyxy)
        _check("xyxy", self.xyxy, (None, 4), n)
        _check("score", self.score, (None,), n)
        _check("tile_xyxy", self.tile_xyxy, (None, 4), n)
        _check("emotion_probs", self.emotion_probs, (None, len(EMOTIONS)), n)
        _check("track_id", self.track_id, (None,), n)
        _check("smoothed_probs", self.smoothed_probs, (None, len(EMOTIONS)), n)
        _check("label", self.label, (None,), n)
        _check("attention", self.attention, (None,), n)
        _check("head_pose_deg", self.head_pose_deg, (None, 3), n)
        _check("eyes_closed", self.eyes_closed, (None,), n)
        _check("name", self.name, (None,), n)

    def __len__(self) -> int:
        return len(self.xyxy)

    @classmethod
    def empty(cls) -> Faces:
        return cls(xyxy=np.zeros((0, 4), np.float32), score=np.zeros(0, np.float32),
                   tile_xyxy=np.zeros((0, 4), np.int32))


@dataclass(frozen=True)
class ClassMood:
    """The class as a whole in one frame (aggregator).

    ``distribution`` is the mean smoothed probability per emotion over the readable classified
    faces (None when none); ``faces_readable`` how many faces that was. ``attention_share`` is
    the share of faces with an attention reading that follow the lesson (looking at the screen,
    masked or not); ``hidden_by_overlay`` participants under the host's own overlay (present,
    not seen); ``cameras_off`` tiles without a face. ``mood_index`` is ``100 * sum(distribution * VALENCE)``: -100 when
    every face is certainly angry, +100 when every face is certainly happy, 0 for a neutral
    class. ``negative_share`` is the summed probability of Angry, Disgust, Fear and Sad.
    """

    faces_seen: int
    tiles_seen: int
    participants_known: int
    distribution: tuple[float, ...] | None
    mood_index: float | None
    negative_share: float | None
    faces_readable: int = 0
    attention_share: float | None = None
    hidden_by_overlay: int = 0
    cameras_off: int = 0


@dataclass(frozen=True, eq=False)
class FrameResult:
    """One captured frame and everything the pipeline learned from it.

    ``region_xywh`` is the captured screen area (screen pixels; ``(0, 0, w, h)`` for files),
    so overlay drawings can be placed over the faces. ``image`` ``(h, w, 3)`` BGR uint8 is
    dropped (None) before results leave the pipeline thread: no frame is kept unless asked.
    """

    frame_id: int
    t_mono: float
    t_utc: datetime
    region_xywh: tuple[int, int, int, int]
    image: np.ndarray | None = None
    tiles_xyxy: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.int32))  # detector
    faces: Faces = field(default_factory=Faces.empty)  # detector, then classifier/tracker/smoother
    # Parts of the frame covered by the host's own windows (the overlay), frame pixels (pipeline runner).
    occluded_xyxy: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    # The display name read on each tile (row i = tile i), None where unreadable; () when names are off (names).
    tile_names: tuple[str | None, ...] = ()
    # Named participants whose tile shows no face: present with the camera off, and their tile (tracker).
    camera_off_track_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    camera_off_xyxy: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    # Participants not seen because their last place is under ``occluded_xyxy``, and that place (tracker).
    hidden_track_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    hidden_xyxy: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    mood: ClassMood | None = None  # aggregator
    timings_ms: dict[str, float] = field(default_factory=dict)  # pipeline runner
