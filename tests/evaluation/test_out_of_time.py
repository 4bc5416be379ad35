"""Out-of-time calibration choice and conformal coverage, fold by fold (evaluation.out_of_time)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from arbscore.evaluation.config import EvaluationConfig
from arbscore.evaluation.out_of_time import out_of_time

DAY_MS = 86_400_000
T0 = pd.Timestamp("2025-06-01", tz="UTC")


def _predictions(n_folds=4, rows=2000, seed=0):
    """Folds of 10 days; the family says p = 0.5 where the true rate is 0.1 (badly calibrated,
    but the same every fold) and predicts profit with Gaussian errors of sd 1."""
    rng = np.random.default_rng(seed)
    frames, starts = [], {}
    for k in range(n_folds):
        start = T0 + pd.Timedelta(days=10 * k)
        starts[k] = int(start.value // 1_000_000)
        ts = start + pd.to_timedelta(rng.uniform(0, 10, rows), unit="D")
        hold = rng.choice([8.0, 24.0, 168.0], rows)
        profit = rng.normal(0, 1, rows)
        frames.append(
            pd.DataFrame(
                {
                    "family": "f",
                    "fold": k,
                    "timestamp": ts,
                    "hold_hours": hold,
                    "was_profitable": (rng.random(rows) < 0.1).astype(float),
                    "success": np.full(rows, 0.5) + rng.normal(0, 0.01, rows),
                    "actual_profit_pct": profit + rng.normal(0, 1, rows),
                    "profit": profit,
                }
            )
        )
    return pd.concat(frames, ignore_index=True), starts


def test_recalibration_fits_on_the_previous_fold_and_is_chosen_on_earlier_folds():
    preds, starts = _predictions()
    success, _ = out_of_time(preds, starts, EvaluationConfig(selection_folds=1))
    assert success["ece_folds"][0] == pytest.approx(0.4, abs=0.03)  # p 0.5 vs observed 0.1
    rec = success["recalibration"]
    for method in ("platt", "isotonic"):
        ece = rec["methods"][method]["ece_folds"]
        assert math.isnan(ece[0])  # no window before the first fold
        assert max(ece[1:]) < 0.05  # fitted on the previous fold, right on this one
    assert rec["chosen_folds"][:2] == ["family", "family"]  # no history yet at folds 0 and 1
    assert rec["chosen_folds"][2] in ("platt", "isotonic")
    assert max(rec["chosen_calibration_error_folds"][2:]) < 0.1
    # the window holds only rows whose label (entry + hold) was known when the fold began
    assert 0 < rec["window_rows_folds"][1] < int((preds["fold"] == 0).sum())


def test_window_leaves_out_labels_that_end_after_the_fold_starts():
    preds, starts = _predictions(n_folds=2, rows=500)
    entry = preds["timestamp"].astype("int64") // 1_000_000
    end = entry + preds["hold_hours"] * 3_600_000
    known = int(((preds["fold"] == 0) & (end <= starts[1])).sum())
    success, _ = out_of_time(preds, starts, EvaluationConfig())
    assert success["recalibration"]["window_rows_folds"] == [0, known]


def test_conformal_interval_covers_its_target_out_of_time():
    preds, starts = _predictions(rows=3000)
    _, profit = out_of_time(preds, starts, EvaluationConfig(interval_coverage=0.8))
    interval = profit["interval"]
    assert math.isnan(interval["coverage_folds"][0])
    assert all(abs(c - 0.8) < 0.04 for c in interval["coverage_folds"][1:])
    assert interval["coverage"] == pytest.approx(0.8, abs=0.03)
    # width ~ 2 * 1.2816: twice the 80 % half-width of an N(0, 1) residual
    assert interval["mean_width_pct_folds"][1] == pytest.approx(2 * 1.2816, rel=0.1)


def test_config_rejects_a_coverage_outside_0_1_and_no_selection_folds():
    with pytest.raises(ValueError, match="interval_coverage"):
        EvaluationConfig(interval_coverage=80)
    with pytest.raises(ValueError, match="selection_folds"):
        EvaluationConfig(selection_folds=0)


def test_choice_is_the_lowest_mean_error_over_the_last_complete_folds():
    from arbscore.evaluation.out_of_time import _choose

    nan = math.nan
    history = [
        {"family": 0.01, "platt": nan, "isotonic": nan},  # the first fold: nothing to refit on
        {"family": 0.40, "platt": 0.10, "isotonic": 0.30},
        {"family": 0.40, "platt": 0.30, "isotonic": 0.05},
    ]
    assert _choose(history[:1], EvaluationConfig()) == "family"
    assert _choose(history[:2], EvaluationConfig(selection_folds=2)) == "platt"
    assert _choose(history, EvaluationConfig(selection_folds=2)) == "isotonic"  # 0.175 < 0.2
    assert _choose(history, EvaluationConfig(selection_folds=1)) == "isotonic"
