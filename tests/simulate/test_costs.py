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
