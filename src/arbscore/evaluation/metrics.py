"""Out-of-sample metrics per head, and how fold values become mean, spread and per-fold lists.

Undefined values (AUC on a one-class fold, win rate with no trades) are NaN here and ``null``
in metrics.json, never a made-up number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from arbscore.data_tools.targets import first_row_per_opportunity


def profit_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """MAE, RMSE and R² of predicted net profit (percent)."""
    y, p = np.asarray(y_true, float), np.asarray(y_pred, float)
    err = p - y
    ss_tot = float(np.sum((y - y.mean()) ** 2)) if y.size else 0.0
    r2 = 1.0 - float(np.sum(err**2)) / ss_tot if ss_tot > 0 else math.nan
    return {
        "mae": float(np.mean(np.abs(err))) if y.size else math.nan,
        "rmse": float(np.sqrt(np.mean(err**2))) if y.size else math.nan,
        "r2": r2,
    }


def roc_auc(y_true: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (ties count half); NaN when only one class is present."""
    y = np.asarray(y_true, float) > 0.5
    s = np.asarray(score, float)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return math.nan
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(s.size, dtype=float)
    sorted_s = s[order]
    # average ranks over ties
    _, first, counts = np.unique(sorted_s, return_index=True, return_counts=True)
    avg = first + (counts - 1) / 2.0 + 1.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def success_metrics(y_true: np.ndarray, prob: np.ndarray, threshold: float = 0.5) -> dict:
    """AUC, accuracy, precision, recall, F1 (at ``threshold``) and Brier score."""
    y = np.asarray(y_true, float) > 0.5
    p = np.clip(np.asarray(prob, float), 0.0, 1.0)
    hat = p >= threshold
    tp, fp, fn = int((hat & y).sum()), int((hat & ~y).sum()), int((~hat & y).sum())
    precision = tp / (tp + fp) if tp + fp else math.nan
    recall = tp / (tp + fn) if tp + fn else math.nan
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else math.nan
    return {
        "auc": roc_auc(y, p),
        "accuracy": float(np.mean(hat == y)) if y.size else math.nan,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "brier": float(np.mean((p - y) ** 2)) if y.size else math.nan,
        "positive_rate": float(np.mean(y)) if y.size else math.nan,
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
    err = np.abs(np.asarray(predicted, float)[idx] - np.asarray(optimal_hold, float)[idx])
    return {"mae_hours": float(err.mean()) if err.size else math.nan}


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
