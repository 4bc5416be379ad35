"""Out-of-sample metrics per head, and how fold values become mean, spread and per-fold lists.

Undefined values (AUC on a one-class fold, win rate with no trades) are NaN here and ``null``
in metrics.json, never a made-up number.

The metrics themselves are ``sklearn.metrics``'; the wrappers here only fix the edge cases
(empty input, one class, constant target) to NaN. sklearn is imported inside the functions:
it costs about a second, and ``json_safe`` / ``calibration_table`` users need none of it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from arbscore.data_tools.targets import first_row_per_opportunity


def profit_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """MAE, RMSE and R² of predicted net profit (percent), by ``sklearn.metrics``.

    Empty input or a non-finite prediction gives NaN for all three (sklearn would raise); R² is
    NaN (not sklearn's 0 or 1) when ``y_true`` is constant: no variance, nothing to explain.
    """
    from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error

    y, p = np.asarray(y_true, float), np.asarray(y_pred, float)
    if not y.size or not np.isfinite(p).all():
        return {"mae": math.nan, "rmse": math.nan, "r2": math.nan}
    constant = bool(np.all(y == y[0]))
    return {
        "mae": float(mean_absolute_error(y, p)),
        "rmse": float(root_mean_squared_error(y, p)),
        "r2": math.nan if constant else float(r2_score(y, p)),
    }


def roc_auc(y_true: np.ndarray, score: np.ndarray) -> float:
    """``sklearn.metrics.roc_auc_score`` (ties count half); NaN when only one class is present
    (sklearn warns and returns NaN there too; checked here so no warning is raised) or when a
    score is not finite."""
    from sklearn.metrics import roc_auc_score

    y = np.asarray(y_true, float) > 0.5
    s = np.asarray(score, float)
    if y.all() or not y.any() or not np.isfinite(s).all():
        return math.nan
    return float(roc_auc_score(y, s))


def success_metrics(y_true: np.ndarray, prob: np.ndarray, threshold: float = 0.5) -> dict:
    """AUC, accuracy, precision, recall, F1 (at ``threshold``) and Brier score, by
    ``sklearn.metrics``. Probabilities are clipped to [0, 1]; a ratio with a zero denominator
    (no predicted or no actual positives) is NaN, and empty input or a non-finite probability is
    NaN throughout (``positive_rate`` aside, which needs no probability)."""
    from sklearn.metrics import (
        accuracy_score,
        brier_score_loss,
        f1_score,
        precision_score,
        recall_score,
    )

    y = np.asarray(y_true, float) > 0.5
    p = np.clip(np.asarray(prob, float), 0.0, 1.0)
    if not y.size or not np.isfinite(p).all():
        names = ("auc", "accuracy", "precision", "recall", "f1", "brier")
        return dict.fromkeys(names, math.nan) | {
            "positive_rate": float(np.mean(y)) if y.size else math.nan
        }
    hat = p >= threshold
    nan = {"zero_division": np.nan}
    return {
        "auc": roc_auc(y, p),
        "accuracy": float(accuracy_score(y, hat)),
        "precision": float(precision_score(y, hat, **nan)),
        "recall": float(recall_score(y, hat, **nan)),
        "f1": float(f1_score(y, hat, **nan)),
        "brier": float(brier_score_loss(y, p, pos_label=True)),
        "positive_rate": float(np.mean(y)),
    }


def calibration_table(y_true: np.ndarray, prob: np.ndarray, bins: int = 10) -> list[dict]:
    """Equal-width probability bins: mean predicted vs observed profitable share (non-empty)."""
    y = np.asarray(y_true, float)
    p = np.clip(np.asarray(prob, float), 0.0, 1.0)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    table = []
    for b in range(bins):
        mask = which == b
        if mask.any():
            table.append(
                {
                    "bin_lower": float(edges[b]),
                    "bin_upper": float(edges[b + 1]),
                    "mean_predicted": float(p[mask].mean()),
                    "fraction_positive": float(y[mask].mean()),
                    "count": int(mask.sum()),
                }
            )
    return table


def duration_metrics(
    optimal_hold: np.ndarray, predicted: np.ndarray, opportunity_id: np.ndarray
) -> dict[str, float]:
    """MAE in hours of the predicted optimal hold, one row per opportunity."""
    idx = first_row_per_opportunity(np.asarray(opportunity_id))
    if not idx.size:
        return {"mae_hours": math.nan}
    from sklearn.metrics import mean_absolute_error

    y, p = np.asarray(optimal_hold, float)[idx], np.asarray(predicted, float)[idx]
    if not np.isfinite(p).all():
        return {"mae_hours": math.nan}
    return {"mae_hours": float(mean_absolute_error(y, p))}


def summarise_folds(per_fold: Sequence[dict[str, float]]) -> dict:
    """``{name: mean, name_folds: [...], "std": {name: spread}}`` over folds (NaN-aware)."""
    out: dict = {}
    spread: dict[str, float] = {}
    names = [k for k, v in per_fold[0].items() if isinstance(v, (int, float))] if per_fold else []
    for name in names:
        values = np.array([f.get(name, math.nan) for f in per_fold], dtype=float)
        finite = values[np.isfinite(values)]
        out[name] = float(finite.mean()) if finite.size else math.nan
        out[f"{name}_folds"] = [float(v) for v in values]
        spread[name] = float(finite.std(ddof=1)) if finite.size > 1 else math.nan
    out["std"] = spread
    return out


def json_safe(value):
    """NaN/inf -> None and numpy scalars -> Python numbers, recursively (strict JSON)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
