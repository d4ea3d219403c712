"""A class-prior shift trades FER2013 labels for FER+ majority labels only as far as it is allowed."""

from __future__ import annotations

import numpy as np
import pytest

from training.prior_shift import fit_shift, scores

SAD, NEUTRAL = 4, 6


def _faces(groups: list[tuple[int, int, int, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log-probabilities, FER2013 labels and FER+ majorities for groups of
    ``(count, FER2013 label, FER+ majority, the model's Sad probability)`` (the rest on Neutral)."""
    log_probs, labels, majority = [], [], []
    for count, label, crowd, p_sad in groups:
        p = np.full(7, 1e-6)
        p[SAD], p[NEUTRAL] = p_sad, 1 - p_sad
        log_probs += [np.log(p)] * count
        labels += [label] * count
        majority += [crowd] * count
    return np.array(log_probs), np.array(labels), np.array(majority)


# 40 faces FER2013 calls Sad and the crowd Neutral, read Sad at 0.55; 30 Sad by both, read Sad
# at 0.7; 30 Neutral by both, read Neutral at 0.8. As read: FER2013 100 %, FER+ 60 %.
DISPUTED = _faces([(40, SAD, NEUTRAL, 0.55), (30, SAD, SAD, 0.7), (30, NEUTRAL, NEUTRAL, 0.2)])


def test_no_shift_scores_by_hand() -> None:
    s = scores(*DISPUTED, np.zeros(7))
    assert (s.fer2013, s.ferplus) == (pytest.approx(1.0), pytest.approx(0.6))
    assert s.ferplus_recall[SAD] == pytest.approx(1.0) and s.ferplus_recall[NEUTRAL] == pytest.approx(30 / 70)


def test_a_floor_at_todays_fer2013_keeps_the_rule() -> None:
    shift = fit_shift(*DISPUTED, fer2013_floor=1.0, min_recall=0.0)
    s = scores(*DISPUTED, shift)
    assert (s.fer2013, s.ferplus) == (pytest.approx(1.0), pytest.approx(0.6))


def test_a_lower_floor_moves_the_disputed_faces_to_the_crowds_answer() -> None:
    # Raising Neutral by more than log(0.55 / 0.45) = 0.20 and less than log(0.7 / 0.3) = 0.85
    # moves the 40 disputed faces only: FER+ 100 %, FER2013 60 %.
    shift = fit_shift(*DISPUTED, fer2013_floor=0.5, min_recall=0.0)
    s = scores(*DISPUTED, shift)
    assert (s.fer2013, s.ferplus) == (pytest.approx(0.6), pytest.approx(1.0))
    assert 0.20 < shift[NEUTRAL] - shift[SAD] < 0.85


def test_a_shift_that_would_sink_a_class_under_the_recall_floor_is_not_taken() -> None:
    # 10 more Sad faces read Sad at only 0.52: any shift that wins the disputed 40 also moves
    # them, leaving the crowd's Sad faces at 30 / 40 = 75 % recall.
    faces = _faces([(40, SAD, NEUTRAL, 0.55), (30, SAD, SAD, 0.7), (10, SAD, SAD, 0.52),
                    (30, NEUTRAL, NEUTRAL, 0.2)])
    free = scores(*faces, fit_shift(*faces, fer2013_floor=0.0, min_recall=0.0))
    assert free.ferplus_recall[SAD] == pytest.approx(0.75) and free.ferplus == pytest.approx(100 / 110)
    # At an 80 % floor no shift qualifies (as read, the crowd's Neutral faces are at 30 / 70), so
    # the rule stays as it was and the crowd's Sad faces keep their 100 %.
    held = fit_shift(*faces, fer2013_floor=0.0, min_recall=0.8)
    assert not held.any()
    assert scores(*faces, held).ferplus_recall[SAD] == pytest.approx(1.0)
