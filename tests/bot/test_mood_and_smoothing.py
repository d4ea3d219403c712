from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest

from bot.mood import class_mood
from bot.smoothing import EmotionSmoother
from vocab.labels import EMOTIONS
from vocab.types import UNCERTAIN, Faces, FrameResult

HAPPY, ANGRY, NEUTRAL = EMOTIONS.index("Happy"), EMOTIONS.index("Angry"), EMOTIONS.index("Neutral")


def _frame(probs: list[list[float]], ids: list[int], t: float = 0.0) -> FrameResult:
    n = len(probs)
    xyxy = np.tile(np.array([[0, 0, 10, 10]], np.float32), (n, 1))
    faces = Faces(xyxy=xyxy, score=np.ones(n, np.float32), tile_xyxy=xyxy.astype(np.int32),
                  emotion_probs=np.array(probs, np.float32).reshape(n, 7), track_id=np.array(ids, np.int64))
    return FrameResult(1, t, datetime.now(UTC), (0, 0, 10, 10), faces=faces)


def _onehot(k: int) -> list[float]:
    return [1.0 if i == k else 0.0 for i in range(7)]


def test_smoothing_follows_with_time_constant() -> None:
    sm = EmotionSmoother(tau_s=3.0)
    sm(_frame([_onehot(NEUTRAL)], [1], 0.0), 0.0)
    out = sm(_frame([_onehot(HAPPY)], [1], 3.0), 3.0)
    # After one time constant, 1 - 1/e of the way to the new expression.
    assert out.faces.smoothed_probs[0, HAPPY] == pytest.approx(1 - np.exp(-1), abs=1e-5)


def _sure(k: int, p: float = 0.9) -> list[float]:
    rest = (1.0 - p) / 6
    return [p if i == k else rest for i in range(7)]


def _labels(sm: EmotionSmoother, readings: list[tuple[float, list[float]]]) -> list[int]:
    return [int(sm(_frame([probs], [1], t), t).faces.label[0]) for t, probs in readings]


def test_a_clear_change_of_expression_shows_on_the_second_frame_that_sees_it() -> None:
    """At 1 fps a sure new expression is on top one second after it is first read (the average
    alone needs 2.1 s, the 4th frame); the readings are the model's, the times the frames'."""
    steady = [(float(t), _sure(NEUTRAL)) for t in range(6)]
    labels = _labels(EmotionSmoother(tau_s=3.0), [*steady, (6.0, _sure(HAPPY)), (7.0, _sure(HAPPY))])
    assert labels[5:] == [NEUTRAL, NEUTRAL, HAPPY]


def test_one_sure_frame_or_unsure_readings_do_not_flip_the_shown_expression() -> None:
    steady = [(float(t), _sure(NEUTRAL)) for t in range(6)]
    glance = _labels(EmotionSmoother(tau_s=3.0), [*steady, (6.0, _sure(HAPPY)), (7.0, _sure(NEUTRAL))])
    assert glance[6:] == [NEUTRAL, NEUTRAL]
    unsure = _labels(EmotionSmoother(tau_s=3.0), [*steady, *((float(t), _sure(HAPPY, 0.6)) for t in range(6, 8))])
    assert unsure[6:] == [NEUTRAL, NEUTRAL]  # averaged as before: Happy on top only from ~2.1 s
    # Pushed at 10 fps: 0.5 s of a sure reading is still a glance, 0.8 s is a change.
    fast = [(t / 10, _sure(NEUTRAL)) for t in range(60)]
    short = _labels(EmotionSmoother(tau_s=3.0), [*fast, *((6 + k / 10, _sure(HAPPY)) for k in range(6))])
    assert short[-1] == NEUTRAL
    held = _labels(EmotionSmoother(tau_s=3.0), [*fast, *((6 + k / 10, _sure(HAPPY)) for k in range(9))])
    assert held[-1] == HAPPY


def test_smoothing_is_per_participant_and_uncertain_under_threshold() -> None:
    sm = EmotionSmoother(tau_s=3.0, uncertain_below=0.5)
    flat = [1 / 7] * 7
    out = sm(_frame([_onehot(HAPPY), flat], [1, 2], 0.0), 0.0)
    assert out.faces.label.tolist() == [HAPPY, UNCERTAIN]


@pytest.mark.parametrize(("probs", "mood"), [
    ([_onehot(HAPPY)] * 3, 100.0),
    ([_onehot(NEUTRAL)] * 3, 0.0),
    ([_onehot(ANGRY)] * 2, -80.0),
    ([_onehot(HAPPY), _onehot(NEUTRAL)], 50.0),
])
def test_mood_index(probs: list[list[float]], mood: float) -> None:
    fr = _frame(probs, list(range(1, len(probs) + 1)))
    fr = replace(fr, faces=replace(fr.faces, smoothed_probs=fr.faces.emotion_probs))
    m = class_mood(fr, participants_known=len(probs))
    assert m.mood_index == pytest.approx(mood)
    assert sum(m.distribution) == pytest.approx(1.0)
    assert m.faces_seen == len(probs)


def test_mood_of_empty_frame_has_no_emotion_numbers() -> None:
    fr = FrameResult(1, 0.0, datetime.now(UTC), (0, 0, 10, 10))
    m = class_mood(fr, participants_known=0)
    assert m.faces_seen == 0 and m.mood_index is None and m.distribution is None


def test_faces_rejects_wrong_shapes() -> None:
    with pytest.raises(ValueError, match="expected shape"):
        Faces(xyxy=np.zeros((2, 4), np.float32), score=np.zeros(3, np.float32), tile_xyxy=np.zeros((2, 4), np.int32))
