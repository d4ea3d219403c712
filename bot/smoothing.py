"""Per-participant smoothing: one frame's expression is noisy; a few seconds' is not.

An exponential moving average with time constant ``tau_s`` in the frame's own time, so the
smoothing means the same at 1 fps and at 10 fps, and a participant back after a gap starts
fresh instead of inheriting a stale mood.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from vocab.labels import UNCERTAIN, UNREADABLE
from vocab.types import FrameResult


@dataclass
class EmotionSmoother:
    """Writes ``faces.smoothed_probs`` and ``faces.label``.

    A face whose expression cannot be read this frame (NaN ``emotion_probs``) is labelled
    ``UNREADABLE`` with NaN smoothed probabilities, and its running average is left as it was.
    """

    tau_s: float = 3.0
    uncertain_below: float = 0.4
    _state: dict[int, tuple[float, np.ndarray]] = field(default_factory=dict)

    def __call__(self, frame: FrameResult, t_s: float) -> FrameResult:
        faces = frame.faces
        if faces.emotion_probs is None or faces.track_id is None:
            return frame
        smoothed = np.full_like(faces.emotion_probs, np.nan)
        for i, (tid, p) in enumerate(zip(faces.track_id.tolist(), faces.emotion_probs, strict=True)):
            if not np.isfinite(p).all():  # unreadable now: its expression is not updated, not shown
                continue
            prev = self._state.get(tid)
            if prev is None or self.tau_s <= 0 or t_s - prev[0] > 5 * self.tau_s:
                s = p.copy()
            else:
                alpha = 1.0 - math.exp(-max(t_s - prev[0], 0.0) / self.tau_s)
                s = prev[1] + alpha * (p - prev[1])
            self._state[tid] = (t_s, s)
            smoothed[i] = s
        readable = np.isfinite(smoothed).all(axis=1)
        safe = np.where(readable[:, None], smoothed, 0.0)
        label = np.where(readable, np.where(safe.max(axis=1) >= self.uncertain_below, safe.argmax(axis=1), UNCERTAIN),
                         UNREADABLE)
        return dataclasses.replace(frame, faces=dataclasses.replace(
            faces, smoothed_probs=smoothed.astype(np.float32), label=label.astype(np.int64)))
