"""Hand cases on the real data, recomputed from the market's own rows (skipped without it).

- 2025-10-10: a long Binance / short Hyperliquid XRP perp_perp is liquidated in the crash. The
  data has no Hyperliquid prices (Binance's perp stands in for them), so both legs are one price
  series: the hedge closes at the same instant at the same price, and the loss is the
  liquidation fee + the hedge's exit costs + the entry costs - funding, not a basis swing.
- a Binance BTC spot_perp entered at the April 2025 low and held 200 days through BTC's rise
  to its October high: isolated margin liquidates the short perp in July; the unified account
  (the default) holds it to the end.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from builders import frame, opportunity

from arbscore.data_tools.liquidity import LiquidityModel, trailing_spread_pct
from arbscore.data_tools.margin import MarginConfig
from arbscore.data_tools.simulate import SimulationConfig, simulate_executions
from arbscore.data_tools.sources.real import find_shared_data, load_shared_market

SHARED = find_shared_data()
pytestmark = pytest.mark.skipif(
    SHARED is None,
    reason="real market data not found (set ARBSCORE_SHARED_DATA or provide ../shared/data)",
)
H = pd.Timedelta(hours=1)
N = 10_000.0


def _ms(t: pd.Timestamp) -> int:
    return int(t.value // 1_000_000)


def _bars(m, exchange, market_):
    k = m.klines[(m.klines["exchange"] == exchange) & (m.klines["market"] == market_)]
    k = k.sort_values("open_time").reset_index(drop=True)
    return k.assign(close_time=k["open_time"] + pd.to_timedelta(k["interval_minutes"], "min"))


def _paid(m, exchange, bars, t0, t1, q):
    """q x settlement price x rate over the settlements in (t0, t1] (mark price, else the
    as-of close)."""
    f = m.funding[(m.funding["exchange"] == exchange)]
    f = f[(f["funding_time"] > t0) & (f["funding_time"] <= t1)]
    total = 0.0
    for t, rate, mark in zip(f["funding_time"], f["rate"], f["mark_price"], strict=True):
        price = mark if mark == mark and mark > 0 else bars[bars["close_time"] <= t].iloc[-1].close
        total += q * price * rate
    return total, len(f)


def _exit_slip(bars, t, model: LiquidityModel) -> float:
    """Half the candle spread estimate + the square-root impact at ``t`` (fractions)."""
    closed = bars[bars["close_time"] <= t]
    day = closed[closed["close_time"] > t - 24 * H]
    rets = np.diff(np.log(day["close"].to_numpy()))
    vol = float(np.std(rets, ddof=1) * math.sqrt(len(rets)))
    volume = float(day["quote_volume"].sum())
    spread = trailing_spread_pct(
        np.asarray([_ms(x) for x in bars["close_time"]], np.int64),
        bars["close"].to_numpy(),
        bars["high"].to_numpy(),
        bars["low"].to_numpy(),
        np.asarray([_ms(t)], np.int64),
        model,
    )[0]
    return spread / 100 / 2 + model.impact_coefficient * vol * math.sqrt(N / volume)


def test_the_2025_10_10_xrp_liquidation_closes_both_legs_at_one_price():
    m = load_shared_market(
        exchanges=("binance", "hyperliquid"),
        symbols=["XRPUSDT"],
        start="2025-09-20",
        end="2025-10-25",
        spot=False,
    )
    assert ("hyperliquid", "XRPUSDT", "perp") in m.estimated_series
    t0 = pd.Timestamp("2025-10-01 00:00", tz="UTC")
    opp = frame(
        [opportunity(t0, "perp_perp", "XRPUSDT", ("binance", "perp"), ("hyperliquid", "perp"))]
    )
    config = SimulationConfig(holds_hours=(24, 240, 480), horizon_hours=480)
    out = simulate_executions(opp, m, config).set_index("hold_hours")

    # by hand from the bars: entry at the close of the 23:00 candle, both legs on that price
    bn, hl = _bars(m, "binance", "perp"), _bars(m, "hyperliquid", "perp")
    np.testing.assert_array_equal(bn["close"], hl["close"])  # one price series
    p0 = bn[bn["close_time"] <= t0].iloc[-1].close
    q = N / p0
    p_liq = p0 * (1 - 1 / 2) / (1 - 0.005)  # long Binance perp, 2x, maintenance 0.5 %
    after = bn[bn["close_time"] > t0]
    crossing = after[after["low"] <= p_liq].iloc[0]
    t_liq = crossing.close_time
    assert t_liq == pd.Timestamp("2025-10-10 22:00", tz="UTC")  # the 21:00 candle, low 1.1792
    received, n_hl = _paid(m, "hyperliquid", hl, t0, t_liq, q)
    paid, n_bn = _paid(m, "binance", bn, t0, t_liq, q)
    funding_usd = received - paid
    entry_fees = N * (0.0005 + 0.00045)
    liq_fee = q * p_liq * 0.005
    hedge_fee = q * p_liq * 0.00045  # the short closes at p_liq too: the same series
    entry_slip = N * 2 * 0.01 / 100 / 2  # the opportunity's 0.01 % spreads, no impact
    hedge_slip = q * p_liq * _exit_slip(hl, t_liq, LiquidityModel())
    net = funding_usd - entry_fees - liq_fee - hedge_fee - entry_slip - hedge_slip

    for hold in (240, 480):
        row = out.loc[hold]
        assert row["liquidated"] and row["price_estimated"]
        assert row["actual_hold_hours"] == 238.0
        assert row["funding_payments_count"] == n_hl + n_bn
        assert row["price_pnl_pct"] == pytest.approx(0.0, abs=1e-9)  # no basis swing
        assert row["funding_pct"] * 100 == pytest.approx(funding_usd, abs=0.005)
        assert row["fees_pct"] * 100 == pytest.approx(entry_fees + liq_fee + hedge_fee, abs=0.005)
        assert row["slippage_pct"] * 100 == pytest.approx(entry_slip + hedge_slip, abs=0.005)
        assert row["actual_profit_usd"] == pytest.approx(net, abs=0.005)
    assert -60.0 < net < 0.0  # tens of dollars, not the $2,890.91 the two-candle close booked
    assert not out.loc[24, "liquidated"]
    row = out.loc[480]
    assert row["signal_exit_liquidated"] and row["signal_exit_hours"] == 238.0
    assert row["signal_exit_profit_pct"] * 100 == pytest.approx(net, abs=0.005)


def test_a_btc_spot_perp_rides_2025_in_a_unified_account():
    m = load_shared_market(
        exchanges=("binance",), symbols=["BTCUSDT"], start="2025-03-20", end="2025-11-15"
    )
    t0 = pd.Timestamp("2025-04-07 12:00", tz="UTC")
    opp = frame([opportunity(t0, "spot_perp", "BTCUSDT", ("binance", "spot"), ("binance", "perp"))])
    holds = (24, 2400, 4800)  # to 2025-10-24, past the 2025-10-06 high

    def run(margin: MarginConfig) -> pd.DataFrame:
        config = SimulationConfig(holds_hours=holds, horizon_hours=4800, margin=margin)
        return simulate_executions(opp, m, config).set_index("hold_hours")

    perp = _bars(m, "binance", "perp")
    p0 = perp[perp["close_time"] <= t0].iloc[-1].close
    p_liq = p0 * (1 + 1 / 2) / (1 + 0.005)
    path = perp[(perp["close_time"] > t0) & (perp["close_time"] <= t0 + 4800 * H)]
    assert path["high"].max() > p_liq  # BTC rose past the isolated short's liquidation price
    first = path[path["high"] >= p_liq].iloc[0].close_time

    isolated = run(MarginConfig(spot_perp_account="isolated"))
    assert isolated.loc[4800, "liquidated"]
    assert isolated.loc[4800, "actual_hold_hours"] == (first - t0) / H

    unified = run(MarginConfig())
    assert not unified["liquidated"].any()
    assert list(unified["actual_hold_hours"]) == [24.0, 2400.0, 4800.0]
    row = unified.loc[4800]
    # the spot covers the perp: the price PnL is the basis change only (well under 1 %)
    assert abs(row["price_pnl_pct"]) < 1.0
    spot = _bars(m, "binance", "spot")
    t1 = t0 + 4800 * H
    s0, s1 = (
        spot[spot["close_time"] <= t0].iloc[-1].close,
        spot[spot["close_time"] <= t1].iloc[-1].close,
    )
    p1 = perp[perp["close_time"] <= t1].iloc[-1].close
    price_pnl = N / s0 * (s1 - s0) - N / p0 * (p1 - p0)
    assert row["price_pnl_pct"] * 100 == pytest.approx(price_pnl, abs=0.005)
    parts = row["funding_pct"] - row["fees_pct"] - row["slippage_pct"] + row["price_pnl_pct"]
    assert parts == pytest.approx(row["actual_profit_pct"], abs=1e-9)
