"""Platt scaling on the raw margin: p = sigmoid(a * margin + b).

Shared by every family (GBDT margins, the MLX success logit). Kept as two floats so the
exporter can rebuild it in ONNX with Mul, Add and Sigmoid. Fitted by Newton's method on the
log loss with Platt's smoothed targets, which keeps (a, b) finite when the calibration slice
holds only one class (common on real data: most trades lose). Numpy only.
"""

from __future__ import annotations

import math

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function."""
    z = np.asarray(z, dtype=np.float64)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


#: fewer positives (or negatives) than this in a calibration slice: fit the intercept only
MIN_CALIBRATION_EVENTS = 20


def fit_platt(
    margin: np.ndarray,
    y: np.ndarray,
    min_events: int = 0,
    *,
    l2: float = 1e-6,
    max_iter: int = 100,
) -> tuple[float, float]:
    """Fit (a, b) so that sigmoid(a * margin + b) is calibrated on (margin, y).

    ``y`` is 0/1. Returns the identity (1.0, 0.0) when there is nothing to fit (no rows).
    With fewer than ``min_events`` positives (or negatives) the slope cannot be estimated: a
    slice without a single profitable row drives it to 0 and every probability to the same
    value. Then only the intercept is fitted (a = 1), which keeps the ranking of the margin;
    the same when the fitted slope comes out negative (the calibration is monotone increasing).
    """
    m = np.asarray(margin, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if m.shape != y.shape:
        raise ValueError(f"margin has {m.size} values but y has {y.size}")
    if m.size == 0:
        return 1.0, 0.0
    n_pos = float(y.sum())
    n_neg = float(y.size - n_pos)
    a, b = _newton(m, y, n_pos, n_neg, min(n_pos, n_neg) < min_events, l2, max_iter)
    if a < 0.0:
        # a calibration must not turn the ranking over: a slice on which higher margins win
        # less often (a regime the training rows did not see) would make the model's best
        # candidates its worst. Keep the ranking and fit the intercept only.
        a, b = _newton(m, y, n_pos, n_neg, True, l2, max_iter)
    return a, b


def _newton(
    m: np.ndarray,
    y: np.ndarray,
    n_pos: float,
    n_neg: float,
    intercept_only: bool,
    l2: float,
    max_iter: int,
) -> tuple[float, float]:
    # Platt (1999): targets pulled off 0/1 by the class counts, so the optimum is finite
    t = np.where(y > 0.5, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))
    design = np.column_stack([m, np.ones_like(m)])
    w = np.array([1.0, 0.0])
    prev = np.inf
    for _ in range(max_iter):
        p = sigmoid(design @ w)
        grad = design.T @ (p - t) + l2 * w
        hess = (design * (p * (1.0 - p))[:, None]).T @ design + l2 * np.eye(2)
        step = np.linalg.solve(hess + 1e-12 * np.eye(2), grad)
        if intercept_only:
            step = np.array([0.0, grad[1] / (hess[1, 1] + 1e-12)])
        # step halving keeps Newton monotone on badly scaled margins
        scale = 1.0
        loss = _loss(design, w, t, l2)
        while scale > 1e-6:
            cand = w - scale * step
            cand_loss = _loss(design, cand, t, l2)
            if cand_loss <= loss:
                break
            scale *= 0.5
        w = w - scale * step
        if abs(prev - loss) < 1e-12 * max(1.0, abs(loss)):
            break
        prev = loss
    return float(w[0]), float(w[1])


def _loss(design: np.ndarray, w: np.ndarray, t: np.ndarray, l2: float) -> float:
    z = design @ w
    # log(1 + exp(z)) - t * z, stable
    return float(np.sum(np.logaddexp(0.0, z) - t * z) + 0.5 * l2 * float(w @ w))


def apply_platt(margin: np.ndarray, calibration: tuple[float, float]) -> np.ndarray:
    """Calibrated probability for raw margins, as float32."""
    a, b = calibration
    return sigmoid(a * np.asarray(margin, dtype=np.float64) + b).astype(np.float32)


def fit_isotonic(score: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Isotonic calibration (``sklearn.isotonic.IsotonicRegression``, increasing, clipped to
    [0, 1] and at the fitted range) of 0/1 ``y`` on ``score``; returns its knots (x, p).

    :func:`apply_isotonic` interpolates linearly between the knots and holds the end values
    outside them, as scikit-learn's ``predict`` does with ``out_of_bounds="clip"``; the knots
    are all a bundle needs. Raises ValueError when there are no rows.
    """
    from sklearn.isotonic import IsotonicRegression

    s = np.asarray(score, dtype=np.float64).ravel()
    t = np.asarray(y, dtype=np.float64).ravel()
    if s.shape != t.shape:
        raise ValueError(f"score has {s.size} values but y has {t.size}")
    if not s.size:
        raise ValueError("isotonic calibration: no rows to fit")
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
    iso.fit(s, t)
    return np.asarray(iso.X_thresholds_, float), np.asarray(iso.y_thresholds_, float)


def apply_isotonic(score: np.ndarray, knots: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Calibrated probability for ``score`` from :func:`fit_isotonic`'s knots, as float32."""
    x, p = knots
    return np.interp(np.asarray(score, dtype=np.float64), x, p).astype(np.float32)


def logit(prob: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """log(p / (1 - p)) with p kept ``eps`` inside (0, 1): the margin behind a probability."""
    p = np.clip(np.asarray(prob, dtype=np.float64), eps, 1.0 - eps)
    return np.log(p) - np.log1p(-p)


def calibration_error(*gaps: float | None) -> float:
    """The calibration error ``/size`` shrinks Kelly by: the largest finite of ``gaps`` (an ECE,
    a worst-bin gap, ...), within [0, 1]; 0 when none is finite."""
    finite = [float(g) for g in gaps if isinstance(g, int | float) and math.isfinite(g)]
    return min(max(finite, default=0.0), 1.0)
