"""Hypothesis property tests of the simulator's invariants, and agreement with the loop oracle."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from builders import T0, every, frame, funding, klines, market, opportunity
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sim_loop_reference import simulate_loop

from arbscore.data_tools.costs import CostConfig, FeeSchedule, LiquidityModel
from arbscore.data_tools.exit_rule import SignalExitConfig
from arbscore.data_tools.margin import MarginConfig
from arbscore.data_tools.simulate import SimulationConfig, simulate_executions
from arbscore.schema import LABEL_COLUMNS, MARK_COLUMNS

H = pd.Timedelta(hours=1)
HOLDS = (1, 4, 8, 12)
VOLUMES = st.sampled_from([1e5, 1e7, 1e9])
# no shrinking: a failing case is printed as drawn (shrinking a market takes minutes)
PHASES = (Phase.explicit, Phase.reuse, Phase.generate)
PROPS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], phases=PHASES
)


@st.composite
def cases(draw, constant_prices: bool = False, days: float = 50 / 24):
    """A two-venue market over ``days`` with drawn intervals, offsets, rates and entries."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    candle = draw(st.sampled_from([5, 60]))
    n = int(days * 24 * 60) // candle
    start = T0 - H
    if constant_prices:
        spot = np.full(n, 100.0)
        perp_a = np.full(n, 100.0)
        perp_b = np.full(n, 100.0)
    else:
        spot = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, n)))
        perp_a = spot * (1 + rng.normal(0, 0.001, n))
        perp_b = spot * (1 + rng.normal(0, 0.001, n))
    wick = np.abs(rng.normal(0, 0.004, (3, n))) if not constant_prices else np.zeros((3, n))
    iv_a, iv_b = draw(st.sampled_from([1, 4, 8])), draw(st.sampled_from([1, 2, 4, 8]))
    off = pd.Timedelta(seconds=draw(st.sampled_from([0, 1, -1, 1800])))
    mark = draw(st.booleans())
    last = T0 + (days * 24 - 2) * H
    fa = every(iv_a, T0 - 8 * H, last) + off
    fb = every(iv_b, T0 - 8 * H, last)
    parts = []
    for (ex, mk, closes), w in zip(
        [("binance", "spot", spot), ("binance", "perp", perp_a), ("bybit", "perp", perp_b)],
        wick,
        strict=True,
    ):
        k = klines(ex, "ETHUSDT", mk, closes, start, candle, quote_volume=draw(VOLUMES))
        k["high"], k["low"] = closes * (1 + w), closes * (1 - w)
        parts.append(k)
    m = market(
        parts,
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
    max_entry = 36 * 12 if days < 3 else 6 * 12
    steps = draw(st.lists(st.integers(0, max_entry), min_size=1, max_size=4, unique=True))
    legs = [
        ("spot_perp", ("binance", "spot"), ("binance", "perp")),
        ("perp_perp", ("binance", "perp"), ("bybit", "perp")),
        ("perp_perp", ("bybit", "perp"), ("binance", "perp")),
    ]
    rows = []
    for k in steps:
        strategy, long, short = legs[draw(st.integers(0, 2))]
        spread = draw(st.tuples(st.floats(0.0005, 0.5), st.floats(0.0005, 0.5)))
        impact = draw(st.tuples(st.floats(0.0, 0.05), st.floats(0.0, 0.05)))
        rows.append(
            opportunity(
                T0 + pd.Timedelta(minutes=5 * k), strategy, "ETHUSDT", long, short, spread, impact
            )
        )
    full = draw(st.booleans())
    return m, frame(rows), full


def _config(
    full: bool,
    costs: CostConfig | None = None,
    margin: MarginConfig | None = None,
    holds: tuple[int, ...] = HOLDS,
    horizon: int = 12,
    signal: SignalExitConfig | None = None,
    delay: int = 0,
) -> SimulationConfig:
    return SimulationConfig(
        hedge_close_delay_minutes=delay,
        costs=costs or CostConfig(),
        holds_hours=holds,
        horizon_hours=horizon,
        full_horizon_only=full,
        margin=margin or MarginConfig(),
        signal_exit=signal or SignalExitConfig(),
    )


def _agree(m, opps, config: SimulationConfig) -> None:
    fast, fast_marks = simulate_executions(opps, m, config, marks=True)
    slow_marks: list = []
    slow = simulate_loop(
        m,
        opps,
        config.costs,
        config.holds_hours,
        config.horizon_hours,
        full_horizon_only=config.full_horizon_only,
        margin=config.margin,
        signal=config.signal_exit,
        marks=slow_marks,
        hedge_close_delay_minutes=config.hedge_close_delay_minutes,
        estimated=m.estimated_series,
    )
    assert len(fast) == len(slow)
    if slow.empty:
        return
    merged = fast.merge(slow, on=["opportunity_id", "hold_hours"], suffixes=("", "_loop"))
    assert len(merged) == len(slow)
    for name in LABEL_COLUMNS:
        np.testing.assert_allclose(
            merged[name].astype(float),
            merged[f"{name}_loop"].astype(float),
            rtol=1e-9,
            atol=1e-9,
            err_msg=name,
        )
    slow_marks = pd.DataFrame(slow_marks, columns=list(MARK_COLUMNS))
    assert len(fast_marks) == len(slow_marks)
    both = fast_marks.merge(slow_marks, on=["opportunity_id", "day"], suffixes=("", "_loop"))
    assert len(both) == len(slow_marks)
    for name in ("mark_pct", "funding_pct"):
        np.testing.assert_allclose(
            both[name].astype(float), both[f"{name}_loop"].astype(float), rtol=1e-9, atol=1e-9
        )


ACCOUNTS = st.tuples(
    st.sampled_from(["unified", "isolated"]),
    st.sampled_from([0.1, 0.97, 0.995]),
    st.sampled_from([None, None, 1.0, 3.0]),
)


@PROPS
@given(
    cases(),
    st.sampled_from([1.0, 2.0, 20.0, 50.0]),
    st.sampled_from([0.0, -0.01, 0.02]),
    ACCOUNTS,
    st.sampled_from([0, 0, 10]),
)
def test_vectorised_equals_the_loop_reference(case, leverage, exit_edge, account, delay):
    """Labels, exit parts, liquidations (high leverage liquidates on the wicks; a unified
    spot_perp account with a near-total haircut does too; perp_perp margin isolated or
    rebalanced every 1 or 3 h), the hedge at the same instant or ``delay`` minutes later,
    signal exits and marks."""
    m, opps, full = case
    config = _config(
        full,
        margin=MarginConfig(
            leverage=leverage,
            spot_perp_account=account[0],
            spot_collateral_haircut=account[1],
            cross_venue_rebalance_hours=account[2],
        ),
        signal=SignalExitConfig(window_hours=8, exit_edge_pct=exit_edge),
        delay=delay,
    )
    _agree(m, opps, config)


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow], phases=PHASES
)
@given(cases(days=8.2), st.sampled_from([2.0, 50.0]))
def test_the_loop_reference_agrees_on_the_hourly_path_past_a_week(case, leverage):
    """Past 168 h the path is hourly: holds, optimum, liquidation and marks still agree."""
    m, opps, full = case
    holds = (1, 24, 168, 170, 190)
    _agree(m, opps, _config(full, margin=MarginConfig(leverage=leverage), holds=holds, horizon=190))


@PROPS
@given(cases())
def test_peak_bounds_profit_bounds_drawdown(case):
    m, opps, full = case
    out = simulate_executions(opps, m, _config(full))
    assert (out["peak_profit"] >= out["actual_profit_pct"] - 1e-12).all()
    assert (out["actual_profit_pct"] >= out["max_drawdown"] - 1e-12).all()
    assert (out["best_profit_pct"] >= out["actual_profit_pct"] - 1e-12).all()
    assert (out["was_profitable"] == (out["actual_profit_pct"] > 0)).all()
    liq = out["liquidated"].to_numpy()
    assert (out["actual_hold_hours"][~liq] == out["hold_hours"][~liq]).all()
    assert (out["actual_hold_hours"][liq] <= out["hold_hours"][liq]).all()


@PROPS
@given(cases(), st.floats(1.0, 5.0))
def test_a_higher_fee_never_raises_profit(case, factor):
    m, opps, full = case
    base = CostConfig()
    rates = {
        k: tuple((t * factor, mk * factor) for t, mk in tiers)
        for k, tiers in base.fees.rates.items()
    }
    dear = CostConfig(fees=FeeSchedule(rates=rates))
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
    for col in ("exchange", "market", "bid_ask_spread", "impact_pct"):
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
        fees=FeeSchedule(rates={}, fallback_taker=0.0, fallback_maker=0.0),
        liquidity=LiquidityModel(min_spread_pct=0.0, max_spread_pct=0.0, impact_coefficient=0.0),
    )
    opps = opps.assign(
        long_bid_ask_spread=0.0, short_bid_ask_spread=0.0, long_impact_pct=0.0, short_impact_pct=0.0
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


@PROPS
@given(cases(), st.sampled_from([1.0, 2.0, 10.0, 50.0]))
def test_each_settlement_is_counted_once_per_leg(case, leverage):
    """The count is the legs' settlements in (entry, exit], the exit being the liquidation
    when one came first; funding frozen there too."""
    m, opps, full = case
    out = simulate_executions(opps, m, _config(full, margin=MarginConfig(leverage=leverage)))
    f = m.funding.assign(t=m.funding["funding_time"].astype("datetime64[ms, UTC]"))
    by_venue = {ex: part["t"] for ex, part in f.groupby("exchange")}
    for row in out[~out["liquidated"]].itertuples():
        t0, t1 = row.timestamp, row.timestamp + pd.Timedelta(hours=row.hold_hours)
        legs = [(row.short_exchange, "perp"), (row.long_exchange, row.long_market)]
        expected = sum(
            int(((by_venue[ex] > t0) & (by_venue[ex] <= t1)).sum())
            for ex, mk in legs
            if mk == "perp"
        )
        assert row.funding_payments_count == expected
    # after a liquidation nothing changes: every later hold of the same position is identical
    liq = out[out["liquidated"]]
    for _, part in liq.groupby("opportunity_id"):
        assert part["actual_profit_usd"].nunique() == 1
        assert part["funding_payments_count"].nunique() == 1


@PROPS
@given(cases(), st.sampled_from([1.0, 2.0, 10.0, 50.0]))
def test_no_position_loses_more_than_its_capital_and_roc_matches_pnl(case, leverage):
    """At ordinary costs (0.01 % spreads, 0.001 % impact, $1e9 candles) a position, liquidated or
    not, never loses more than both legs' margin; return on capital is PnL / capital."""
    m, opps, full = case
    m = dataclasses.replace(m, klines=m.klines.assign(quote_volume=1e9))
    opps = opps.assign(
        long_bid_ask_spread=0.01,
        short_bid_ask_spread=0.01,
        long_impact_pct=0.001,
        short_impact_pct=0.001,
    )
    margin = MarginConfig(leverage=leverage)
    out = simulate_executions(opps, m, _config(full, margin=margin))
    assert (out["actual_profit_usd"] >= -out["capital_usd"]).all()
    size = CostConfig().position_size_usd
    legs = np.where(out["long_market"] == "spot", size, size / leverage) + size / leverage
    np.testing.assert_allclose(out["capital_usd"], legs, rtol=1e-12)
    np.testing.assert_allclose(
        out["return_on_capital_pct"],
        out["actual_profit_usd"] / out["capital_usd"] * 100,
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        out["signal_exit_return_on_capital_pct"],
        out["signal_exit_profit_pct"] * size / out["capital_usd"],
        rtol=1e-9,
    )
    assert (out["signal_exit_hours"].dropna() <= max(HOLDS)).all()


@PROPS
@given(cases(), st.sampled_from([2.0, 50.0]), ACCOUNTS)
def test_every_exit_is_the_sum_of_its_parts(case, leverage, account):
    """funding - fees - slippage + price PnL = profit, for every hold and the signal exit,
    liquidated or not; a liquidation ends the position (hours to it, not the hold)."""
    m, opps, full = case
    margin = MarginConfig(
        leverage=leverage, spot_perp_account=account[0], spot_collateral_haircut=account[1]
    )
    out = simulate_executions(opps, m, _config(full, margin=margin))
    parts = out["funding_pct"] - out["fees_pct"] - out["slippage_pct"] + out["price_pnl_pct"]
    np.testing.assert_allclose(parts, out["actual_profit_pct"], rtol=0, atol=1e-9)
    sig = (
        out["signal_exit_funding_pct"]
        - out["signal_exit_fees_pct"]
        - out["signal_exit_slippage_pct"]
        + out["signal_exit_price_pnl_pct"]
    )
    np.testing.assert_allclose(sig, out["signal_exit_profit_pct"], rtol=0, atol=1e-9)
    liq = out["liquidated"].to_numpy()
    assert (out["actual_hold_hours"][liq] < out["hold_hours"][liq] + 1e-12).all()
    assert (out["actual_hold_hours"][~liq] == out["hold_hours"][~liq]).all()
    # a signal exit marked liquidated ends where the liquidation of the longest hold does
    last = out.sort_values("hold_hours").groupby("opportunity_id").tail(1)
    ended = last[last["signal_exit_liquidated"]]
    assert (ended["signal_exit_hours"] == ended["actual_hold_hours"]).all()
