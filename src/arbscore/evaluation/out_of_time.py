"""Calibration and intervals judged out of time, fold by fold (issue 26, items 2, 3 and 5).

For test fold k the *latest calibration window* is fold k-1's out-of-sample predictions
(made by a model that never saw them), restricted to rows whose label was known before fold k
began (entry + hold <= fold k's start): the most recent past a live recalibration could use.
Nothing here ever fits on fold k itself.

- success: Platt (on the probability's logit) and isotonic (``sklearn``) are fitted on the window
  and applied to fold k; each method's ECE and worst-bin gap on fold k is recorded beside the
  family's own probability ("family"). The method used at fold k is chosen on the folds before
  it (rolling origin: the lowest mean calibration error, ``max(ECE, worst-bin gap)``, over the
  last ``EvaluationConfig.selection_folds`` folds on which all three were measured; "family"
  while there is none).
- profit: a split-conformal table (``arbscore.conformal``) at ``EvaluationConfig.
  interval_coverage`` from the window's residuals; its coverage and mean width on fold k.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from arbscore.calibration import (
    apply_isotonic,
    apply_platt,
    calibration_error,
    fit_isotonic,
    fit_platt,
    logit,
)
from arbscore.conformal import fit_interval_table
from arbscore.data_tools.market import to_epoch_ms
from arbscore.evaluation.config import EvaluationConfig
from arbscore.evaluation.metrics import calibration_table
from arbscore.evaluation.skill import expected_calibration_error, worst_bin_gap
from arbscore.schema import HOLD_COLUMN

HOUR_MS = 3_600_000
#: the success calibrations compared out of time ("family": the family's own, as shipped)
METHODS = ("family", "platt", "isotonic")


def _gaps(y: np.ndarray, p: np.ndarray, config: EvaluationConfig) -> tuple[float, float]:
    if not y.size:
        return math.nan, math.nan
    table = calibration_table(y, p, config.calibration_bins)
    return expected_calibration_error(table), worst_bin_gap(table, config.bin_gap_min_rows)


def _recalibrated(method: str, window: pd.DataFrame, p: np.ndarray) -> np.ndarray | None:
    """``p`` recalibrated by ``method`` fitted on the window (None: nothing to fit on)."""
    if method == "family":
        return p
    if window.empty:
        return None
    y_w, p_w = window["was_profitable"].to_numpy(float), window["success"].to_numpy(float)
    if method == "platt":
        return apply_platt(logit(p), fit_platt(logit(p_w), y_w))
    return apply_isotonic(p, fit_isotonic(p_w, y_w))


def _label_known(previous: pd.DataFrame, start_ms: int) -> pd.DataFrame:
    entry = to_epoch_ms(previous["timestamp"]).to_numpy(np.int64)
    end = entry + (previous[HOLD_COLUMN].to_numpy(float) * HOUR_MS).astype(np.int64)
    return previous[end <= start_ms]


def _choose(history: list[dict], config: EvaluationConfig) -> str:
    """The method with the lowest mean calibration error over the last ``selection_folds``
    earlier folds on which every method was measured; "family" when there is none."""
    complete = [h for h in history if all(math.isfinite(h[m]) for m in METHODS)]
    recent = complete[-config.selection_folds :]
    if not recent:
        return "family"
    scores = {m: float(np.mean([h[m] for h in recent])) for m in METHODS}
    return min(METHODS, key=lambda m: (scores[m], METHODS.index(m)))


def out_of_time(
    predictions: pd.DataFrame, fold_starts: dict[int, int], config: EvaluationConfig
) -> tuple[dict, dict]:
    """(success additions, profit additions) for one family's out-of-sample ``predictions``
    (``evaluation.run``'s prediction frame); ``fold_starts``: fold index -> test start (ms)."""
    order = sorted(fold_starts, key=fold_starts.get)
    per_method: dict[str, dict[str, list[float]]] = {m: {"ece": [], "gap": []} for m in METHODS}
    chosen, chosen_err, history = [], [], []
    cover, width, window_rows = [], [], []
    hits = total = 0
    previous = predictions.iloc[:0]
    for fold in order:
        test = predictions[predictions["fold"] == fold]
        window = _label_known(previous, fold_starts[fold])
        y, p = test["was_profitable"].to_numpy(float), test["success"].to_numpy(float)
        errs = {}
        for method in METHODS:
            q = _recalibrated(method, window, p)
            ece, gap = _gaps(y, q, config) if q is not None else (math.nan, math.nan)
            per_method[method]["ece"].append(ece)
            per_method[method]["gap"].append(gap)
            errs[method] = calibration_error(ece, gap) if q is not None else math.nan
        pick = _choose(history, config)
        chosen.append(pick)
        chosen_err.append(errs[pick])
        history.append(errs)
        window_rows.append(int(len(window)))
        inside, w = _interval_fold(window, test, config)
        cover.append(float(inside.mean()) if inside is not None and inside.size else math.nan)
        width.append(w)
        if inside is not None:
            hits += int(inside.sum())
            total += int(inside.size)
        previous = test
    success = {
        "ece_folds": per_method["family"]["ece"],
        "worst_bin_gap_folds": per_method["family"]["gap"],
        "recalibration": {
            "window": "the previous fold's predictions whose label was known at the fold's start",
            "window_rows_folds": window_rows,
            "methods": {
                m: {"ece_folds": v["ece"], "worst_bin_gap_folds": v["gap"]}
                for m, v in per_method.items()
            },
            "selection_folds": config.selection_folds,
            "chosen_folds": chosen,
            "chosen_calibration_error_folds": chosen_err,
        },
    }
    profit = {
        "interval": {
            "method": "split conformal, |residual| quantile per hold (arbscore.conformal)",
            "coverage_target": config.interval_coverage,
            "coverage": hits / total if total else math.nan,
            "coverage_folds": cover,
            "mean_width_pct_folds": width,
        }
    }
    return success, profit


def _interval_fold(
    window: pd.DataFrame, test: pd.DataFrame, config: EvaluationConfig
) -> tuple[np.ndarray | None, float]:
    """(per test row: actual inside the interval, mean interval width in %), from the window."""
    if window.empty or test.empty:
        return None, math.nan
    table = fit_interval_table(
        window["actual_profit_pct"].to_numpy(float),
        window["profit"].to_numpy(float),
        window[HOLD_COLUMN].to_numpy(float),
        config.interval_coverage,
    )
    low, high = table.bounds(test["profit"].to_numpy(float), test[HOLD_COLUMN].to_numpy(float))
    actual = test["actual_profit_pct"].to_numpy(float)
    return (actual >= low) & (actual <= high), float(np.mean(high - low))
