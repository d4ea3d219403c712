"""Per-participant smoothing: one frame's expression is noisy; a few seconds' is not.

An exponential moving average with time constant ``tau_s`` in the frame's own time, so the
smoothing means the same at 1 fps and at 10 fps, and a participant back after a gap starts
fresh instead of inheriting a stale mood.

A clear change is shown at once, not after the average has caught up: when the model has been
sure (top probability >= ``clear_above``) of one other expression for ``clear_after_s``, the
average restarts from the new reading. With a 3 s time constant the average alone needs
3 s x ln 2 = 2.1 s to put a new expression on top, i.e. the 3rd or 4th frame at 1 fps (2.2-2.5 s
after the change in ``bench.live_cpu``); a clear change now shows on the second frame that sees
it (1-2 s at 1 fps), while a single sure frame (a glance, a sneeze) and unsure readings, which
are most of the flicker, are still averaged.

The label shown holds until the average clearly leaves it (a Schmitt trigger): another
expression must lead the one shown by ``switch_margin``, and a face shown as "Uncertain" must
rise ``switch_margin / 2`` above ``uncertain_below`` (and a label shown falls to "Uncertain"
that far under it). Without it, a face between two expressions (a faint smile read 0.45 Neutral,
0.42 Happy) flips its badge with the camera's noise several times a minute; with it, it keeps
the label it had until the reading really changes. A clear change restarts the average, so it
crosses any margin at once.
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
    clear_above: float = 0.8
    clear_after_s: float = 0.75
    switch_margin: float = 0.1
    _state: dict[int, tuple[float, np.ndarray]] = field(default_factory=dict)
    _clear: dict[int, tuple[int, float]] = field(default_factory=dict)  # sure expression, since when
    _shown: dict[int, int] = field(default_factory=dict)  # label shown last, by track

    def fresh(self) -> EmotionSmoother:
        """The same settings with no participant's average, sure reading or shown label."""
        return dataclasses.replace(self, _state={}, _clear={}, _shown={})

    def __call__(self, frame: FrameResult, t_s: float) -> FrameResult:
        faces = frame.faces
        if faces.emotion_probs is None or faces.track_id is None:
            return frame
        smoothed = np.full_like(faces.emotion_probs, np.nan)
        label = np.full(len(smoothed), UNREADABLE, np.int64)
        for i, (tid, p) in enumerate(zip(faces.track_id.tolist(), faces.emotion_probs, strict=True)):
            if not np.isfinite(p).all():  # unreadable now: its expression is not updated, not shown
                self._clear.pop(tid, None)
                continue
            prev = self._state.get(tid)
            if (prev is None or self.tau_s <= 0 or t_s - prev[0] > 5 * self.tau_s
                    or self._clear_change(tid, p, prev[1], t_s)):
                s = p.copy()
                self._shown.pop(tid, None)  # a fresh start shows what it reads, with no memory
            else:
                alpha = 1.0 - math.exp(-max(t_s - prev[0], 0.0) / self.tau_s)
                s = prev[1] + alpha * (p - prev[1])
            self._state[tid] = (t_s, s)
            smoothed[i] = s
            label[i] = self._shown[tid] = self._label(s, self._shown.get(tid))
        for tid in set(self._clear) - set(faces.track_id.tolist()):
            del self._clear[tid]  # not seen this frame: a sure reading must be held without a break
        return dataclasses.replace(frame, faces=dataclasses.replace(
            faces, smoothed_probs=smoothed.astype(np.float32), label=label))

    def _label(self, s: np.ndarray, shown: int | None) -> int:
        """The label for average ``s`` given the one ``shown`` last (None: no memory)."""
        top = int(s.argmax())
        half = self.switch_margin / 2
        if shown is None:
            return top if float(s[top]) >= self.uncertain_below else UNCERTAIN
        if shown == UNCERTAIN:
            return top if float(s[top]) >= self.uncertain_below + half else UNCERTAIN
        if float(s[shown]) < self.uncertain_below - half:
            return top if float(s[top]) >= self.uncertain_below + half else UNCERTAIN
        return top if float(s[top]) >= float(s[shown]) + self.switch_margin else shown

    def _clear_change(self, tid: int, p: np.ndarray, shown: np.ndarray, t_s: float) -> bool:
        """Whether ``p`` is a sure reading of an expression other than the one shown, held for
        ``clear_after_s`` (updates the record of sure readings)."""
        top = int(p.argmax())
        if float(p[top]) < self.clear_above:
            self._clear.pop(tid, None)
            return False
        kept = self._clear.get(tid)
        since = kept[1] if kept is not None and kept[0] == top else t_s
        self._clear[tid] = (top, since)
        return top != int(shown.argmax()) and t_s - since >= self.clear_after_s
