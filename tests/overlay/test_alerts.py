"""The alert line's pure logic: fires after N seconds, clears at once, priorities, pauses."""

from __future__ import annotations

import pytest

from overlay.alerts import CAMERAS_OFF_HOLD_S, AlertTracker, AttentionCount
from vocab.settings import AlertConfig
from vocab.types import ClassMood

CFG = AlertConfig(negative_share_above=0.5, negative_for_s=20.0, cameras_off_share_above=0.5, no_faces_for_s=10.0)


def mood(faces: int = 9, tiles: int = 9, negative: float | None = 0.1) -> ClassMood:
    dist = None if negative is None else (negative, 0.0, 0.0, 1.0 - negative, 0.0, 0.0, 0.0)
    return ClassMood(faces_seen=faces, tiles_seen=tiles, participants_known=faces, distribution=dist,
                     mood_index=None if negative is None else 0.0, negative_share=negative)


def feed(tracker: AlertTracker, m: ClassMood, t0: float, t1: float, step: float = 1.0) -> str | None:
    text, t = None, t0
    while t <= t1 + 1e-9:
        text = tracker.update(m, t)
        t += step
    return text


@pytest.mark.parametrize(("m", "quiet_until_s", "fires_at_s", "kind", "words"), [
    (mood(faces=0, negative=None), 9.0, 10.0, "no_faces", "is the gallery view visible?"),
    (mood(negative=0.7), 19.0, 20.0, "negative", "70% negative"),
    (mood(faces=3, tiles=9), CAMERAS_OFF_HOLD_S - 1, CAMERAS_OFF_HOLD_S, "cameras_off", "67% of cameras are off"),
])
def test_fires_after_its_hold_time_and_clears_at_once(m: ClassMood, quiet_until_s: float, fires_at_s: float,
                                                      kind: str, words: str) -> None:
    tracker = AlertTracker(CFG)
    assert feed(tracker, m, 0.0, quiet_until_s) is None
    text = tracker.update(m, fires_at_s)
    assert text is not None and words in text
    assert tracker.current is not None and tracker.current.kind == kind
    assert tracker.update(mood(), fires_at_s + 1) is None  # one good frame clears it
    assert tracker.current is None
    assert tracker.update(m, fires_at_s + 2) is None  # and the hold starts over


@pytest.mark.parametrize(("m", "why"), [
    (mood(negative=0.5), "at the threshold is not above it"),
    (mood(negative=None), "presence mode: no emotions, no negative alert"),
    (mood(faces=5, tiles=9), "44% off is under 50%"),
    (mood(faces=12, tiles=9), "more faces than tiles (two people on one camera)"),
    (mood(faces=3, tiles=0), "no tiles found: the camera-off share is unknown"),
])
def test_quiet_when_nothing_needs_the_host(m: ClassMood, why: str) -> None:
    assert feed(AlertTracker(CFG), m, 0.0, 120.0) is None, why


def test_a_break_restarts_the_hold() -> None:
    tracker = AlertTracker(CFG)
    bad = mood(negative=0.8)
    assert feed(tracker, bad, 0.0, 15.0) is None
    tracker.update(mood(), 16.0)
    assert feed(tracker, bad, 17.0, 36.0) is None  # 19 s since the break
    assert tracker.update(bad, 37.0) is not None


def test_no_faces_wins_over_cameras_off_and_negative_over_cameras_off() -> None:
    tracker = AlertTracker(CFG)
    assert "gallery" in (feed(tracker, mood(faces=0, tiles=9, negative=None), 0.0, 30.0) or "")
    tracker = AlertTracker(CFG)
    text = feed(tracker, mood(faces=2, tiles=9, negative=0.9), 0.0, 30.0)
    assert tracker.current is not None and tracker.current.kind == "negative", text


def test_reset_forgets_time_spent_paused() -> None:
    tracker = AlertTracker(CFG)
    empty = mood(faces=0, negative=None)
    feed(tracker, empty, 0.0, 8.0)
    tracker.reset()
    assert tracker.update(empty, 300.0) is None  # the pause does not count
    assert tracker.update(empty, 310.0) is not None


def test_no_mood_means_no_alert_and_a_fresh_start() -> None:
    tracker = AlertTracker(CFG)
    feed(tracker, mood(faces=0, negative=None), 0.0, 9.0)
    assert tracker.update(None, 9.5) is None
    assert tracker.update(mood(faces=0, negative=None), 10.0) is None


def test_zero_hold_fires_on_the_first_frame() -> None:
    tracker = AlertTracker(AlertConfig(no_faces_for_s=0.0))
    assert tracker.update(mood(faces=0, negative=None), 5.0) is not None


def counted(attending: int, down: int = 0, away: int = 0, eyes_closed: int = 0) -> AttentionCount:
    by_state = {k: v for k, v in (("screen", attending), ("down", down), ("away", away),
                                   ("eyes_closed", eyes_closed)) if v}
    return AttentionCount(read=attending + down + away + eyes_closed, attending=attending, by_state=by_state)


AWAY_CFG = AlertConfig(looking_away_share_above=0.3, looking_away_for_s=120.0)


@pytest.mark.parametrize(("count", "text"), [
    (counted(18, away=12), "12 of 30 looking away for 2 min"),
    (counted(18, down=12), "12 of 30 looking down for 2 min"),
    (counted(18, down=7, away=4, eyes_closed=1), "12 of 30 looking away for 2 min: 7 down, 4 away, 1 eyes closed"),
])
def test_many_looking_away_for_a_while_says_how_many(count: AttentionCount, text: str) -> None:
    tracker = AlertTracker(AWAY_CFG)
    m = mood(faces=30, tiles=30)
    for t in range(0, 120, 5):
        assert tracker.update(m, float(t), count) is None
    assert tracker.update(m, 120.0, count) == text
    assert tracker.current is not None and tracker.current.kind == "looking_away"
    assert tracker.update(m, 125.0, counted(25, away=5)) is None  # under 30 %: cleared at once


def test_looking_away_without_per_face_rows_uses_the_share() -> None:
    tracker = AlertTracker(AWAY_CFG)
    m = ClassMood(faces_seen=30, tiles_seen=30, participants_known=30, distribution=None, mood_index=None,
                  negative_share=None, attention_share=0.6)  # aggregate privacy: class numbers only
    assert feed(tracker, m, 0.0, 150.0, step=10.0) == "40% of faces looking away for 2 min"


def test_looking_away_is_quiet_below_its_share_or_without_readings() -> None:
    m = mood(faces=30, tiles=30)
    assert feed(AlertTracker(AWAY_CFG), m, 0.0, 600.0) is None  # no attention read at all
    tracker = AlertTracker(AWAY_CFG)
    for t in range(0, 600, 10):
        assert tracker.update(m, float(t), counted(21, away=9)) is None  # exactly 30 % is not above it
        assert tracker.update(m, float(t) + 5, AttentionCount(read=0, attending=0, by_state={})) is None


@pytest.mark.parametrize(("key", "value"), [("looking_away_share_above", 1.5), ("looking_away_for_s", -1.0)])
def test_looking_away_settings_are_checked(key: str, value: float) -> None:
    from vocab.errors import ConfigError

    with pytest.raises(ConfigError, match=f"alerts.{key}"):
        AlertConfig(**{key: value})
