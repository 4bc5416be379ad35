"""Skill, not just error: every head against a naive predictor on the same fold, and ECE.

Naive predictors are fitted on the fold's training rows only:

- profit: the training median of ``actual_profit_pct``; ``mae_skill`` = 1 - MAE / naive MAE;
- duration: the training median ``optimal_hold_hours`` (one per opportunity);
  ``mae_hours_skill`` = 1 - MAE / naive MAE;
- success: the training base rate; ``brier_skill`` = 1 - Brier / naive Brier (the Brier skill
  score). A skill of 0 is no better than the naive guess; below 0 is worse.

ECE (expected calibration error) of the success probability, pooled over the folds from the
calibration table: sum over bins of (rows in bin / rows) x |mean predicted - observed share|.
The report flags a family whose ECE exceeds ``EvaluationConfig.ece_flag`` (default 0.05: off by
5 percentage points on average) or whose worst bin with at least ``bin_gap_min_rows`` (20) rows
is off by more than ``bin_gap_flag`` (0.2), since ``/size`` feeds the probability to a Kelly
fraction: on rare winners almost every row sits in the lowest bin, so a top bin predicting 0.98
and observing 0 barely moves the ECE.
"""

from __future__ import annotations

import math

import numpy as np

from arbscore.data_tools.targets import first_row_per_opportunity


def _skill(model: float, naive: float) -> float:
    return 1.0 - model / naive if naive > 0 and math.isfinite(model) else math.nan


def _mae(y: np.ndarray, pred: np.ndarray | float) -> float:
    """``sklearn.metrics.mean_absolute_error``; NaN on no rows (or a NaN naive guess)."""
    from sklearn.metrics import mean_absolute_error

    y = np.asarray(y, float)
    pred = np.broadcast_to(np.asarray(pred, float), y.shape)
    if not y.size or not np.isfinite(pred).all():
        return math.nan
    return float(mean_absolute_error(y, pred))


def _brier(y: np.ndarray, prob: np.ndarray | float) -> float:
    """``sklearn.metrics.brier_score_loss``; NaN on no rows (or a NaN naive guess)."""
    from sklearn.metrics import brier_score_loss

    y = np.asarray(y, bool)
    prob = np.broadcast_to(np.clip(np.asarray(prob, float), 0, 1), y.shape)
    if not y.size or not np.isfinite(prob).all():
        return math.nan
    return float(brier_score_loss(y, prob, pos_label=True))


def profit_skill(y_train: np.ndarray, y_test: np.ndarray, pred: np.ndarray) -> dict:
    naive = float(np.median(y_train)) if len(y_train) else math.nan
    naive_mae = _mae(y_test, naive)
    return {"naive_mae": naive_mae, "mae_skill": _skill(_mae(y_test, pred), naive_mae)}


def success_skill(y_train: np.ndarray, y_test: np.ndarray, prob: np.ndarray) -> dict:
    base = float(np.mean(np.asarray(y_train, float) > 0.5)) if len(y_train) else math.nan
    y = np.asarray(y_test, float) > 0.5
    naive = _brier(y, base)
    return {"naive_brier": naive, "brier_skill": _skill(_brier(y, prob), naive)}


def duration_skill(
    train_optimal: np.ndarray,
    train_ids: np.ndarray,
    test_optimal: np.ndarray,
    test_ids: np.ndarray,
    pred: np.ndarray,
) -> dict:
    tr = np.asarray(train_optimal, float)[first_row_per_opportunity(np.asarray(train_ids))]
    idx = first_row_per_opportunity(np.asarray(test_ids))
    y = np.asarray(test_optimal, float)[idx]
    naive = float(np.median(tr)) if tr.size else math.nan
    naive_mae = _mae(y, naive)
    mae = _mae(y, np.asarray(pred, float)[idx])
    return {"naive_mae_hours": naive_mae, "mae_hours_skill": _skill(mae, naive_mae)}


def worst_bin_gap(table: list[dict], min_rows: int) -> float:
    """Largest |mean predicted - observed| over bins with at least ``min_rows`` rows (0: none)."""
    gaps = [
        abs(b["mean_predicted"] - b["fraction_positive"]) for b in table if b["count"] >= min_rows
    ]
    return float(max(gaps)) if gaps else 0.0


def expected_calibration_error(table: list[dict]) -> float:
    """ECE from a calibration table (``metrics.calibration_table``'s bins)."""
    total = sum(b["count"] for b in table)
    if not total:
        return math.nan
    return float(
        sum(b["count"] / total * abs(b["mean_predicted"] - b["fraction_positive"]) for b in table)
    )
