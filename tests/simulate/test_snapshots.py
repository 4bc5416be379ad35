"""Snapshots are as-of: no row at t depends on data after t (property test) + hand cases."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from builders import T0, every, funding, klines, market
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from arbscore.data_tools.market import MarketData
from arbscore.data_tools.opportunities import OpportunityConfig, detect_opportunities
from arbscore.data_tools.snapshots import SnapshotConfig, build_snapshots
from arbscore.data_tools.sources.synthetic import SyntheticMarketConfig, generate_synthetic_market

H = pd.Timedelta(hours=1)


@functools.cache
def _base(kline_minutes: int) -> MarketData:
    return generate_synthetic_market(
        SyntheticMarketConfig(
            seed=3,
            days=6,
            exchanges=("binance", "bybit"),
            symbols=("BTCUSDT", "SOLUSDT"),
            kline_minutes=kline_minutes,
        )
    )


def _after(m: MarketData, t: pd.Timestamp, seed: int, truncate: bool) -> MarketData:
    """``m`` with every kline closing after t and every settlement after t changed (or cut)."""
    rng = np.random.default_rng(seed)
    k, f = m.klines.copy(), m.funding.copy()
    k_late = (k["open_time"] + pd.to_timedelta(k["interval_minutes"], unit="min")) > t
    f_late = f["funding_time"] > t
    if truncate:
        return MarketData(f[~f_late], k[~k_late], m.source, m.synthetic)
    for col in ("open", "high", "low", "close"):
        k.loc[k_late, col] *= rng.uniform(0.5, 2.0, k_late.sum())
    k.loc[k_late, "quote_volume"] *= rng.uniform(0.1, 10.0, k_late.sum())
    f.loc[f_late, "rate"] = rng.normal(0, 1e-3, f_late.sum())
    f.loc[f_late, "interval_hours"] = rng.choice([1, 4, 8], f_late.sum())
    return MarketData(f, k, m.source, m.synthetic)


# no shrinking: each example rebuilds two markets' snapshots (slow to shrink)
@settings(max_examples=12, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(
    kline_minutes=st.sampled_from([5, 60]),
    cut_minutes=st.integers(80 * 12, 140 * 12).map(lambda k: 5 * k),
    jitter_s=st.sampled_from([0, 1, 150]),
    seed=st.integers(0, 1000),
    truncate=st.booleans(),
)
def test_no_snapshot_or_opportunity_at_t_depends_on_data_after_t(
    kline_minutes, cut_minutes, jitter_s, seed, truncate
):
    base = _base(kline_minutes)
    t_cut = base.klines["open_time"].min() + pd.Timedelta(minutes=cut_minutes)
    t = t_cut + pd.Timedelta(seconds=jitter_s)  # also cut between grid points
    other = _after(base, t, seed, truncate)
    # the grid's end follows the data's end, so fix it (values, not grid extent, are tested)
    end = base.klines["open_time"].max() + pd.Timedelta(hours=1)
    config = SnapshotConfig(every_minutes=5, warmup_hours=72, end=end)
    a, b = build_snapshots(base, config), build_snapshots(other, config)
    a, b = a[a["timestamp"] <= t], b[b["timestamp"] <= t]
    assert len(a) > 0
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
    opp_config = OpportunityConfig(
        entry_stride_minutes=5,
        spot_perp_min_fund_profit_8h_pct=-1e9,
        perp_perp_min_fund_profit_8h_pct=-1e9,
    )
    oa = detect_opportunities(build_snapshots(base, config), opp_config)
    ob = detect_opportunities(build_snapshots(other, config), opp_config)
    oa, ob = oa[oa["timestamp"] <= t], ob[ob["timestamp"] <= t]
    assert len(oa) > 0
    pd.testing.assert_frame_equal(oa.reset_index(drop=True), ob.reset_index(drop=True))


def _hourly_market() -> MarketData:
    prices = np.arange(1.0, 101.0) + 100  # close of the candle opening at hour h is 101 + h
    return market(
        [klines("binance", "BTCUSDT", "perp", prices, T0, 60)],
        [funding("binance", "BTCUSDT", every(8, T0, T0 + 96 * H), np.arange(13) * 1e-5, 8)],
    )


def test_price_is_the_last_closed_candle_and_funding_the_last_settled():
    config = SnapshotConfig(every_minutes=5, start=T0 + 10 * H, end=T0 + 17 * H)
    snaps = build_snapshots(_hourly_market(), config).set_index("timestamp")
    # at 10:00 the 09:00 candle (close 110) has just closed; at 10:55 the 10:00 one has not
    assert snaps.loc[T0 + 10 * H, "price"] == 110.0
    assert snaps.loc[T0 + 10 * H + pd.Timedelta(minutes=55), "price"] == 110.0
    assert snaps.loc[T0 + 11 * H, "price"] == 111.0
    # settled at 08:00 (rate 1e-5) is known from 08:00; 16:00's (2e-5) only from 16:00
    assert snaps.loc[T0 + 15 * H + pd.Timedelta(minutes=55), "funding_rate"] == pytest.approx(1e-5)
    assert snaps.loc[T0 + 16 * H, "funding_rate"] == pytest.approx(2e-5)
    assert snaps.loc[T0 + 10 * H, "hours_to_next_funding"] == pytest.approx(6.0)
    assert snaps.loc[T0 + 16 * H, "rate_sum_24h"] == pytest.approx(3e-5)  # 00:00, 08:00, 16:00
    assert snaps.loc[T0 + 16 * H, "interval_sum_24h"] == pytest.approx(24.0)
    assert snaps.loc[T0 + 16 * H, "rate_hourly_8h_ago"] == pytest.approx(1e-5 / 8)


def test_stale_prices_drop_the_market_and_bad_config_is_rejected():
    config = SnapshotConfig(
        every_minutes=60, start=T0 + 10 * H, end=T0 + 110 * H, max_price_age_minutes=120
    )
    snaps = build_snapshots(_hourly_market(), config)
    assert snaps["timestamp"].max() == T0 + 102 * H  # last close 100:00 + 2 h of staleness
    with pytest.raises(ValueError, match="every_minutes"):
        SnapshotConfig(every_minutes=7)
    with pytest.raises(ValueError, match="snapshots.start"):
        SnapshotConfig(start="yesterday-ish")
    assert SnapshotConfig(start="2025-01-01").start == T0
