"""FER+ majority labels, calibration error and temperature fitting on hand-made tables."""

from __future__ import annotations

import numpy as np
import pytest

from training.metrics import (
    apply_temperature,
    calibration,
    ece_spread,
    expected_calibration_error,
    ferplus_majority,
    fit_small_faces,
    fit_temperature,
    recall_by_class,
)

# FER+ columns: neutral, happiness, surprise, sadness, anger, disgust, fear, contempt, unknown, NF.
# FER2013 classes: 0 Angry, 1 Disgust, 2 Fear, 3 Happy, 4 Sad, 5 Surprise, 6 Neutral.
MAJORITY_TABLE = [
    ([10, 0, 0, 0, 0, 0, 0, 0, 0, 0], 6),   # neutral
    ([0, 7, 3, 0, 0, 0, 0, 0, 0, 0], 3),    # happiness
    ([0, 0, 6, 0, 0, 0, 4, 0, 0, 0], 5),    # surprise over fear
    ([1, 0, 0, 6, 0, 0, 0, 0, 3, 0], 4),    # sadness
    ([0, 0, 0, 0, 5, 4, 0, 1, 0, 0], 0),    # anger
    ([0, 0, 0, 0, 2, 6, 0, 2, 0, 0], 1),    # disgust
    ([0, 0, 2, 0, 0, 0, 8, 0, 0, 0], 2),    # fear
    ([3, 0, 0, 0, 0, 0, 0, 7, 0, 0], -1),   # contempt: no FER2013 class
    ([2, 0, 0, 0, 0, 0, 0, 0, 8, 0], -1),   # unknown
    ([0, 0, 0, 0, 0, 0, 0, 0, 0, 10], -1),  # not a face
    ([5, 5, 0, 0, 0, 0, 0, 0, 0, 0], -1),   # tie
    ([0] * 10, -1),                         # no votes
]


def test_ferplus_majority_table() -> None:
    votes = np.array([v for v, _ in MAJORITY_TABLE])
    assert ferplus_majority(votes).tolist() == [e for _, e in MAJORITY_TABLE]


def test_ferplus_majority_rejects_wrong_width() -> None:
    with pytest.raises(ValueError, match="10"):
        ferplus_majority(np.zeros((3, 8)))


def test_recall_by_class_ignores_unlabelled_rows() -> None:
    y = np.array([0, 0, 1, 1, 1, -1, -1])
    p = np.array([0, 1, 1, 1, 0, 0, 0])
    r = recall_by_class(y, p, n_classes=3)
    assert r[0] == pytest.approx(0.5) and r[1] == pytest.approx(2 / 3) and np.isnan(r[2])


@pytest.mark.parametrize(("conf", "right", "expected"), [
    ([0.9] * 10, [1] * 9 + [0], 0.0),            # 90 % sure, 90 % right: calibrated
    ([0.8] * 4, [1] * 4, 0.2),                   # under-confident by 0.2
    ([0.95] * 5 + [0.55] * 5, [1, 1, 1, 1, 0] + [1, 0, 0, 0, 0], 0.5 * 0.15 + 0.5 * 0.35),  # two bins
    ([1.0, 1.0], [1, 0], 0.5),                   # confidence exactly 1 lands in the last bin
])
def test_ece_on_hand_made_tables(conf: list[float], right: list[int], expected: float) -> None:
    k = 7
    probs = np.zeros((len(conf), k))
    y = np.zeros(len(conf), dtype=np.int64)
    for i, (c, r) in enumerate(zip(conf, right, strict=True)):
        probs[i] = (1 - c) / (k - 1)
        probs[i, 2] = c
        y[i] = 2 if r else 3
    assert expected_calibration_error(probs, y, n_bins=15) == pytest.approx(expected, abs=1e-9)


def _top_class_table(conf: np.ndarray, right: np.ndarray, k: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities whose top class (2) has confidence ``conf``, labels right where ``right``."""
    probs = np.tile((1 - conf)[:, None] / (k - 1), (1, k))
    probs[:, 2] = conf
    return probs, np.where(right, 2, 3)


def test_ece_spread_of_sure_faces_is_zero_by_chance() -> None:
    # A calibrated model that is sure (confidence 1) is always right: chance gives no ECE, so
    # a model this sure and right half the time is beyond chance.
    probs, y = _top_class_table(np.ones(10), np.arange(10) % 2 == 0)
    spread = ece_spread(probs, y)
    assert spread.if_calibrated == 0.0 and spread.if_calibrated_high == 0.0
    assert spread.ece == pytest.approx(0.5) and not spread.within_chance


def test_ece_spread_matches_the_binomial_by_hand() -> None:
    # Four faces at confidence 0.5, each right with chance 0.5: ECE = |k/4 - 0.5| for k right,
    # whose mean over Binomial(4, 0.5) is (2 + 4 + 0 + 4 + 2) / 16 / 4 = 0.1875.
    probs, y = _top_class_table(np.full(4, 0.5), np.array([True, True, False, False]))
    spread = ece_spread(probs, y, draws=4000)
    assert spread.ece == pytest.approx(0.0)
    assert spread.if_calibrated == pytest.approx(0.1875, abs=0.01)
    assert spread.if_calibrated_high == pytest.approx(0.5)  # k = 0 or 4 has chance 1/8 > 5 %


def test_ece_spread_tells_a_calibrated_model_from_an_overconfident_one() -> None:
    # 3,000 faces whose labels are drawn from the model's own probabilities: calibrated, yet its
    # binned ECE is not zero; the same faces read 15 % sharper (logits x 1.15) are beyond chance.
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(3000, 7)) * 1.5
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = (probs.cumsum(axis=1) < rng.random((3000, 1))).sum(axis=1)
    calibrated = ece_spread(probs, y)
    assert 0.0 < calibrated.ece and calibrated.within_chance
    sharp = np.exp(logits * 1.15) / np.exp(logits * 1.15).sum(axis=1, keepdims=True)
    overconfident = ece_spread(sharp, y)
    assert not overconfident.within_chance
    assert "beyond chance" in overconfident.line() and "within chance" in calibrated.line()


def test_calibration_splits_at_the_uncertain_threshold() -> None:
    probs = np.array([[0.9, 0.1], [0.3, 0.7], [0.35, 0.3], [0.2, 0.3]])
    probs = probs / probs.sum(axis=1, keepdims=True)
    y = np.array([0, 1, 1, 1])
    cal = calibration(probs, y, threshold=0.6)
    assert cal.n == 4 and cal.share_below == pytest.approx(0.25)
    # Above: rows 0, 1 and 3 (0.6 exactly counts as above), all right; below: row 2, wrong.
    assert cal.acc_above == pytest.approx(1.0) and cal.acc_below == pytest.approx(0.0)


@pytest.mark.parametrize("true_t", [0.6, 1.0, 1.7])
def test_fit_temperature_recovers_a_known_temperature(true_t: float) -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 2.5, (20000, 7))
    # Labels drawn from softmax(logits / T): the model's softmax(logits) is off by exactly T.
    truth = apply_temperature(np.exp(logits) / np.exp(logits).sum(1, keepdims=True), true_t).astype(np.float64)
    y = (rng.random((len(truth), 1)) > truth.cumsum(axis=1)).sum(axis=1).clip(0, 6)
    model = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    assert fit_temperature(model, y) == pytest.approx(true_t, rel=0.05)


@pytest.mark.parametrize("true_power", [0.0, 1.0])
def test_fit_small_faces_finds_where_faces_get_overconfident(true_power: float) -> None:
    """Labels drawn as if faces under 40 px wide had temperature (40 / width) ** power on top of
    1.2 for all: the fit finds the rule, and no rule when small faces are as sure as large ones."""
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 2.5, (30000, 7))
    width = rng.uniform(15, 160, len(logits))
    t = 1.2 * np.maximum(1.0, 40 / width) ** true_power
    model = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    e = np.exp(logits / t[:, None])  # softmax(logits / T), written out here
    truth = e / e.sum(1, keepdims=True)
    y = (rng.random((len(truth), 1)) > truth.cumsum(axis=1)).sum(axis=1).clip(0, 6)
    rule = fit_small_faces(model, y, width, 1.2)
    if true_power == 0:
        assert rule.power <= 0.1, rule
    else:
        assert rule.power == pytest.approx(1.0, abs=0.25) and 30 <= rule.below_px <= 50, rule
        assert rule.factors(np.array([20.0, 100.0])) == pytest.approx([2.0, 1.0], abs=0.35)


def test_apply_temperature_keeps_rows_and_argmax() -> None:
    rng = np.random.default_rng(1)
    p = rng.dirichlet(np.ones(7), size=50).astype(np.float32)
    for t in (0.5, 1.0, 2.0):
        q = apply_temperature(p, t)
        assert q.dtype == np.float32 and np.allclose(q.sum(axis=1), 1, atol=1e-5)
        assert (q.argmax(1) == p.argmax(1)).all()
    assert np.allclose(apply_temperature(p, 1.0), p, atol=1e-6)
    # Softening lowers the top probability, sharpening raises it.
    assert (apply_temperature(p, 2.0).max(1) < p.max(1)).all() and (apply_temperature(p, 0.5).max(1) > p.max(1)).all()
