"""Hand-computed positions, one per strategy, checked to the cent."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from builders import T0, every, frame, funding, klines, market, opportunity

from arbscore.data_tools.costs import CostConfig
from arbscore.data_tools.simulate import SimulationConfig, simulate_executions

H = pd.Timedelta(hours=1)
STEPS = 12 * 24 * 3  # three days of 5-minute candles
PRE = 12 * 24  # a day of candles before T0: the exit's 24 h volume estimate is settled


def _early(values: np.ndarray) -> np.ndarray:
    """``values`` from T0 on, with a day of the first value before (candles from T0 - 24 h)."""
    return np.concatenate([np.full(PRE, values[0]), values])


def _spot_perp_market():
    # spot 100.00 and perp 100.10 until 20:00, then both 102.00 (candles close 5 min after open)
    switch = 12 * 20 - 1  # the candle opening 19:55 closes at 20:00 with the new price
    spot = np.where(np.arange(STEPS) < switch, 100.00, 102.00)
    perp = np.where(np.arange(STEPS) < switch, 100.10, 102.00)
    start = T0 - pd.Timedelta(minutes=5 * (PRE + 1))  # a close exactly at T0
    return market(
        [
            klines("binance", "BTCUSDT", "spot", _early(spot), start=start),
            klines("binance", "BTCUSDT", "perp", _early(perp), start=start),
        ],
        [funding("binance", "BTCUSDT", every(8, T0, T0 + 56 * H), [0.0001] * 8, 8)],
    )


def test_spot_perp_hand_case_to_the_cent():
    """Long 10,000 USD of spot at 100.00, short 10,000 USD of perp at 100.10, hold 24 h.

    Funding at 08:00 and 16:00 is paid on the perp price 100.10: q_short = 10000 / 100.10,
    each payment q_short x 100.10 x 0.0001 = 1.00; at 00:00 the next day on 102.00:
    q_short x 102 x 0.0001 = 1.018981. The 00:00 settlement at entry is not received.
    Price: long +100 x 2.00 = +200.00; short -(10000 / 100.10) x 1.90 = -189.810190.
    Fees (Binance taker: spot 0.10 %, perp 0.05 %): entry 10.00 + 5.00; exit 100 x 102 x 0.001
    = 10.20 and 99.9001 x 102 x 0.0005 = 5.094905.
    Slippage (spread 0.02 % / 0.01 %, no impact given): entry 1.00 + 0.50; the exit at the exit
    time's own estimate: flat candles (high = low = close) give the floor spread 0.0005 %, half
    of it on 10200 = 0.0255 and on 10189.81 = 0.025475, plus the square-root impact: the one
    jump in the 24 h window makes each leg's daily volatility its log return (ln 1.02 and
    ln(102 / 100.10)), $1e9 per 5-minute candle is $288e9 a day, so 1 x sigma x sqrt(10,000 /
    288e9): 0.037638 on the spot and 0.035703 on the perp.
    """
    m = _spot_perp_market()
    opp = frame(
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
    config = SimulationConfig(holds_hours=(1, 24), horizon_hours=24)
    out = simulate_executions(opp, m, config).set_index("hold_hours")
    q_short = 10_000 / 100.10
    funding_usd = 1.00 + 1.00 + q_short * 102 * 0.0001
    price_pnl = 200.00 - q_short * 1.90
    fees = 15.00 + 10.20 + q_short * 102 * 0.0005
    root = math.sqrt(10_000 / 288e9)
    impact = 10_200 * math.log(1.02) * root + q_short * 102 * math.log(102 / 100.10) * root
    assert impact == pytest.approx(0.037638 + 0.035703, abs=2e-6)
    slippage = 1.50 + (10_200 + q_short * 102) * 0.0000025 + impact
    assert funding_usd == pytest.approx(3.018981, abs=1e-6)
    assert fees == pytest.approx(30.294905, abs=1e-6)
    row = out.loc[24]
    assert row["total_funding_earned_usd"] == pytest.approx(3.02, abs=0.005)
    assert row["total_fees_usd"] == pytest.approx(30.29, abs=0.005)
    assert row["total_slippage_pct"] * 100 == pytest.approx(1.62, abs=0.005)  # USD on 10,000
    assert row["funding_payments_count"] == 3
    net = price_pnl + funding_usd - fees - slippage
    assert net == pytest.approx(-18.710429, abs=2e-6)
    assert row["actual_profit_usd"] == pytest.approx(-18.71, abs=0.005)
    assert row["actual_profit_pct"] == pytest.approx(-0.1871, abs=0.00005)
    # the exit in parts, to the cent
    assert row["price_pnl_pct"] * 100 == pytest.approx(price_pnl, abs=0.005)
    assert row["funding_pct"] * 100 == pytest.approx(funding_usd, abs=0.005)
    assert row["fees_pct"] * 100 == pytest.approx(fees, abs=0.005)
    assert row["slippage_pct"] * 100 == pytest.approx(slippage, abs=0.005)
    assert not row["was_profitable"]
    # the path: before 08:00 the value is -costs: entry 16.50 + exit at 100/100.10 (15.00 + 0.05)
    assert row["max_drawdown"] == pytest.approx(-31.55 / 100, abs=0.00005)
    # from 20:00 the value is price_pnl + 2 payments - costs; the 00:00 payment lifts it again
    at_20h = price_pnl + 2.00 - fees - slippage
    assert at_20h < net
    assert row["peak_profit"] == pytest.approx(net / 100, abs=0.00005)
    assert row["optimal_hold_hours"] == pytest.approx(24.0)
    assert row["best_profit_pct"] == pytest.approx(net / 100, abs=0.00005)
    one = out.loc[1]  # 00:00 -> 01:00: no settlement, just the round trip at constant prices
    assert one["funding_payments_count"] == 0
    assert one["actual_profit_usd"] == pytest.approx(-31.55, abs=0.005)
    assert not row["liquidated"] and row["capital_usd"] == pytest.approx(15_000.0)  # 10k + 10k/2
    assert row["return_on_capital_pct"] == pytest.approx(net / 15_000 * 100, abs=1e-9)


def _perp_perp_market(bybit_offset: pd.Timedelta | None = None):
    bybit_offset = bybit_offset if bybit_offset is not None else pd.Timedelta(0)
    flat = np.full(STEPS, 50.0)
    bybit = every(4, T0, T0 + 64 * H) + bybit_offset
    start = T0 - pd.Timedelta(minutes=5 * (PRE + 1))
    return market(
        [
            klines("binance", "SOLUSDT", "perp", _early(flat), start=start),
            klines("bybit", "SOLUSDT", "perp", _early(flat), start=start),
        ],
        [
            funding("binance", "SOLUSDT", every(8, T0, T0 + 64 * H), [0.00005] * 9, 8),
            # with an offset the first (00:00) settlement is left out, so none is at entry
            funding(
                "bybit",
                "SOLUSDT",
                bybit[1:] if bybit_offset else bybit,
                [0.0002] * (len(bybit) - bool(bybit_offset)),
                4,
            ),
        ],
    )


def test_perp_perp_hand_case_to_the_cent():
    """Long Binance SOL perp (0.005 % / 8 h), short Bybit SOL perp (0.02 % / 4 h), prices 50.

    8 h hold from 00:00: Bybit pays at 04:00 and 08:00: 2 x 10,000 x 0.0002 = 4.00 received;
    Binance at 08:00: 10,000 x 0.00005 = 0.50 paid -> 3.50 net, 3 payments. Fees: Binance perp
    0.05 % x 2 fills = 10.00, Bybit perp 0.055 % x 2 = 11.00. Slippage: half the 0.01 % spread
    + 0.0025 % impact = 0.0075 % x 10,000 = 0.75 per entry fill; the exits at the exit's own
    estimate: half the floor spread 0.0005 % (flat candles: no spread, no volatility, no
    impact), 0.025 per 10,000.
    Net = 3.50 - 21.00 - 1.50 - 0.05 = -19.05 USD = -0.1905 %.
    """
    m = _perp_perp_market()
    opp = frame(
        [
            opportunity(
                T0,
                "perp_perp",
                "SOLUSDT",
                ("binance", "perp"),
                ("bybit", "perp"),
                impact_pct=(0.0025, 0.0025),
            )
        ]
    )
    out = simulate_executions(opp, m, SimulationConfig(holds_hours=(1, 4, 8), horizon_hours=8))
    row = out.set_index("hold_hours").loc[8]
    assert row["total_funding_earned_usd"] == pytest.approx(3.50, abs=0.005)
    assert row["funding_payments_count"] == 3
    assert row["total_fees_usd"] == pytest.approx(21.00, abs=0.005)
    assert row["total_slippage_pct"] == pytest.approx(0.0155, abs=0.00005)
    assert row["actual_profit_usd"] == pytest.approx(-19.05, abs=0.005)
    assert row["actual_profit_pct"] == pytest.approx(-0.1905, abs=0.00005)
    assert row["max_drawdown"] == pytest.approx(-0.2255, abs=0.00005)  # before 04:00: -22.55
    assert row["peak_profit"] == pytest.approx(-0.1905, abs=0.00005)
    assert row["optimal_hold_hours"] == pytest.approx(8.0)
    assert row["best_profit_pct"] == pytest.approx(-0.1905, abs=0.00005)
    four = out.set_index("hold_hours").loc[4]  # 04:00 settlement is inside (00:00, 04:00]
    assert four["funding_payments_count"] == 1
    assert four["actual_profit_usd"] == pytest.approx(2.00 - 22.55, abs=0.005)
    assert row["capital_usd"] == pytest.approx(10_000.0)  # two perp legs at 2x


def test_settlement_one_second_after_exit_is_not_received():
    """Bybit settles at 04:00:01 here: the 4 h hold ending 04:00:00 does not get it."""
    m = _perp_perp_market(bybit_offset=pd.Timedelta(seconds=1))
    opp = frame([opportunity(T0, "perp_perp", "SOLUSDT", ("binance", "perp"), ("bybit", "perp"))])
    out = simulate_executions(opp, m, SimulationConfig(holds_hours=(4, 8), horizon_hours=8))
    out = out.set_index("hold_hours")
    assert out.loc[4, "funding_payments_count"] == 0
    assert out.loc[4, "total_funding_earned_usd"] == 0.0
    assert out.loc[8, "funding_payments_count"] == 2  # Bybit 04:00:01 and Binance 08:00:00


def test_times_are_taken_literally_even_milliseconds():
    """04:00:00.003 is after 04:00 (the loaders snap jitter; the simulator never guesses)."""
    m = _perp_perp_market(bybit_offset=pd.Timedelta(milliseconds=3))
    opp = frame([opportunity(T0, "perp_perp", "SOLUSDT", ("binance", "perp"), ("bybit", "perp"))])
    out = simulate_executions(opp, m, SimulationConfig(holds_hours=(4, 5), horizon_hours=5))
    assert out["funding_payments_count"].tolist() == [0, 1]


def test_holds_that_do_not_fit_are_dropped_and_costs_are_configurable():
    m = _perp_perp_market()
    late = T0 + 56 * H  # Bybit funding is recorded to 64 h: covered until 68 h
    opp = frame([opportunity(late, "perp_perp", "SOLUSDT", ("binance", "perp"), ("bybit", "perp"))])
    partial = SimulationConfig(holds_hours=(1, 4, 8, 24), horizon_hours=24, full_horizon_only=False)
    out = simulate_executions(opp, m, partial)
    assert sorted(out["hold_hours"]) == [1, 4, 8]
    full = SimulationConfig(holds_hours=(1, 24), horizon_hours=24)
    assert simulate_executions(opp, m, full).empty
    big = SimulationConfig(
        costs=CostConfig(position_size_usd=20_000), holds_hours=(8,), horizon_hours=8
    )
    t0 = frame([opportunity(T0, "perp_perp", "SOLUSDT", ("binance", "perp"), ("bybit", "perp"))])
    assert simulate_executions(t0, m, big).loc[0, "total_fees_usd"] == pytest.approx(42.00)
