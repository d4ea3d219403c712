"""Scores beyond FER2013 top-1: FER+ majority labels, calibration error and temperature fitting.

Pure numpy (no torch), so the measurement scripts run in the app's environment too.

- ``ferplus_majority``: the FER+ crowd's answer per face in FER2013 class order, or ``-1`` where
  the crowd gives none the model could be scored on (no clear majority, majority "unknown",
  "not a face" or contempt, which the 7-class model cannot output).
- ``expected_calibration_error``: how far the top probability is from the share of faces that
  are right, averaged over equal-width confidence bins (15, the usual choice).
- ``ece_spread``: an ECE beside the one a perfectly calibrated model would show on as many faces
  of the same confidences (binned ECE is never zero on a finite sample).
- ``fit_temperature``: the one scalar ``T`` that minimises the negative log-likelihood of
  ``softmax(log p / T)`` on a held-out split (Guo et al., 2017). It never changes the argmax.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.emotion_classifier import SmallFaceTemperature, apply_temperature, apply_temperatures

__all__ = ["CONTEMPT_COLUMN", "FERPLUS_COLUMN_OF_CLASS", "FERPLUS_COLUMNS", "NOT_FACE_COLUMN", "UNKNOWN_COLUMN",
           "Calibration", "EceSpread", "apply_temperature", "calibration", "ece_spread", "expected_calibration_error",
           "ferplus_majority",
           "fit_small_faces", "fit_temperature", "nll", "recall_by_class"]

# FER+ vote columns, in the file's order.
FERPLUS_COLUMNS = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt",
                   "unknown", "not_a_face")
# Index of each FER2013 class (Angry, Disgust, Fear, Happy, Sad, Surprise, Neutral) among them.
FERPLUS_COLUMN_OF_CLASS = (4, 5, 6, 1, 3, 2, 0)
CONTEMPT_COLUMN, UNKNOWN_COLUMN, NOT_FACE_COLUMN = 7, 8, 9  # the votes FER2013 has no class for
# FER2013 class of each of the first 7 FER+ columns (inverse of FERPLUS_COLUMN_OF_CLASS).
_CLASS_OF_COLUMN = np.argsort(FERPLUS_COLUMN_OF_CLASS)


def ferplus_majority(votes: np.ndarray) -> np.ndarray:
    """FER+ majority label in FER2013 class order for each row of ``votes`` ``(n, 10)``.

    The majority is the column with the most votes among all ten; ``-1`` when it is tied with
    another column, or is contempt, unknown or not-a-face, or the row has no votes. Ties are
    left out rather than broken by column order, which would favour neutral.
    """
    votes = np.asarray(votes, dtype=np.int64)
    if votes.ndim != 2 or votes.shape[1] != len(FERPLUS_COLUMNS):
        raise ValueError(f"votes must be (n, {len(FERPLUS_COLUMNS)}), got {votes.shape}")
    top = votes.argmax(axis=1)
    best = votes.max(axis=1)
    tied = (votes == best[:, None]).sum(axis=1) > 1
    out = np.full(len(votes), -1, dtype=np.int64)
    ok = (best > 0) & ~tied & (top < CONTEMPT_COLUMN)
    out[ok] = _CLASS_OF_COLUMN[top[ok]]
    return out


def recall_by_class(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int = 7) -> np.ndarray:
    """``(n_classes,)`` recall; NaN for a class with no faces. Rows with ``y_true < 0`` are ignored."""
    keep = y_true >= 0
    t, p = y_true[keep], y_pred[keep]
    out = np.full(n_classes, np.nan)
    for c in range(n_classes):
        m = t == c
        if m.any():
            out[c] = float((p[m] == c).mean())
    return out


def expected_calibration_error(probs: np.ndarray, y_true: np.ndarray, n_bins: int = 15) -> float:
    """ECE of the top-class confidence: sum over bins of ``|accuracy - mean confidence| * share``.

    ``probs`` ``(n, k)`` rows summing to 1, ``y_true`` ``(n,)``. Bins are equal-width on 0..1,
    right-closed (a confidence of exactly 1 falls in the last bin).
    """
    probs = np.asarray(probs, dtype=np.float64)
    if len(probs) == 0:
        raise ValueError("expected_calibration_error needs at least one row")
    conf = probs.max(axis=1)
    right = (probs.argmax(axis=1) == y_true).astype(np.float64)
    bins = np.clip(np.ceil(conf * n_bins).astype(np.int64) - 1, 0, n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        m = bins == b
        if m.any():
            ece += m.mean() * abs(right[m].mean() - conf[m].mean())
    return float(ece)


@dataclass(frozen=True)
class EceSpread:
    """An ECE beside what chance alone gives at the same sample size and confidences.

    Binned ECE is biased upwards on a finite sample: a perfectly calibrated model read on a few
    thousand faces still shows one or two points. ``if_calibrated``/``if_calibrated_high`` are the
    mean and 95th percentile ECE of such a model on faces of these confidences (each face right
    with probability equal to its confidence, simulated). A measured ``ece`` at or under
    ``if_calibrated_high`` cannot be told from perfect calibration on this sample; above it, the
    model is miscalibrated there. (A bootstrap interval of the faces is not given: resampling
    adds the same upward bias again, so it need not even contain the measured value.)
    """

    ece: float
    if_calibrated: float
    if_calibrated_high: float

    @property
    def within_chance(self) -> bool:
        return self.ece <= self.if_calibrated_high

    def line(self) -> str:
        verdict = "within" if self.within_chance else "beyond"
        return (f"ECE {self.ece:.4f}; a perfectly calibrated model would read {self.if_calibrated:.4f} on these "
                f"faces (95th percentile {self.if_calibrated_high:.4f}): {verdict} chance")


def _ece_rows(conf: np.ndarray, right: np.ndarray, n_bins: int) -> np.ndarray:
    """ECE of each row of ``conf``/``right`` ``(draws, n)`` at once (same bins as
    ``expected_calibration_error``): per bin ``share * |acc - conf|`` is ``|sum right - sum conf| / n``."""
    draws, n = conf.shape
    bins = np.clip(np.ceil(conf * n_bins).astype(np.int64) - 1, 0, n_bins - 1)
    key = (np.arange(draws)[:, None] * n_bins + bins).ravel()
    gap = np.bincount(key, right.ravel(), draws * n_bins) - np.bincount(key, conf.ravel(), draws * n_bins)
    return np.abs(gap).reshape(draws, n_bins).sum(axis=1) / n


def ece_spread(probs: np.ndarray, y_true: np.ndarray, n_bins: int = 15, draws: int = 1000,
               seed: int = 0) -> EceSpread:
    """``EceSpread`` of ``probs`` ``(n, k)`` against ``y_true``, from ``draws`` simulated calibrated
    outcomes of the same top-class confidences (seeded, so the line is the same every run)."""
    probs = np.asarray(probs, dtype=np.float64)
    if len(probs) == 0:
        raise ValueError("ece_spread needs at least one row")
    conf = np.broadcast_to(probs.max(axis=1), (draws, len(probs)))
    right = (np.random.default_rng(seed).random(conf.shape) < conf).astype(np.float64)
    ideal = _ece_rows(conf, right, n_bins)
    return EceSpread(ece=expected_calibration_error(probs, y_true, n_bins), if_calibrated=float(ideal.mean()),
                     if_calibrated_high=float(np.percentile(ideal, 95)))


def nll(probs: np.ndarray, y_true: np.ndarray) -> float:
    """Mean negative log-likelihood of the true class."""
    p = np.asarray(probs, dtype=np.float64)[np.arange(len(y_true)), y_true]
    return float(-np.log(np.maximum(p, 1e-12)).mean())


def fit_temperature(probs: np.ndarray, y_true: np.ndarray, lo: float = 0.25, hi: float = 4.0) -> float:
    """The temperature in ``[lo, hi]`` that minimises NLL of ``apply_temperature(probs, T)``.

    NLL is convex in ``1/T`` for fixed logits, so a golden-section search on ``log T`` finds the
    optimum to ~1e-4 in 40 steps.
    """
    log_p = np.log(np.maximum(np.asarray(probs, dtype=np.float64), 1e-30))
    idx = np.arange(len(y_true))

    def loss(log_t: float) -> float:
        z = log_p / np.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        return float(-(z[idx, y_true] - np.log(np.exp(z).sum(axis=1))).mean())

    a, b = np.log(lo), np.log(hi)
    g = (np.sqrt(5) - 1) / 2
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = loss(c), loss(d)
    for _ in range(60):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = loss(c)
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = loss(d)
    return float(np.exp((a + b) / 2))


def fit_small_faces(probs: np.ndarray, y_true: np.ndarray, face_px: np.ndarray, temperature: float,
                    below_px: tuple[float, ...] = tuple(range(30, 101, 5)),
                    powers: tuple[float, ...] = tuple(np.round(np.arange(0.0, 3.001, 0.05), 2)),
                    ) -> SmallFaceTemperature:
    """The small-face rule (``models.emotion_classifier.SmallFaceTemperature``) that minimises NLL
    of faces ``face_px`` wide, with ``temperature`` fixed for the rest: a grid over where the
    rule starts and how fast it softens (power 0 is no rule, so it is chosen when small faces
    are as well calibrated as large ones)."""
    best = (nll(apply_temperature(probs, temperature), y_true), SmallFaceTemperature(float(below_px[0]), 0.0))
    for b in below_px:
        if not (np.asarray(face_px) < b).any():  # no face under b px: the rule would change nothing
            continue
        for k in powers:
            rule = SmallFaceTemperature(float(b), float(k))
            loss = nll(apply_temperatures(probs, temperature * rule.factors(face_px)), y_true)
            if loss < best[0] - 1e-12:
                best = (loss, rule)
    return best[1]


@dataclass(frozen=True)
class Calibration:
    """Calibration of one set of predictions, and what the "Uncertain" gate means for it.

    ``acc_above``/``acc_below``: accuracy of faces whose top probability is at least / under
    ``threshold``; ``share_below``: the share of faces under it.
    """

    n: int
    accuracy: float
    mean_confidence: float
    ece: float
    nll: float
    threshold: float
    share_below: float
    acc_above: float
    acc_below: float

    def line(self) -> str:
        return (f"n={self.n} acc {self.accuracy:.4f} mean conf {self.mean_confidence:.4f} ECE {self.ece:.4f} "
                f"NLL {self.nll:.4f} | conf<{self.threshold:g}: {self.share_below:.1%} of faces, acc "
                f"{self.acc_below:.3f}; conf>={self.threshold:g}: acc {self.acc_above:.3f}")


def calibration(probs: np.ndarray, y_true: np.ndarray, threshold: float = 0.4, n_bins: int = 15) -> Calibration:
    """Accuracy, mean confidence, ECE, NLL and accuracy above/below ``threshold`` for ``probs`` ``(n, k)``."""
    probs = np.asarray(probs, dtype=np.float64)
    conf = probs.max(axis=1)
    right = probs.argmax(axis=1) == y_true
    below = conf < threshold
    return Calibration(n=len(y_true), accuracy=float(right.mean()), mean_confidence=float(conf.mean()),
                       ece=expected_calibration_error(probs, y_true, n_bins), nll=nll(probs, y_true),
                       threshold=threshold, share_below=float(below.mean()),
                       acc_above=float(right[~below].mean()) if (~below).any() else float("nan"),
                       acc_below=float(right[below].mean()) if below.any() else float("nan"))
