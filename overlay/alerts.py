"""The overlay's one alert line, as pure logic: ``ClassMood`` + time in, text or None out.

Four things need the host, in this order of priority:

1. no face at all for ``no_faces_for_s``: the gallery view is probably hidden or covered;
2. a negative share (Angry+Disgust+Fear+Sad) above ``negative_share_above`` held for
   ``negative_for_s``;
3. many looking away: of the faces with an attention reading, the share looking down, away or
   with their eyes closed above ``looking_away_share_above`` held for ``looking_away_for_s``
   ("12 of 30 looking away for 2 min"); in presence-only privacy this is the class signal;
4. many cameras off: the share of tiles without a face above ``cameras_off_share_above``,
   held for ``CAMERAS_OFF_HOLD_S`` so a gallery re-layout does not make the line flicker.

Conditions are timed from the first frame that showed them and reset by any frame that does
not, so a single noisy frame cannot raise an alert and a single good frame clears it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vocab.labels import ATTENTION_STATES, is_attending
from vocab.settings import AlertConfig
from vocab.types import ClassMood, FrameResult

CAMERAS_OFF_HOLD_S = 5.0
AWAY_WORDS = {"down": "down", "away": "away", "eyes_closed": "eyes closed"}
AWAY_PHRASES = {"down": "looking down", "away": "looking away", "eyes_closed": "with eyes closed"}


@dataclass(frozen=True)
class Alert:
    """One active alert: ``kind`` is ``no_faces``, ``negative``, ``looking_away`` or ``cameras_off``."""

    kind: str
    text: str


@dataclass(frozen=True)
class AttentionCount:
    """Where the faces of one frame look: ``read`` faces have a reading, ``attending`` of them follow
    the lesson; ``by_state`` counts each state (``ATTENTION_STATES`` names) among the read."""

    read: int
    attending: int
    by_state: dict[str, int]

    @property
    def away(self) -> int:
        return self.read - self.attending


def attention_count(frame: FrameResult) -> AttentionCount | None:
    """The frame's faces counted by attention; None where the faces carry no attention reading
    (attention off, or aggregate privacy, where per-face rows never leave the pipeline)."""
    codes = frame.faces.attention
    if codes is None:
        return None
    read = [int(c) for c in np.asarray(codes) if 0 <= int(c) < len(ATTENTION_STATES)]
    by_state = {name: read.count(k) for k, name in enumerate(ATTENTION_STATES) if read.count(k)}
    return AttentionCount(read=len(read), attending=sum(is_attending(c) for c in read), by_state=by_state)


def duration_text(seconds: float) -> str:
    """``45 s`` under two minutes, else whole minutes (``2 min``)."""
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds // 60:.0f} min"


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
        self._away = _Held()
        self._cameras_off = _Held()
        self.current: Alert | None = None

    def reset(self) -> None:
        self._no_faces, self._negative, self._away, self._cameras_off = _Held(), _Held(), _Held(), _Held()
        self.current = None

    def update(self, mood: ClassMood | None, t_s: float, attention: AttentionCount | None = None) -> str | None:
        """The alert text for this frame, or None when all is well.

        ``attention`` (``attention_count(frame)``) lets the looking-away alert say "12 of 30";
        without it the alert uses ``mood.attention_share`` and says a share.
        """
        self.current = self._evaluate(mood, t_s, attention)
        return self.current.text if self.current is not None else None

    def _evaluate(self, mood: ClassMood | None, t_s: float, attention: AttentionCount | None) -> Alert | None:
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

        alert = self._looking_away(mood, t_s, attention)
        if alert is not None:
            return alert

        # Tiles minus faces: a tile holding two people hides one camera-off tile, which errs on
        # the side of not alerting.
        off = max(mood.tiles_seen - mood.faces_seen, 0) / mood.tiles_seen if mood.tiles_seen else 0.0
        held = self._cameras_off.update(mood.faces_seen > 0 and off > cfg.cameras_off_share_above, t_s)
        if held is not None and held >= CAMERAS_OFF_HOLD_S:
            return Alert("cameras_off", f"{off:.0%} of cameras are off "
                                        f"({mood.tiles_seen - mood.faces_seen} of {mood.tiles_seen} tiles)")
        return None

    def _looking_away(self, mood: ClassMood, t_s: float, attention: AttentionCount | None) -> Alert | None:
        cfg = self.config
        if attention is not None and attention.read > 0:
            away_share: float | None = attention.away / attention.read
        elif attention is None and mood.attention_share is not None:
            away_share = 1.0 - mood.attention_share
        else:
            away_share = None
        held = self._away.update(away_share is not None and away_share > cfg.looking_away_share_above, t_s)
        if held is None or away_share is None or held < cfg.looking_away_for_s:
            return None
        if attention is None:
            return Alert("looking_away", f"{away_share:.0%} of faces looking away for {duration_text(held)}")
        states = [s for s in AWAY_WORDS if attention.by_state.get(s)]
        phrase = AWAY_PHRASES[states[0]] if len(states) == 1 else "looking away"
        text = f"{attention.away} of {attention.read} {phrase} for {duration_text(held)}"
        if len(states) > 1:  # say what "away" is made of: a class taking notes reads differently
            text += ": " + ", ".join(f"{attention.by_state[s]} {AWAY_WORDS[s]}" for s in states)
        return Alert("looking_away", text)
