"""Hand-computed carry trades, checked to the cent: a two-week hold, a liquidation on a squeeze,
an hourly-funded leg against an 8-hourly one (three fee modes), a signal exit, daily marks.

The markets have hourly candles with $1e10 of quote volume a day and high = low = close, so at
constant prices the exit's own estimate is the floor spread 0.0005 % (the Abdi-Ranaldo terms are
0) and no impact (0 volatility): 0.00025 % slippage = 0.025 USD per 10,000 of exit notional. They
start a day before the entry.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from builders import T0, every, frame, funding, klines, market, opportunity

from arbscore.data_tools.costs import CostConfig, FeeSchedule
from arbscore.data_tools.exit_rule import SignalExitConfig, should_exit
from arbscore.data_tools.margin import MarginConfig
from arbscore.data_tools.simulate import SimulationConfig, simulate_executions

H = pd.Timedelta(hours=1)
DAILY = 1e10
START = T0 - 25 * H  # first hourly candle opens here; one closes exactly at T0


def hourly(exchange, symbol, mkt, closes, highs=None, lows=None):
    k = klines(exchange, symbol, mkt, closes, START, 60, quote_volume=DAILY / 24)
    if highs is not None:
        k["high"] = highs
    if lows is not None:
        k["low"] = lows
    return k


def spot_perp_opp():
    return frame(
        [
            opportunity(
                T0,
                "spot_perp",
                "BTCUSDT",
                ("binance", "spot"),
                ("binance", "perp"),
                spread_pct=(0.02, 0.01),
            )
        ]
    )


def test_a_two_week_spot_perp_hold():
    """Long spot at 100.00, short perp at 100.10 for 336 h, 0.01 % every 8 h.

    Funding: 42 settlements (08:00 .. day 14 00:00) x q_s x 100.10 x 0.0001 = 42 x 1.00.
    Fees (taker): spot 10.00 in + 10.00 out, perp 5.00 + 5.00 (exit notional = 10,000 at
    constant prices). Slippage: entry 1.00 + 0.50, exit 0.025 + 0.025. Net 42.00 - 30.00 - 1.55
    = 10.45 USD = 0.1045 %; capital 10,000 spot + 5,000 perp margin -> 0.069667 % on capital.
    Daily mark d: 3d payments - 30.00 - 1.55.
    """
    n = 24 * 16
    m = market(
        [
            hourly("binance", "BTCUSDT", "spot", np.full(n, 100.00)),
            hourly("binance", "BTCUSDT", "perp", np.full(n, 100.10)),
        ],
        [funding("binance", "BTCUSDT", every(8, T0 - 72 * H, T0 + 352 * H), 0.0001, 8)],
    )
    config = SimulationConfig(holds_hours=(24, 168, 336), horizon_hours=336)
    out, marks = simulate_executions(spot_perp_opp(), m, config, marks=True)
    row = out.set_index("hold_hours").loc[336]
    assert row["funding_payments_count"] == 42
    assert row["total_funding_earned_usd"] == pytest.approx(42.00, abs=0.005)
    assert row["total_fees_usd"] == pytest.approx(30.00, abs=0.005)
    assert row["total_slippage_pct"] * 100 == pytest.approx(1.55, abs=0.005)
    assert row["actual_profit_usd"] == pytest.approx(10.45, abs=0.005)
    assert row["was_profitable"] and not row["liquidated"]
    assert row["capital_usd"] == pytest.approx(15_000.00)
    assert row["return_on_capital_pct"] == pytest.approx(0.069667, abs=1e-6)
    # the value steps up at every settlement: the last point is the best, and the signal
    # (edge always positive) holds to the cap, the largest hold
    assert row["optimal_hold_hours"] == 336.0
    assert row["best_profit_pct"] == pytest.approx(0.1045, abs=0.00005)
    assert row["signal_exit_hours"] == 336.0
    assert row["signal_exit_profit_pct"] == pytest.approx(0.1045, abs=0.00005)
    assert out.set_index("hold_hours").loc[168, "actual_profit_usd"] == pytest.approx(
        21.00 - 31.55, abs=0.005
    )
    marks = marks.set_index("day")
    assert list(marks.index) == list(range(1, 15))
    for day in (1, 7, 8, 14):
        assert marks.loc[day, "mark_pct"] * 100 == pytest.approx(3 * day - 31.55, abs=0.005)
        assert marks.loc[day, "funding_pct"] * 100 == pytest.approx(3 * day, abs=0.005)


def _squeeze_market():
    n = 24 * 4
    closes = np.full(n, 100.0)
    squeeze = 25 + 29  # the candle opening 29:00 after T0 (candles open from T0 - 25 h)
    perp, highs = closes.copy(), closes.copy()
    perp[squeeze:], highs[squeeze] = 120.0, 160.0
    highs[squeeze + 1 :] = 120.0
    spot = closes.copy()
    spot[squeeze:] = 110.0
    return market(
        [
            hourly("binance", "BTCUSDT", "spot", spot),
            hourly("binance", "BTCUSDT", "perp", perp, highs=highs),
        ],
        [funding("binance", "BTCUSDT", every(8, T0 - 72 * H, T0 + 64 * H), 0.0001, 8)],
    )


def test_a_squeeze_liquidates_an_isolated_short_perp():
    """Spot and perp at 100; the candle closing at 30:00 squeezes the perp to a 160 high
    (close 120) while spot's candle reaches 110. Isolated margin, 2x, Binance maintenance
    0.5 %: the short is liquidated at 100 x 1.5 / 1.005 = 149.253731 (margin 5,000 - loss
    4,925.373134 = 0.5 % of 14,925.37 notional), liquidation fee 0.5 % x 14,925.373134 =
    74.626866 (no exit fee or slippage on that leg). The spot closes at the same instant: the
    perp's 149.253731 scaled by the two candles' highs, 110 / 160 -> 102.611940: +261.194030,
    fee 0.1 % = 10.261194, slippage: half the floor spread (0.00025 %) plus the square-root
    impact: the spot's 24 h volatility is the one jump's log return ln 1.1 (22 flat returns and
    one of ln 1.1 in the window: std x sqrt(23) = ln 1.1), so 1 x 0.095310 x sqrt(10,000 / 1e10)
    = 0.0095310 % -> 10,261.194030 x 0.0097810 % = 1.003649. Funding 08, 16, 24: 3 x 100 x 100 x
    0.0001 = 3.00. Entry fees 15.00, slippage 1.50. The position ends at 30 h: every later
    hold realises the same and reports 30 h.
    """
    config = SimulationConfig(
        holds_hours=(24, 30, 48),
        horizon_hours=48,
        margin=MarginConfig(spot_perp_account="isolated"),
    )
    out = simulate_executions(spot_perp_opp(), _squeeze_market(), config).set_index("hold_hours")
    assert not out.loc[24, "liquidated"]
    hedge = 150 / 1.005 * 110 / 160
    assert hedge == pytest.approx(102.611940, abs=1e-6)
    hedge_slip = 10_261.194030 * (0.0000025 + math.log(1.1) * math.sqrt(10_000 / 1e10))
    assert hedge_slip == pytest.approx(1.003649, abs=1e-6)
    net = 261.194030 - 4_925.373134 + 3.00 - 15.00 - 10.261194 - 74.626866 - 1.50 - hedge_slip
    for hold in (30, 48):
        row = out.loc[hold]
        assert row["liquidated"]
        assert row["actual_hold_hours"] == 30.0
        assert row["actual_profit_usd"] == pytest.approx(net, abs=0.005)
        assert row["funding_payments_count"] == 3
        assert row["total_fees_usd"] == pytest.approx(15.00 + 10.261194 + 74.626866, abs=0.005)
        assert row["price_pnl_pct"] * 100 == pytest.approx(261.194030 - 4_925.373134, abs=0.005)
        assert row["actual_profit_usd"] >= -row["capital_usd"]
        assert row["return_on_capital_pct"] == pytest.approx(net / 15_000 * 100, abs=1e-4)
    assert out.loc[48, "signal_exit_hours"] == 30.0  # the liquidation ends it
    assert out.loc[48, "signal_exit_liquidated"]
    assert out.loc[48, "signal_exit_profit_pct"] == pytest.approx(net / 100, abs=0.00005)


def test_a_unified_account_rides_out_the_squeeze():
    """The same squeeze in a unified account (the default for a same-venue spot_perp): the
    spot (100 coins at 110, 10 % haircut: 9,900) backs the short perp, equity 5,000 + 9,900 -
    6,000 at the 160 high stays far above maintenance, so nothing is liquidated and the 48 h
    hold is an ordinary exit at the market."""
    config = SimulationConfig(holds_hours=(24, 30, 48), horizon_hours=48)
    out = simulate_executions(spot_perp_opp(), _squeeze_market(), config).set_index("hold_hours")
    assert not out["liquidated"].any()
    assert not out["signal_exit_liquidated"].any()
    assert list(out["actual_hold_hours"]) == [24.0, 30.0, 48.0]
    row = out.loc[48]
    # price: spot +1,000, perp -(120 - 100) x 100 = -2,000
    assert row["price_pnl_pct"] * 100 == pytest.approx(-1_000.0, abs=0.005)


def _hourly_vs_8h_market():
    n = 24 * 3
    return market(
        [
            hourly("binance", "SOLUSDT", "perp", np.full(n, 50.0)),
            hourly("hyperliquid", "SOLUSDT", "perp", np.full(n, 50.0)),
        ],
        [
            funding("binance", "SOLUSDT", every(8, T0 - 72 * H, T0 + 40 * H), 0.00005, 8),
            funding("hyperliquid", "SOLUSDT", every(1, T0 - 72 * H, T0 + 40 * H), 0.00002, 1),
        ],
    )


@pytest.mark.parametrize(
    "fees, expected_fees",
    [
        # taker: Binance 0.05 % x 2 = 10.00, Hyperliquid 0.045 % x 2 = 9.00
        (FeeSchedule(), 19.00),
        # maker entry + taker exit: 2.00 + 5.00 and 1.50 + 4.50
        (FeeSchedule(entry_order="maker"), 13.00),
        # BNB: Binance perps 10 % off (0.045 % taker): 9.00 + 9.00
        (FeeSchedule(bnb_discount=True), 18.00),
        # VIP 6 on Hyperliquid: 0.024 % taker x 2 = 4.80; Binance VIP 0
        (FeeSchedule(venue_tiers={"hyperliquid": 6}), 14.80),
    ],
)
def test_an_hourly_leg_against_an_8_hourly_leg(fees, expected_fees):
    """Long Binance SOL perp (0.005 % / 8 h), short Hyperliquid (0.002 % every hour), at 50.

    8 h hold: Hyperliquid pays 8 x 10,000 x 0.00002 = 1.60, Binance charges 0.50 at 08:00:
    1.10 net, 9 settlements. Slippage: entry half the 0.01 % spread + 0.0025 % impact = 0.75
    per fill; exits 0.025 each. Net = 1.10 - fees - 1.55. Capital 2 x 5,000.
    """
    m = _hourly_vs_8h_market()
    opp = frame(
        [
            opportunity(
                T0,
                "perp_perp",
                "SOLUSDT",
                ("binance", "perp"),
                ("hyperliquid", "perp"),
                impact_pct=(0.0025, 0.0025),
            )
        ]
    )
    config = SimulationConfig(costs=CostConfig(fees=fees), holds_hours=(1, 8), horizon_hours=8)
    out = simulate_executions(opp, m, config).set_index("hold_hours")
    row = out.loc[8]
    assert row["funding_payments_count"] == 9
    assert row["total_funding_earned_usd"] == pytest.approx(1.10, abs=0.005)
    assert row["total_fees_usd"] == pytest.approx(expected_fees, abs=0.005)
    assert row["total_slippage_pct"] * 100 == pytest.approx(1.55, abs=0.005)
    assert row["actual_profit_usd"] == pytest.approx(1.10 - expected_fees - 1.55, abs=0.005)
    assert row["capital_usd"] == pytest.approx(10_000.0)
    one = out.loc[1]
    assert one["funding_payments_count"] == 1
    assert one["actual_profit_usd"] == pytest.approx(0.20 - expected_fees - 1.55, abs=0.005)


def test_the_signal_exit_leaves_when_the_trailing_edge_turns():
    """Spot/perp at 100 (no basis), 0.01 % every 8 h until 48:00, then -0.03 %.

    Trailing 72 h edge at the checks: 56:00 -> 8 x 0.01 - 0.03 = 0.05 %; 64:00 -> 7 x 0.01 -
    0.06 = 0.01 %; 72:00 -> 6 x 0.01 - 0.09 = -0.03 % <= 0: exit at 72 h. Funding to then:
    6 x 1.00 - 3 x 3.00 = -3.00; costs 30.00 fees + 1.50 + 0.05 slippage -> -34.55 USD,
    -0.3455 % of notional, -0.230333 % of the 15,000 capital.
    """
    n = 24 * 9
    times = every(8, T0 - 72 * H, T0 + 200 * H)
    rates = np.where(times <= T0 + 48 * H, 0.0001, -0.0003)
    m = market(
        [
            hourly("binance", "BTCUSDT", "spot", np.full(n, 100.0)),
            hourly("binance", "BTCUSDT", "perp", np.full(n, 100.0)),
        ],
        [funding("binance", "BTCUSDT", times, rates, 8)],
    )
    config = SimulationConfig(holds_hours=(24, 72, 168), horizon_hours=168)
    out = simulate_executions(spot_perp_opp(), m, config).set_index("hold_hours")
    row = out.loc[168]
    assert row["signal_exit_hours"] == 72.0
    assert row["signal_exit_profit_pct"] == pytest.approx(-0.3455, abs=0.00005)
    assert row["signal_exit_return_on_capital_pct"] == pytest.approx(-0.230333, abs=1e-6)
    assert out.loc[72, "actual_profit_usd"] == pytest.approx(-34.55, abs=0.005)
    # the signal exit's parts, booked at its own values: funding -3.00, fees 30.00, slippage
    # 1.55, no price move
    assert row["signal_exit_funding_pct"] * 100 == pytest.approx(-3.00, abs=0.005)
    assert row["signal_exit_fees_pct"] * 100 == pytest.approx(30.00, abs=0.005)
    assert row["signal_exit_slippage_pct"] * 100 == pytest.approx(1.55, abs=0.005)
    assert row["signal_exit_price_pnl_pct"] == pytest.approx(0.0, abs=1e-12)
    parts = (
        row["signal_exit_funding_pct"]
        - row["signal_exit_fees_pct"]
        - row["signal_exit_slippage_pct"]
        + row["signal_exit_price_pnl_pct"]
    )
    assert parts == pytest.approx(row["signal_exit_profit_pct"], abs=1e-9)
    assert not row["signal_exit_liquidated"]
    # the same rule as a scalar function (what /exit-signal and the baselines call)
    assert should_exit(-0.03, 72.0)
    assert not should_exit(0.01, 64.0)
    assert should_exit(0.01, 168.0, max_hold_hours=168.0)
    # a stricter rule (exit once the edge is below 0.02 %) leaves at 64 h
    strict = SimulationConfig(
        holds_hours=(24, 72, 168),
        horizon_hours=168,
        signal_exit=SignalExitConfig(exit_edge_pct=0.02),
    )
    early = simulate_executions(spot_perp_opp(), m, strict)
    assert early["signal_exit_hours"].iloc[0] == 64.0


def _rally_market():
    """Binance and Bybit perps on one path: 100 until entry, +1.25 an hour after it, and the
    candle closing at 41:00 wicks to 205 on both."""
    n = 25 + 60
    hours = np.arange(n) - 24  # the candle closing at T0 + h has index 24 + h
    closes = np.where(hours > 0, 100.0 + 1.25 * hours, 100.0)
    highs = closes.copy()
    highs[24 + 41] = 205.0
    times = every(8, T0 - 72 * H, T0 + 64 * H)
    return market(
        [
            hourly("binance", "SOLUSDT", "perp", closes, highs=highs),
            hourly("bybit", "SOLUSDT", "perp", closes, highs=highs),
        ],
        [funding("binance", "SOLUSDT", times, 0.0, 8), funding("bybit", "SOLUSDT", times, 0.0, 8)],
    )


def test_cross_venue_margin_rebalanced_every_hour():
    """Long Binance, short Bybit SOL perp at 100, 2x: isolated, the short is liquidated when
    the rally's close reaches 150 at 40:00 (P_liq = 100 x 1.5 / 1.005 = 149.25). Rebalanced
    every hour, the long's gain refills the short's margin: at the 40:00 rebalance both legs
    sit at 150, the pair's PnL is 0, each leg holds 5,000, so the short's liquidation price is
    (5,000 + 100 x 150) / (100 x 1.005) = 199.004975 and only the 205 wick of the candle closing
    at 41:00 takes it. The long closes at the same instant at the same price (one path): no
    price PnL; fees 5.00 + 5.50 in, liquidation fee 0.5 % x 19,900.50 = 99.502488, the long's
    exit 0.05 % x 19,900.50 = 9.950249."""
    opp = frame([opportunity(T0, "perp_perp", "SOLUSDT", ("binance", "perp"), ("bybit", "perp"))])
    isolated = SimulationConfig(holds_hours=(24, 48), horizon_hours=48)
    out = simulate_executions(opp, _rally_market(), isolated).set_index("hold_hours")
    assert out.loc[48, "liquidated"] and out.loc[48, "actual_hold_hours"] == 40.0
    rebalanced = SimulationConfig(
        holds_hours=(24, 48), horizon_hours=48, margin=MarginConfig(cross_venue_rebalance_hours=1)
    )
    row = simulate_executions(opp, _rally_market(), rebalanced).set_index("hold_hours").loc[48]
    assert row["liquidated"] and row["actual_hold_hours"] == 41.0
    p_liq = 20_000 / 100.5
    assert row["price_pnl_pct"] == pytest.approx(0.0, abs=1e-9)
    fees = 10.50 + 100 * p_liq * 0.005 + 100 * p_liq * 0.0005
    assert fees == pytest.approx(10.50 + 99.502488 + 9.950249, abs=1e-6)
    assert row["fees_pct"] * 100 == pytest.approx(fees, abs=0.005)
    with pytest.raises(ValueError, match="whole hours"):
        MarginConfig(cross_venue_rebalance_hours=1.5)
