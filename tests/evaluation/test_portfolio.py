"""The portfolio backtest by hand: daily marked-to-market equity, Sharpe, drawdown, margin of
both legs, limits, exits, and the bootstrap verdicts on noise and on a planted edge."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from arb_eval_kit import MeanFamily, make_training_frame

from arbscore.evaluation import EvaluationConfig, evaluate
from arbscore.evaluation.baselines import baseline_candidates
from arbscore.evaluation.performance import (
    VERDICT_EDGE,
    VERDICT_NONE,
    bootstrap,
    pooled_metrics,
    verdict,
    versus,
)
from arbscore.evaluation.portfolio import DayGrid, book_trades, daily_equity
from arbscore.evaluation.positions import (
    capital_multiple,
    exit_at_hold,
    exit_at_signal,
    position_knots,
)
from arbscore.evaluation.trading import pooled_backtest

H = 3_600_000
D = 24 * H


def _cand(**kw) -> dict:
    row = dict(
        opportunity_id=kw.pop("oid"),
        timestamp_ms=kw.pop("t"),
        symbol="BTCUSDT",
        strategy="spot_perp",
        long_exchange="binance",
        short_exchange="binance",
        exit_hours=24.0,
        exit_rule="hold",
        realised_pct=0.0,
        capital_multiple=1.5,
        liquidated=False,
        funding_pct=0.0,
        fees_pct=0.0,
        slippage_pct=0.0,
        price_pnl_pct=0.0,
        entry_mark_pct=0.0,
        score=1.0,
        enter=True,
        fold=0,
    )
    row.update(kw)
    return row


def _hand_book():
    """A: spot_perp, enters 12:00 day 0, exits 48 h later at +1 %, marked +0.3 % at day 1.
    B: perp_perp, enters 12:00 day 1, exits 24 h later at -2 %, no marks (entry -> exit)."""
    a = _cand(
        oid=1,
        t=12 * H,
        exit_hours=48.0,
        realised_pct=1.0,
        entry_mark_pct=-0.2,
        funding_pct=1.5,
        fees_pct=0.3,
        slippage_pct=0.2,
    )
    b = _cand(
        oid=2,
        t=36 * H,
        symbol="ETHUSDT",
        strategy="perp_perp",
        long_exchange="bybit",
        short_exchange="okx",
        capital_multiple=1.0,
        realised_pct=-2.0,
        entry_mark_pct=-0.1,
        funding_pct=0.1,
        fees_pct=0.2,
        slippage_pct=0.1,
        fold=1,
    )
    marks = pd.DataFrame(
        {"opportunity_id": [1, 1], "day": [1, 2], "mark_pct": [0.3, 1.0], "funding_pct": [0.5, 1]}
    )
    return pd.DataFrame([a, b]), marks


def test_hand_made_book_daily_mtm_equity_sharpe_and_drawdown():
    cfg = EvaluationConfig(capital_usd=100_000, position_usd=10_000, bootstrap_samples=200)
    cands, marks = _hand_book()
    trades = book_trades(cands, cfg)
    assert list(trades["opportunity_id"]) == [1, 2]
    # margin of both legs: spot leg 10k + perp leg 10k / 2x; perp_perp 2 x 10k / 2x
    assert list(trades["capital_usd"]) == [15_000, 10_000]
    assert trades["return_on_capital_pct"].tolist() == pytest.approx([100 / 150, -200 / 100])
    grid = DayGrid.spanning(0, 2 * D)  # the folds' span; both exit at 60 h -> grid to 72 h
    grid = DayGrid.spanning(0, max(2 * D, int(trades["exit_ms"].max())))
    assert list(grid.times_ms) == [0, D, 2 * D, 3 * D]
    knots = position_knots(pd.DataFrame({"opportunity_id": [1, 2]}), marks, cfg)
    eq = daily_equity(trades, knots, grid, cfg)
    # by hand, $ per 1 % of 10k = 100:
    #  day 1 (A 12 h old): between entry -0.2 % and day-1 mark 0.3 % -> 0.05 % = +5
    #  day 2 (A 36 h old): between 0.3 % at 24 h and its exit 1.0 % at 48 h -> 0.65 % = +65;
    #        (B 12 h old): between -0.1 % and its exit -2.0 % at 24 h -> -1.05 % = -105
    #  day 3: both closed: +100 - 200
    assert eq.tolist() == pytest.approx([100_000, 100_005, 99_960, 99_900])
    pooled = pooled_metrics({"hand": eq}, {"hand": trades}, cfg)["hand"]
    r = np.array([5.0, -45.0, -60.0]) / 100_000
    mean = r.mean()
    sd = math.sqrt(sum((x - mean) ** 2 for x in r) / 2)
    assert pooled["annual_return_pct"] == pytest.approx(mean * 365 * 100)
    assert pooled["sharpe"] == pytest.approx(mean / sd * math.sqrt(365))
    down = math.sqrt((0 + 45.0**2 + 60.0**2) / 3) / 100_000
    assert pooled["sortino"] == pytest.approx(mean / down * math.sqrt(365))
    assert pooled["max_drawdown_pct"] == pytest.approx((99_900 / 100_005 - 1) * 100)
    assert pooled["trades"] == 2 and pooled["win_rate"] == 0.5
    assert pooled["avg_hold_hours"] == 36.0
    # costs annualised like the return: funding - fees - slippage + basis = annual return
    years = 3 / 365
    assert pooled["funding_pct"] == pytest.approx((150 + 10) / 100_000 * 100 / years)
    assert pooled["fees_pct"] == pytest.approx((30 + 20) / 100_000 * 100 / years)
    total = (
        pooled["funding_pct"] - pooled["fees_pct"] - pooled["slippage_pct"] + pooled["basis_pct"]
    )
    assert total == pytest.approx(pooled["annual_return_pct"])
    lo, hi = pooled["annual_return_ci95"]
    assert lo <= pooled["annual_return_pct"] <= hi


def test_positions_carry_across_folds_and_per_fold_values_stay():
    cfg = EvaluationConfig(bootstrap_samples=200, tail_hours=24)
    cands, marks = _hand_book()
    windows = [(0, D), (D, 2 * D)]  # A enters in fold 0 and exits in fold 1's window
    res = pooled_backtest(
        {"hand": [cands[cands["fold"] == 0], cands[cands["fold"] == 1]]},
        windows,
        pd.DataFrame({"opportunity_id": [1, 2], "hold_hours": [48.0, 24.0]}),
        marks,
        ["hand"],
        cfg,
    )
    assert res.section["pooled"]["hand"]["total_return_pct"] == pytest.approx(-0.1)
    folds = res.folds["hand"]
    assert [f["trades"] for f in folds] == [1, 1]
    # fold 0 = day 1 (+5); fold 1 = days 2..3 from 100,005 (-45, -60)
    assert folds[0]["annual_return_pct"] == pytest.approx(5 / 100_000 * 365 * 100)
    assert folds[1]["annual_return_pct"] == pytest.approx(-52.5 / 100_000 * 365 * 100)
    eq = res.equity
    assert list(eq["fold"]) == [0, 0, 1, 1]
    assert eq["equity"].iloc[-1] == pytest.approx(0.999)
    assert set(res.trades["strategy"]) == {"hand"} and set(res.trades["kind"]) == {
        "spot_perp",
        "perp_perp",
    }


def test_margin_limits_symbol_and_venue_limits_and_top_k():
    # capital 25k: A (15k margin) open; at 36 h C (spot_perp, 15k) does not fit, B (10k) does
    cfg = EvaluationConfig(capital_usd=25_000, position_usd=10_000)
    cands, _ = _hand_book()
    c = _cand(oid=3, t=36 * H, symbol="SOLUSDT", score=5.0)
    trades = book_trades(pd.concat([cands, pd.DataFrame([c])]), cfg)
    assert list(trades["opportunity_id"]) == [1, 2]
    # the same symbol twice (limit 1 per symbol), and a venue limit of 1 (binance in use)
    same_sym = _cand(oid=4, t=36 * H, score=9.0)
    venue = _cand(oid=5, t=36 * H, symbol="XRPUSDT", score=8.0)
    wide = EvaluationConfig(max_positions_per_venue=1)
    trades = book_trades(pd.concat([cands, pd.DataFrame([same_sym, venue])]), wide)
    assert list(trades["opportunity_id"]) == [1, 2]
    roomy = EvaluationConfig(max_positions_per_venue=5, max_positions_per_symbol=2, top_k=1)
    trades = book_trades(pd.concat([cands, pd.DataFrame([same_sym, venue])]), roomy)
    assert list(trades["opportunity_id"]) == [1, 4]  # top_k=1: only the best at 36 h
    capped = EvaluationConfig(max_open_positions=1)
    assert list(book_trades(cands, capped)["opportunity_id"]) == [1]
    with pytest.raises(ValueError, match="lack columns"):
        book_trades(cands.drop(columns=["capital_multiple"]), cfg)


def _rows(**extra) -> pd.DataFrame:
    d = pd.DataFrame(
        {
            "opportunity_id": [7, 7, 7, 8, 8, 8],
            "timestamp_ms": [0] * 6,
            "symbol": ["A"] * 3 + ["B"] * 3,
            "strategy": ["spot_perp"] * 3 + ["perp_perp"] * 3,
            "long_market": ["spot"] * 3 + ["perp"] * 3,
            "long_exchange": ["binance"] * 3 + ["bybit"] * 3,
            "short_exchange": ["binance"] * 3 + ["okx"] * 3,
            "hold_hours": [24.0, 168.0, 720.0] * 2,
            "actual_profit_pct": [-0.2, 0.4, 1.2, -0.3, -0.5, -0.4],
            "actual_profit_usd": [-20.0, 40.0, 120.0, -30.0, -50.0, -40.0],
            "total_funding_earned_usd": [5.0, 60.0, 150.0, 1.0, 2.0, 3.0],
            "total_fees_usd": [20.0] * 6,
            "total_slippage_pct": [0.05] * 6,
            "fund_apr": [30.0] * 3 + [80.0] * 3,
            "fund_profit_8h": [0.03] * 3 + [0.07] * 3,
            "fund_profit_3d_proj": [0.5] * 3 + [0.05] * 3,
            "break_even_hours": [10.0] * 3 + [30.0] * 3,
            "bid_ask_spread": [0.01] * 6,
            "round_trip_cost_pct": [0.3] * 6,
            "optimal_hold_hours": [720.0] * 3 + [24.0] * 3,
        }
    )
    return d.assign(**extra)


def test_capital_counts_both_legs_from_the_label_or_the_fallback():
    cfg = EvaluationConfig(perp_leverage=2.0)
    rows = _rows()
    assert capital_multiple(rows, cfg).tolist() == [1.5] * 3 + [1.0] * 3
    assert capital_multiple(rows, EvaluationConfig(perp_leverage=4.0)).tolist() == pytest.approx(
        [1.25] * 3 + [0.5] * 3
    )
    # #11's capital_usd label wins: notional read off profit usd / pct = 10,000
    labelled = rows.assign(capital_usd=[16_000.0] * 3 + [12_000.0] * 3)
    assert capital_multiple(labelled, cfg).tolist() == pytest.approx([1.6] * 3 + [1.2] * 3)
    pos = exit_at_hold(rows[rows["hold_hours"] == 168], cfg)
    assert pos["funding_pct"].tolist() == pytest.approx([0.6, 0.02])
    assert pos["fees_pct"].tolist() == pytest.approx([0.2, 0.2])


def test_signal_exit_liquidation_and_marks_fallback():
    cfg = EvaluationConfig()
    rows = _rows(
        signal_exit_hours=[100.0] * 3 + [30.0] * 3,
        signal_exit_profit_pct=[0.3] * 3 + [-0.35] * 3,
        liquidated=[False] * 5 + [True],
        actual_hold_hours=[24.0, 168.0, 720.0, 24.0, 168.0, 400.0],
    )
    pos = exit_at_signal(rows, np.full(len(rows), 168.0), cfg).set_index("opportunity_id")
    assert pos.loc[7, "exit_hours"] == 100 and pos.loc[7, "realised_pct"] == 0.3
    assert pos.loc[7, "exit_rule"] == "signal" and not pos.loc[7, "liquidated"]
    # an older set has no cost parts at the signal exit: none is borrowed from a hold row
    assert pos.loc[7, "funding_pct"] == 0 and pos.loc[7, "fees_pct"] == 0
    assert pos.loc[7, "price_pnl_pct"] == 0.3
    # opportunity 8's 720 h row was liquidated at 400 h, after its signal exit at 30 h
    assert pos.loc[8, "exit_hours"] == 30 and not pos.loc[8, "liquidated"]
    # no signal labels: the fallback hold, snapped
    old = exit_at_signal(_rows(), np.full(6, 150.0), cfg).set_index("opportunity_id")
    assert (old["exit_hours"] == 168).all() and (old["exit_rule"] == "hold").all()
    # a liquidated hold row ends where the liquidation happened
    liq = exit_at_hold(rows[rows["hold_hours"] == 720], cfg).set_index("opportunity_id")
    assert liq.loc[8, "exit_hours"] == 400 and liq.loc[8, "liquidated"]
    # marks absent: knots are the hold rows (value and funding at each hold)
    knots = position_knots(rows, None, cfg)
    h, v, f = knots[7]
    assert h.tolist() == [24, 168, 720] and v.tolist() == [-0.2, 0.4, 1.2]
    assert f.tolist() == pytest.approx([0.05, 0.6, 1.5])


def test_rule_baselines_enter_by_edge_times_expected_hold():
    cfg = EvaluationConfig(rule_expected_hold_hours=168)
    rows = _rows(
        signal_exit_hours=[100.0] * 3 + [30.0] * 3, signal_exit_profit_pct=[0.3] * 3 + [-0.35] * 3
    )
    carry = baseline_candidates("carry_rule", rows, cfg).set_index("opportunity_id")
    # 0.5 % / 72 h x 168 h = 1.167 % >= 0.3 % round trip: enters; 0.05/72*168 = 0.117: no
    assert carry.loc[7, "enter"] and not carry.loc[8, "enter"]
    assert carry.loc[7, "score"] == pytest.approx(0.5 / 72 * 168 - 0.3)
    assert carry.loc[7, "exit_rule"] == "signal" and carry.loc[7, "exit_hours"] == 100
    apr = baseline_candidates("fund_apr_rank", rows, cfg).set_index("opportunity_id")
    assert apr.loc[8, "score"] > apr.loc[7, "score"] and apr["enter"].tolist() == [True, False]
    # persistence: its own expected hold = median training optimal hold (720 and 24 -> 372)
    per = baseline_candidates("persistence", rows, cfg, train=rows).set_index("opportunity_id")
    assert (per["exit_hours"] == 168).all()  # 372 h snaps to the nearer 168 h
    assert per.loc[7, "score"] == pytest.approx(0.03 / 8 * 168 - 0.3)
    orc = baseline_candidates("hindsight_oracle", rows, cfg).set_index("opportunity_id")
    assert orc.loc[7, "exit_hours"] == 720 and orc.loc[7, "enter"] and not orc.loc[8, "enter"]
    with pytest.raises(ValueError, match="unknown baseline"):
        baseline_candidates("oracle", rows, cfg)


def test_bootstrap_is_arch_seeded_with_an_automatic_block_and_paired():
    cfg = EvaluationConfig(bootstrap_samples=300, bootstrap_seed=3)
    rng = np.random.default_rng(0)
    r = rng.normal(0, 1e-4, 200)
    samples, block = bootstrap(r, cfg)
    assert samples.shape == (300, 2)
    again, _ = bootstrap(r, cfg)
    assert np.array_equal(samples, again)  # seeded
    from arch.bootstrap import optimal_block_length

    assert block == pytest.approx(max(1.0, optimal_block_length(r)["stationary"].iloc[0]))
    # a persistent series gets longer blocks than white noise
    persistent = np.cumsum(rng.normal(0, 1e-5, 200)) * 0.1 + 1e-5
    assert bootstrap(persistent, cfg)[1] > block
    fixed = EvaluationConfig(bootstrap_samples=300, bootstrap_block_days=7)
    assert bootstrap(r, fixed)[1] == 7.0
    circ = EvaluationConfig(bootstrap_samples=300, bootstrap_method="circular")
    assert not np.array_equal(bootstrap(r, circ)[0], samples)
    # a strategy against itself: difference 0, interval [0, 0], not enough evidence
    eq = 100_000 + np.cumsum(np.r_[0, rng.normal(0, 50, 30)])
    trades = {"a": pd.DataFrame(index=range(40)), "b": pd.DataFrame(index=range(40))}
    vs = versus({"a": eq, "b": eq.copy()}, trades, "a", "b", cfg)
    assert vs["diff_ci95"] == [0.0, 0.0] and vs["verdict"] == VERDICT_NONE


def test_verdict_needs_min_trades_and_an_interval_clear_of_zero():
    cfg = EvaluationConfig(min_trades=30)
    assert verdict([0.5, 2.0], 30, cfg) == VERDICT_EDGE
    assert verdict([0.5, 2.0], 29, cfg) == VERDICT_NONE  # too few trades
    assert verdict([-0.5, 2.0], 100, cfg) == VERDICT_NONE  # the interval holds 0
    assert verdict([-2.0, -0.5], 100, cfg) == "worse"


def test_pure_noise_labels_give_intervals_holding_zero_and_no_evidence():
    frame = make_training_frame(days=40, step_minutes=120, leak=True, seed=1)
    cfg = EvaluationConfig(n_folds=3, bootstrap_samples=500)
    bt = evaluate(frame, [MeanFamily], cfg).metrics["backtest"]
    pooled = bt["pooled"]["ridge"]
    assert pooled["trades"] > 10  # it traded: the interval is not the flat book's [0, 0]
    lo, hi = pooled["annual_return_ci95"]
    assert lo <= 0 <= hi, pooled
    slo, shi = pooled["sharpe_ci95"]
    assert slo <= 0 <= shi
    vs = bt["vs_rule"]["ridge"]
    assert vs["diff_ci95"][0] <= 0 <= vs["diff_ci95"][1]
    assert vs["verdict"] == VERDICT_NONE
    assert vs["rule"] in ("carry_rule", "fund_apr_rank", "persistence")


def test_planted_edge_gives_an_interval_above_zero():
    frame = make_training_frame(days=40, step_minutes=120, seed=2)
    rng = np.random.default_rng(2)
    # profit is driven by a feature no rule reads (spread_volatility_cv), plus a little noise
    edge = 2.0 * (frame["spread_volatility_cv"] - 0.3) + rng.normal(0, 0.02, len(frame))
    frame = frame.assign(actual_profit_pct=edge, was_profitable=edge > 0)
    cfg = EvaluationConfig(n_folds=3, bootstrap_samples=500)
    bt = evaluate(frame, [MeanFamily], cfg).metrics["backtest"]
    pooled = bt["pooled"]["ridge"]
    assert pooled["annual_return_ci95"][0] > 0, pooled
    assert pooled["trades"] > 10 and pooled["win_rate"] > 0.8
    vs = bt["vs_rule"]["ridge"]
    assert vs["diff_ci95"][0] > 0 and vs["verdict"] == VERDICT_EDGE
    assert bt["recommended_family"] == "ridge"
