"""The overlay's one alert line, as pure logic: ``ClassMood`` + time in, text or None out.

Three things need the host, in this order of priority:

1. no face at all for ``no_faces_for_s``: the gallery view is probably hidden or covered;
2. a negative share (Angry+Disgust+Fear+Sad) above ``negative_share_above`` held for
   ``negative_for_s``;
3. many cameras off: the share of tiles without a face above ``cameras_off_share_above``,
   held for ``CAMERAS_OFF_HOLD_S`` so a gallery re-layout does not make the line flicker.

Conditions are timed from the first frame that showed them and reset by any frame that does
not, so a single noisy frame cannot raise an alert and a single good frame clears it.
"""

from __future__ import annotations

from dataclasses import dataclass

from vocab.settings import AlertConfig
from vocab.types import ClassMood

CAMERAS_OFF_HOLD_S = 5.0


@dataclass(frozen=True)
class Alert:
    """One active alert: ``kind`` is ``no_faces``, ``negative`` or ``cameras_off``."""

    kind: str
    text: str


class _Held:
    """How long a condition has held without a break (``None`` while it does not hold)."""

    def __init__(self) -> None:
        self.since_s: float | None = None

    def update(self, holds: bool, t_s: float) -> float | None:
        if not holds:
            self.since_s = None
            return None
        if self.since_s is None or t_s < self.since_s:  # a clock going back restarts it
            self.since_s = t_s
        return t_s - self.since_s


class AlertTracker:
    """Feed it every frame's ``ClassMood`` and time; ``update`` returns the alert to show.

    ``t_s`` is any monotonic clock in seconds (``FrameResult.t_mono``). Call ``reset()`` when
    the run pauses or resumes, so time spent paused never counts towards an alert.
    """

    def __init__(self, config: AlertConfig | None = None) -> None:
        self.config = config or AlertConfig()
        self._no_faces = _Held()
        self._negative = _Held()
        self._cameras_off = _Held()
        self.current: Alert | None = None

    def reset(self) -> None:
        self._no_faces, self._negative, self._cameras_off = _Held(), _Held(), _Held()
        self.current = None

    def update(self, mood: ClassMood | None, t_s: float) -> str | None:
        """The alert text for this frame, or None when all is well."""
        self.current = self._evaluate(mood, t_s)
        return self.current.text if self.current is not None else None

    def _evaluate(self, mood: ClassMood | None, t_s: float) -> Alert | None:
        cfg = self.config
        if mood is None:
            self.reset()
            return None
        held = self._no_faces.update(mood.faces_seen == 0, t_s)
        if held is not None and held >= cfg.no_faces_for_s:
            return Alert("no_faces", f"No faces for {held:.0f} s: is the gallery view visible?")

        share = mood.negative_share
        held = self._negative.update(share is not None and share > cfg.negative_share_above, t_s)
        if held is not None and share is not None and held >= cfg.negative_for_s:
            return Alert("negative", f"The class looks unhappy: {share:.0%} negative for {held:.0f} s")

        # Tiles minus faces: a tile holding two people hides one camera-off tile, which errs on
        # the side of not alerting.
        off = max(mood.tiles_seen - mood.faces_seen, 0) / mood.tiles_seen if mood.tiles_seen else 0.0
        held = self._cameras_off.update(mood.faces_seen > 0 and off > cfg.cameras_off_share_above, t_s)
        if held is not None and held >= CAMERAS_OFF_HOLD_S:
            return Alert("cameras_off", f"{off:.0%} of cameras are off "
                                        f"({mood.tiles_seen - mood.faces_seen} of {mood.tiles_seen} tiles)")
        return None
