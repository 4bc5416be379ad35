"""Metric functions against scikit-learn, the per-window backtest (ops.paper's), the model
entry rule, winner rule."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    accuracy_score,
    brier_score_loss,
    f1_score,
    mean_absolute_error,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
    root_mean_squared_error,
)

from arbscore.evaluation import EvaluationConfig
from arbscore.evaluation.backtest import backtest, select_trades
from arbscore.evaluation.baselines import model_candidates
from arbscore.evaluation.metrics import (
    calibration_table,
    duration_metrics,
    json_safe,
    profit_metrics,
    roc_auc,
    success_metrics,
    summarise_folds,
)
from arbscore.evaluation.winner import pick_winners
from arbscore.families import HeadOutputs

H = 3_600_000


def test_metrics_match_sklearn():
    rng = np.random.default_rng(1)
    y = rng.normal(size=500)
    p = y + rng.normal(scale=0.5, size=500)
    m = profit_metrics(y, p)
    assert m["mae"] == pytest.approx(mean_absolute_error(y, p))
    assert m["r2"] == pytest.approx(r2_score(y, p))
    yb = (y > 0).astype(float)
    prob = 1 / (1 + np.exp(-np.round(p, 1)))  # rounded: exercises tied scores
    s = success_metrics(yb, prob)
    assert s["auc"] == pytest.approx(roc_auc_score(yb, prob))
    assert s["brier"] == pytest.approx(brier_score_loss(yb, prob))
    assert s["f1"] == pytest.approx(f1_score(yb, prob >= 0.5))
    assert math.isnan(success_metrics(np.ones(5), np.full(5, 0.7))["auc"])  # one class


@pytest.mark.parametrize("seed", range(5))
def test_metrics_equal_sklearn_on_random_data_with_ties(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 300))
    y = rng.normal(size=n)
    p = np.round(y + rng.normal(scale=1.0, size=n), 0)  # coarse: many tied predictions
    m = profit_metrics(y, p)
    assert m["mae"] == mean_absolute_error(y, p)
    assert m["rmse"] == root_mean_squared_error(y, p)
    assert m["r2"] == r2_score(y, p)
    yb = rng.random(n) < 0.3
    prob = np.round(rng.random(n), 1)  # 11 distinct scores over up to 300 rows
    s = success_metrics(yb, prob, threshold=0.4)
    hat = prob >= 0.4
    assert s["auc"] == roc_auc_score(yb, prob) == roc_auc(yb, prob)
    assert s["brier"] == brier_score_loss(yb, prob)
    assert s["accuracy"] == accuracy_score(yb, hat)
    assert s["precision"] == precision_score(yb, hat)
    assert s["recall"] == recall_score(yb, hat)
    assert s["f1"] == f1_score(yb, hat)
    ids = rng.integers(0, n // 3, size=n)
    first = np.sort(np.unique(ids, return_index=True)[1])
    assert duration_metrics(y, p, ids)["mae_hours"] == mean_absolute_error(y[first], p[first])


def test_metric_edge_cases_are_nan_not_sklearn_errors():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no UndefinedMetricWarning either
        assert math.isnan(roc_auc(np.zeros(4), np.arange(4.0)))  # one class
        one_class = success_metrics(np.zeros(4), np.full(4, 0.2))
        assert math.isnan(one_class["auc"]) and math.isnan(one_class["precision"])
        assert math.isnan(one_class["recall"]) and math.isnan(one_class["f1"])
        assert one_class["accuracy"] == 1.0 and one_class["brier"] == pytest.approx(0.04)
        assert math.isnan(profit_metrics(np.ones(3), np.array([1.0, 2.0, 3.0]))["r2"])  # constant
        assert all(math.isnan(v) for v in profit_metrics(np.array([]), np.array([])).values())
        empty = success_metrics(np.array([]), np.array([]))
        assert all(math.isnan(v) for v in empty.values())
        assert math.isnan(profit_metrics(np.ones(2), np.array([1.0, np.nan]))["mae"])
        assert math.isnan(duration_metrics(np.array([]), np.array([]), np.array([]))["mae_hours"])


def test_calibration_table_and_fold_summary():
    y = np.array([0, 0, 1, 1, 1, 0])
    p = np.array([0.05, 0.15, 0.95, 0.91, 0.55, 0.52])
    table = calibration_table(y, p, bins=10)
    assert sum(b["count"] for b in table) == 6
    top = [b for b in table if b["bin_lower"] == pytest.approx(0.9)][0]
    assert top["fraction_positive"] == 1.0 and top["mean_predicted"] == pytest.approx(0.93)
    s = summarise_folds([{"mae": 1.0, "auc": math.nan}, {"mae": 3.0, "auc": 0.6}])
    assert s["mae"] == 2.0 and s["mae_folds"] == [1.0, 3.0]
    assert s["std"]["mae"] == pytest.approx(math.sqrt(2))
    assert s["auc"] == 0.6
    assert json_safe(s)["auc_folds"] == [None, 0.6]


def _cands(rows):
    return pd.DataFrame(
        rows, columns=["timestamp_ms", "symbol", "hold_hours", "realised_pct", "score", "enter"]
    )


def test_top_k_one_per_symbol_and_capital_limit():
    cfg = EvaluationConfig(top_k=2, capital_usd=30_000, position_usd=10_000)
    c = _cands(
        [
            (0, "A", 8, 1.0, 5.0, True),
            (0, "A", 8, 1.0, 4.0, True),  # same symbol in the same snapshot: skipped
            (0, "B", 8, -1.0, 3.0, True),
            (0, "C", 8, 2.0, 2.0, True),  # beyond top_k=2
            (0, "D", 8, 2.0, 9.0, False),  # its entry rule said no
            (H, "C", 8, 2.0, 1.0, True),  # 3rd position fits the capital
            (2 * H, "D", 8, 2.0, 1.0, True),  # capital full (3 open) until 8 h
            (8 * H, "D", 1, 0.5, 1.0, True),  # A and B closed at 8 h: fits
            (8 * H, "C", 1, 0.5, 2.0, True),  # C still held until 9 h: skipped
        ]
    )
    trades = select_trades(c, cfg)
    assert list(zip(trades["entry_ms"], trades["symbol"], strict=True)) == [
        (0, "A"),
        (0, "B"),
        (H, "C"),
        (8 * H, "D"),
    ]
    res = backtest(c, cfg, 0, 24 * H)
    pnl = np.array([1.0, -1.0, 2.0, 0.5]) * 100  # 1 % of 10,000 USD = 100 USD
    assert res.metrics["net_return"] == pytest.approx(pnl.sum() / 30_000)
    assert res.metrics["trades"] == 4 and res.metrics["win_rate"] == 0.75
    # equity by exit time: A +100 and B -100 exit at 8 h (order A, B), so the trough is 0 after
    # +100 -> drawdown = (1.0 - 1.00333) / 1.00333
    assert res.metrics["max_drawdown"] == pytest.approx(1.0 / (1 + 100 / 30_000) - 1)
    flat = backtest(c.assign(enter=False), cfg, 0, 24 * H)
    assert flat.metrics["trades"] == 0 and flat.metrics["net_return"] == 0
    assert flat.metrics["sharpe"] == 0 and math.isnan(flat.metrics["win_rate"])


def _rows():
    return pd.DataFrame(
        {
            "opportunity_id": [0, 0, 0, 1, 1, 1],
            "timestamp_ms": [0, 0, 0, 0, 0, 0],
            "symbol": ["A", "A", "A", "B", "B", "B"],
            "hold_hours": [8.0, 24.0, 72.0] * 2,
            "actual_profit_pct": [-0.1, 0.3, 0.9, -0.2, -0.1, -0.4],
            "fund_apr": [30.0] * 3 + [80.0] * 3,
            "break_even_hours": [10.0] * 3 + [30.0] * 3,
            "fund_profit_8h": [0.03] * 3 + [0.07] * 3,
            "fund_profit_3d_proj": [0.5] * 3 + [0.05] * 3,
            "bid_ask_spread": [0.01] * 6,
            "round_trip_cost_pct": [0.1] * 6,
        }
    )


def test_model_candidates_snap_predicted_hold():
    rows = _rows()
    pred = HeadOutputs(
        profit=np.array([0.0, 0.2, 0.8, 0.1, 0.1, 0.1]),
        success=np.array([0.5, 0.6, 0.7, 0.9, 0.9, 0.9]),
        duration=np.array([50.0, 50.0, 50.0, 5.0, 5.0, 5.0]),
    )
    c = model_candidates(rows, pred, EvaluationConfig()).set_index("opportunity_id")
    assert c.loc[0, "exit_hours"] == 72 and c.loc[0, "realised_pct"] == 0.9  # 50 h -> 72 h
    assert c.loc[1, "exit_hours"] == 8 and c.loc[1, "enter"]
    assert (c["exit_rule"] == "hold").all()
    strict = EvaluationConfig(min_success_probability=0.95)
    assert not model_candidates(rows, pred, strict)["enter"].any()


def test_winner_by_declared_metric_and_latency_tie_break():
    fams = {
        "a": {
            "profit": {"mae": 1.000},
            "success": {"auc": 0.80},
            "duration": {"mae_hours": 10.0},
            "timing": {"predict_us_per_row": 9.0},
        },
        "b": {
            "profit": {"mae": 1.005},
            "success": {"auc": 0.70},
            "duration": {"mae_hours": None},
            "timing": {"predict_us_per_row": 1.0},
        },
    }
    winners, rules = pick_winners(fams, tie_tolerance=0.01)
    assert winners == {"profit": "b", "success": "a", "duration": "a"}  # b: tie, faster
    assert rules["profit"]["name"] == "mae" and not rules["profit"]["higher_is_better"]
    assert rules["success"]["name"] == "auc" and rules["success"]["higher_is_better"]
    winners, _ = pick_winners(fams, tie_tolerance=0.0)
    assert winners["profit"] == "a"


def test_success_winner_falls_back_to_brier_when_auc_is_undefined_everywhere():
    fams = {
        "a": {"success": {"auc": None, "brier": 0.30}, "timing": {"predict_us_per_row": 1.0}},
        "b": {"success": {"auc": None, "brier": 0.10}, "timing": {"predict_us_per_row": 9.0}},
    }
    winners, rules = pick_winners(fams, tie_tolerance=0.01)
    assert winners["success"] == "b"
    assert rules["success"]["name"] == "brier" and rules["success"]["fallback_from"] == "auc"
    fams["a"]["success"]["auc"] = 0.6  # one finite AUC: the declared metric decides
    winners, rules = pick_winners(fams, tie_tolerance=0.01)
    assert winners["success"] == "a" and rules["success"]["name"] == "auc"


def test_skill_against_naive_predictors_and_calibration_flags():
    from arbscore.evaluation.skill import (
        duration_skill,
        expected_calibration_error,
        profit_skill,
        success_skill,
        worst_bin_gap,
    )

    # profit: naive = training median 1.0; test |y - 1| = [1, 1] -> naive MAE 1; model MAE 0.5
    p = profit_skill(np.array([0.0, 1.0, 5.0]), np.array([0.0, 2.0]), np.array([0.5, 1.5]))
    assert p == {"naive_mae": 1.0, "mae_skill": pytest.approx(0.5)}
    # success: base rate 0.25; Brier of the base rate on [1, 0] = (0.5625 + 0.0625) / 2
    s = success_skill(np.array([1, 0, 0, 0]), np.array([1, 0]), np.array([0.9, 0.1]))
    assert s["naive_brier"] == pytest.approx(0.3125)
    assert s["brier_skill"] == pytest.approx(1 - 0.01 / 0.3125)
    # duration: one row per opportunity; naive = median of [10, 30] = 20
    d = duration_skill(
        np.array([10.0, 10.0, 30.0]),
        np.array([1, 1, 2]),
        np.array([40.0, 40.0]),
        np.array([3, 3]),
        np.array([35.0, 35.0]),
    )
    assert d == {"naive_mae_hours": 20.0, "mae_hours_skill": pytest.approx(0.75)}
    table = [
        {"mean_predicted": 0.01, "fraction_positive": 0.0, "count": 980},
        {"mean_predicted": 0.97, "fraction_positive": 0.0, "count": 20},
    ]
    # the confident top bin barely moves the ECE but is caught by the bin rule
    assert expected_calibration_error(table) == pytest.approx(0.98 * 0.01 + 0.02 * 0.97)
    assert worst_bin_gap(table, min_rows=20) == pytest.approx(0.97)
    assert worst_bin_gap(table, min_rows=21) == pytest.approx(0.01)
