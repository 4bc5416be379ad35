"""The fee schedule and the one round-trip cost: published rates, tiers, BNB, slippage growth."""

from __future__ import annotations

import numpy as np
import pytest

from arbscore.data_tools.costs import (
    CostConfig,
    FeeSchedule,
    SlippageConfig,
    round_trip_cost_pct,
)
from arbscore.data_tools.liquidity import (
    SPREAD_ESTIMATORS,
    LiquidityModel,
    abdi_ranaldo_spread_terms,
    corwin_schultz_spreads,
    square_root_impact,
    trailing_spread_pct,
)


@pytest.mark.parametrize(
    "venue, market, taker, maker",
    [
        ("binance", "perp", 0.0005, 0.0002),
        ("bybit", "perp", 0.00055, 0.0002),
        ("okx", "perp", 0.0005, 0.0002),
        ("hyperliquid", "perp", 0.00045, 0.00015),
        ("binance", "spot", 0.0010, 0.0010),
        ("bybit", "spot", 0.0010, 0.0010),
        ("okx", "spot", 0.0010, 0.0008),
        ("hyperliquid", "spot", 0.0007, 0.0004),
    ],
)
def test_vip0_rates_are_the_published_ones(venue, market, taker, maker):
    fees = FeeSchedule()
    assert fees.rate(venue, market, "entry") == taker
    assert FeeSchedule(entry_order="maker").rate(venue, market, "entry") == maker
    assert FeeSchedule(entry_order="maker").rate(venue, market, "exit") == taker


def test_tiers_bnb_and_unknown_venues():
    assert FeeSchedule(tier=9).rate("binance", "perp") == pytest.approx(0.00017)
    assert FeeSchedule(tier=6).rate("hyperliquid", "perp") == pytest.approx(0.00024)
    top = FeeSchedule(tier=6, entry_order="maker")
    assert top.rate("hyperliquid", "perp") == 0.0
    assert FeeSchedule(tier=6).rate("bybit", "perp") == 0.00055  # one tier listed: its VIP 0
    bnb = FeeSchedule(bnb_discount=True)
    assert bnb.rate("binance", "perp") == pytest.approx(0.00045)
    assert bnb.rate("binance", "spot") == pytest.approx(0.00075)
    assert bnb.rate("bybit", "perp") == 0.00055  # BNB is Binance's only
    assert FeeSchedule().rate("kraken", "perp") == 0.001
    with pytest.raises(ValueError, match="entry_order"):
        FeeSchedule(entry_order="vip")
    with pytest.raises(ValueError, match="fees.rates"):
        FeeSchedule(rates={("binance", "perp"): (0.5, 0.1)})


def test_round_trip_is_four_fills_with_half_the_spread_each():
    costs = CostConfig()
    # spot_perp at Binance, taker: 0.10 + 0.10 + 0.05 + 0.05 fees, spreads 0.02 / 0.01 crossed
    cost = round_trip_cost_pct(costs, "binance", "spot", "binance", "perp", 0.02, 0.01)
    assert cost[0] == pytest.approx(0.30 + 0.02 + 0.01)
    maker_in = CostConfig(fees=FeeSchedule(entry_order="maker"))
    cost = round_trip_cost_pct(maker_in, "binance", "perp", "bybit", "perp", 0.0, 0.0)
    assert cost[0] == pytest.approx(0.02 + 0.05 + 0.02 + 0.055)
    exit_only = round_trip_cost_pct(
        costs, "binance", "perp", "bybit", "perp", 0.02, 0.02, fills=("exit",)
    )
    assert exit_only[0] == pytest.approx(0.05 + 0.055 + 0.02)
    arrays = round_trip_cost_pct(
        costs, np.array(["binance", "okx"]), "perp", "bybit", "perp", np.zeros(2), 0.0
    )
    assert arrays == pytest.approx([0.21, 0.21])
    empty = round_trip_cost_pct(costs, np.array([]), np.array([]), "x", "perp", np.zeros(0), 0.0)
    assert empty.shape == (0,)


def test_slippage_grows_linearly_past_the_last_tier():
    s = SlippageConfig()
    depth = 10_000 / np.array([0.005, 0.03, 0.07, 0.10, 0.2, 1.0])
    assert s.multiplier(10_000, depth) == pytest.approx([1.0, 1.5, 2.5, 5.0, 10.0, 50.0])
    flat = SlippageConfig(grow_beyond_last=False)
    assert flat.multiplier(10_000, depth)[-1] == 5.0


def _quoted_candles(spread: float, n: int = 3_000, ticks: int = 60, seed: int = 0):
    """Candles of trades at mid x (1 +/- spread / 2), the mid a random walk: a market whose
    true spread is ``spread`` (a fraction)."""
    rng = np.random.default_rng(seed)
    mid = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.0004, n * ticks)))
    side = rng.choice([-1.0, 1.0], n * ticks)
    trades = (mid * (1.0 + side * spread / 2.0)).reshape(n, ticks)
    return trades[:, -1], trades.max(axis=1), trades.min(axis=1)


@pytest.mark.parametrize("estimator", SPREAD_ESTIMATORS)
def test_the_candle_estimators_recover_a_known_spread(estimator):
    """Both published estimators find the spread of a quoted market from its candles alone
    (within 30 %), and a wider book reads wider."""
    model = LiquidityModel(spread_estimator=estimator, spread_window_hours=10_000)
    times = np.arange(3_000, dtype=np.int64) * 3_600_000 + 3_600_000
    found = []
    for spread in (0.002, 0.006):
        close, high, low = _quoted_candles(spread)
        pct = trailing_spread_pct(times, close, high, low, times[-1:], model)[0]
        assert pct == pytest.approx(spread * 100, rel=0.3)
        found.append(pct)
    assert found[1] > 2 * found[0]


def test_abdi_ranaldo_and_corwin_schultz_by_hand():
    close, high, low = np.array([100.0, 101.0]), np.array([101.0, 102.0]), np.array([99.0, 99.5])
    eta0, eta1 = (np.log(101) + np.log(99)) / 2, (np.log(102) + np.log(99.5)) / 2
    ar = abdi_ranaldo_spread_terms(close, high, low)
    assert np.isnan(ar[0])
    assert ar[1] == pytest.approx(4 * (np.log(100) - eta0) * (np.log(100) - eta1))
    cs = corwin_schultz_spreads(np.array([101.0, 101.5]), np.array([99.0, 99.6]))
    beta = np.log(101 / 99) ** 2 + np.log(101.5 / 99.6) ** 2
    gamma = np.log(101.5 / 99.0) ** 2
    k = 3 - 2 * np.sqrt(2)
    alpha = (np.sqrt(2 * beta) - np.sqrt(beta)) / k - np.sqrt(gamma / k)
    assert cs[1] == pytest.approx(max(2 * (np.exp(alpha) - 1) / (1 + np.exp(alpha)), 0.0))


def test_a_short_history_reads_the_widest_spread_and_nothing_looks_ahead():
    model = LiquidityModel()
    close, high, low = _quoted_candles(0.004, n=50)
    times = np.arange(50, dtype=np.int64) * 3_600_000
    at = trailing_spread_pct(times, close, high, low, times, model)
    assert at[0] == at[2] == model.max_spread_pct  # fewer than 3 pairs
    # changing a later candle leaves every earlier estimate as it was
    high2 = high.copy()
    high2[40] *= 1.5
    again = trailing_spread_pct(times, close, high2, low, times, model)
    np.testing.assert_array_equal(again[:40], at[:40])
    assert again[40] != at[40]


def test_square_root_impact():
    """impact = Y sigma sqrt(Q / V): 5 % daily volatility, $10k into $100M a day -> 0.05 %;
    4x the size doubles it; unknown volatility uses the fallback; no volume hits the cap."""
    model = LiquidityModel()
    assert square_root_impact(10_000, 5.0, 1e8, model) == pytest.approx(0.0005)
    assert square_root_impact(40_000, 5.0, 1e8, model) == pytest.approx(0.001)
    assert square_root_impact(10_000, np.nan, 1e8, model) == pytest.approx(
        model.fallback_volatility_pct / 100 * 0.01
    )
    assert square_root_impact(10_000, 5.0, 0.0, model) == model.max_impact_pct / 100
    half = LiquidityModel(impact_coefficient=0.5)
    assert square_root_impact(10_000, 5.0, 1e8, half) == pytest.approx(0.00025)
    costs = CostConfig()
    rate = costs.estimated_slippage_rate(0.02, 5.0, 1e8)
    assert rate == pytest.approx(0.0001 + 0.0005)
    with pytest.raises(ValueError, match="spread_estimator"):
        LiquidityModel(spread_estimator="roll")
