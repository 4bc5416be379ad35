"""Hypothesis property tests of the simulator's invariants, and agreement with the loop oracle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import T0, every, frame, funding, klines, market, opportunity
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sim_loop_reference import simulate_loop

from arbscore.data_tools.costs import CostConfig, FeeConfig, SlippageConfig
from arbscore.data_tools.simulate import SimulationConfig, simulate_executions
from arbscore.schema import LABEL_COLUMNS

H = pd.Timedelta(hours=1)
HOLDS = (1, 4, 8, 12)
PROPS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def cases(draw, constant_prices: bool = False):
    """A two-venue market over ~2 days with drawn intervals, offsets, rates and entries."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    candle = draw(st.sampled_from([5, 60]))
    n = 50 * 60 // candle
    start = T0 - H
    if constant_prices:
        spot = np.full(n, 100.0)
        perp_a = np.full(n, 100.0)
        perp_b = np.full(n, 100.0)
    else:
        spot = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, n)))
        perp_a = spot * (1 + rng.normal(0, 0.001, n))
        perp_b = spot * (1 + rng.normal(0, 0.001, n))
    iv_a, iv_b = draw(st.sampled_from([1, 4, 8])), draw(st.sampled_from([1, 2, 4, 8]))
    off = pd.Timedelta(seconds=draw(st.sampled_from([0, 1, -1, 1800])))
    mark = draw(st.booleans())
    fa = every(iv_a, T0 - 8 * H, T0 + 48 * H) + off
    fb = every(iv_b, T0 - 8 * H, T0 + 48 * H)
    m = market(
        [
            klines("binance", "ETHUSDT", "spot", spot, start, candle),
            klines("binance", "ETHUSDT", "perp", perp_a, start, candle),
            klines("bybit", "ETHUSDT", "perp", perp_b, start, candle),
        ],
        [
            funding(
                "binance",
                "ETHUSDT",
                fa,
                rng.normal(1e-4, 3e-4, len(fa)),
                iv_a,
                101.0 if mark else np.nan,
            ),
            funding("bybit", "ETHUSDT", fb, rng.normal(1e-4, 3e-4, len(fb)), iv_b),
        ],
    )
    steps = draw(st.lists(st.integers(0, 36 * 12), min_size=1, max_size=4, unique=True))
    legs = [
        ("spot_perp", ("binance", "spot"), ("binance", "perp")),
        ("perp_perp", ("binance", "perp"), ("bybit", "perp")),
        ("perp_perp", ("bybit", "perp"), ("binance", "perp")),
    ]
    rows = []
    for k in steps:
        strategy, long, short = legs[draw(st.integers(0, 2))]
        spread = draw(st.tuples(st.floats(0.0005, 0.5), st.floats(0.0005, 0.5)))
        depth = draw(st.tuples(st.floats(1e3, 1e8), st.floats(1e3, 1e8)))
        rows.append(
            opportunity(
                T0 + pd.Timedelta(minutes=5 * k), strategy, "ETHUSDT", long, short, spread, depth
            )
        )
    full = draw(st.booleans())
    return m, frame(rows), full


def _config(full: bool, costs: CostConfig | None = None) -> SimulationConfig:
    return SimulationConfig(
        costs=costs or CostConfig(), holds_hours=HOLDS, horizon_hours=12, full_horizon_only=full
    )


@PROPS
@given(cases())
def test_vectorised_equals_the_loop_reference(case):
    m, opps, full = case
    fast = simulate_executions(opps, m, _config(full))
    slow = simulate_loop(m, opps, CostConfig(), HOLDS, 12, full_horizon_only=full)
    assert len(fast) == len(slow)
    if slow.empty:
        return
    merged = fast.merge(slow, on=["opportunity_id", "hold_hours"], suffixes=("", "_loop"))
    assert len(merged) == len(slow)
    for name in LABEL_COLUMNS:
        if name == "actual_hold_hours":
            continue
        np.testing.assert_allclose(
            merged[name].astype(float),
            merged[f"{name}_loop"].astype(float),
            rtol=1e-9,
            atol=1e-9,
            err_msg=name,
        )


@PROPS
@given(cases())
def test_peak_bounds_profit_bounds_drawdown(case):
    m, opps, full = case
    out = simulate_executions(opps, m, _config(full))
    assert (out["peak_profit"] >= out["actual_profit_pct"] - 1e-12).all()
    assert (out["actual_profit_pct"] >= out["max_drawdown"] - 1e-12).all()
    assert (out["best_profit_pct"] >= out["actual_profit_pct"] - 1e-12).all()
    assert (out["was_profitable"] == (out["actual_profit_pct"] > 0)).all()
    assert (out["actual_hold_hours"] == out["hold_hours"]).all()


@PROPS
@given(cases(), st.floats(1.0, 5.0))
def test_a_higher_fee_never_raises_profit(case, factor):
    m, opps, full = case
    base = CostConfig()
    rates = {k: (t * factor, mk * factor) for k, (t, mk) in base.fees.rates.items()}
    dear = CostConfig(fees=FeeConfig(rates=rates))
    a = simulate_executions(opps, m, _config(full, base))
    b = simulate_executions(opps, m, _config(full, dear))
    assert (b["actual_profit_pct"].to_numpy() <= a["actual_profit_pct"].to_numpy() + 1e-12).all()
    assert (b["total_fees_usd"].to_numpy() >= a["total_fees_usd"].to_numpy() - 1e-12).all()


@PROPS
@given(cases())
def test_swapping_long_and_short_flips_the_funding(case):
    m, opps, full = case
    opps = opps[opps["strategy"] == "perp_perp"]
    if opps.empty:
        return
    swapped = opps.copy()
    for col in ("exchange", "market", "bid_ask_spread", "orderbook_depth"):
        swapped[f"long_{col}"], swapped[f"short_{col}"] = opps[f"short_{col}"], opps[f"long_{col}"]
    a = simulate_executions(opps, m, _config(full))
    b = simulate_executions(swapped, m, _config(full))
    np.testing.assert_allclose(
        b["total_funding_earned_usd"], -a["total_funding_earned_usd"], rtol=1e-12, atol=1e-12
    )
    assert (a["funding_payments_count"].to_numpy() == b["funding_payments_count"].to_numpy()).all()


@PROPS
@given(cases(constant_prices=True))
def test_free_trading_at_a_constant_gap_earns_exactly_the_funding_inside_the_hold(case):
    m, opps, full = case
    free = CostConfig(
        fees=FeeConfig(rates={}, fallback_taker=0.0, fallback_maker=0.0),
        slippage=SlippageConfig(multipliers=(0.0, 0.0, 0.0, 0.0)),
    )
    out = simulate_executions(opps, m, _config(full, free))
    size = free.position_size_usd
    f = m.funding.assign(t=m.funding["funding_time"].astype("datetime64[ms, UTC]"))
    for row in out.itertuples():
        t0, t1 = row.timestamp, row.timestamp + pd.Timedelta(hours=row.hold_hours)
        inside = f[(f["t"] > t0) & (f["t"] <= t1)]
        # price constant: quantity x settlement price = notional, unless a mark price is given
        price = inside["mark_price"].fillna(100.0) / 100.0
        paid = (inside["rate"] * price * size).groupby(inside["exchange"]).sum()
        expected = paid.get(row.short_exchange, 0.0) - (
            paid.get(row.long_exchange, 0.0) if row.long_market == "perp" else 0.0
        )
        assert row.actual_profit_usd == pytest.approx(expected, abs=1e-9)
        assert row.total_funding_earned_usd == pytest.approx(expected, abs=1e-9)
