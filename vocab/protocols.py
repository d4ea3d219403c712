"""The three swappable back ends, as small protocols.

A video file, a folder of images or a test fixture can stand in for the screen, and any face
detector or emotion classifier that honours these shapes can replace the shipped ones.
Library types (mss, MediaPipe, onnxruntime) never cross these boundaries: only numpy arrays
and plain tuples do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from vocab.types import FrameResult


@dataclass(frozen=True, eq=False)
class CapturedFrame:
    """One frame from a source.

    ``image`` ``(h, w, 3)`` BGR uint8; ``region_xywh`` the screen area it shows (``(0, 0, w, h)``
    for files); ``media_time_s`` the position in a file (None for live sources, whose time is
    the clock's).
    """

    image: np.ndarray
    region_xywh: tuple[int, int, int, int]
    media_time_s: float | None = None


class FrameSource(Protocol):
    """Where frames come from: the screen, a window, a video file, images."""

    is_live: bool  # live sources are paced by the clock; files run as fast as they can

    def grab(self) -> CapturedFrame:
        """The next frame.

        Raises ``SourceEnded`` when a finite source is exhausted and ``CaptureError`` when the
        source is unavailable (window closed, monitor gone, unreadable file), which may be
        temporary: the caller may try again.
        """
        ...

    def describe(self) -> str:
        """A short human description, stored with the session (e.g. ``screen:1 1920x1080``)."""
        ...

    def close(self) -> None: ...


class FaceDetector(Protocol):
    """Finds faces in one image (a gallery tile or a whole frame)."""

    def detect(self, image_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(xyxy (n, 4) float32 in image pixels, score (n,) float32)``."""
        ...

    def close(self) -> None: ...


class EmotionClassifier(Protocol):
    """Turns preprocessed face tensors into emotion probabilities."""

    labels: tuple[str, ...]

    def predict(self, faces: np.ndarray, face_px: np.ndarray | None = None) -> np.ndarray:
        """``(n, 1, 48, 48)`` float32 in 0..1 -> ``(n, 7)`` float32 probabilities; ``face_px``
        ``(n,)``: how many screen pixels wide each face was (small faces may be read less surely)."""
        ...

    def close(self) -> None: ...


class StorageHealth(Protocol):
    """What the host is shown about storage: the last write error, None while all is well."""

    @property
    def last_error(self) -> str | None: ...


class FrameSink(Protocol):
    """Where processed frames go to be kept (``db.recorder.Recorder``); never blocks for long."""

    @property
    def health(self) -> StorageHealth: ...

    def submit(self, frame: FrameResult) -> None: ...

    def mark_paused(self, paused: bool, t_mono: float) -> None:
        """The host paused (True) or resumed (False) the run at ``t_mono`` (the frames' clock)."""
