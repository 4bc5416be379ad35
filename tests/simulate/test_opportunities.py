"""Opportunity detection: orientation, thresholds, stride, features by hand, rolling stats."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import T0, every, funding, klines, market

from arbscore.data_tools.costs import LiquidityModel, estimate_depth
from arbscore.data_tools.opportunities import (
    OPPORTUNITY_COLUMNS,
    OpportunityConfig,
    detect_opportunities,
)
from arbscore.data_tools.opportunity_frames import rolling_group_stats
from arbscore.data_tools.snapshots import SnapshotConfig, build_snapshots
from arbscore.schema import OPPORTUNITY_FEATURE_COLUMNS, OPPORTUNITY_KEY_COLUMNS

H = pd.Timedelta(hours=1)


def _market(binance_rate: float, bybit_rate: float, bybit_interval: int = 4):
    n = 24 * 5
    start = T0 - 24 * H
    flat = np.full(n, 100.0)
    return market(
        [
            klines("binance", "ETHUSDT", "spot", flat, start, 60, quote_volume=50e6 / 24),
            klines("binance", "ETHUSDT", "perp", flat * 1.001, start, 60, quote_volume=1e9 / 24),
            klines("bybit", "ETHUSDT", "perp", flat, start, 60, quote_volume=200e6 / 24),
        ],
        [
            funding("binance", "ETHUSDT", every(8, start, start + 120 * H), binance_rate, 8),
            funding(
                "bybit",
                "ETHUSDT",
                every(bybit_interval, start, start + 120 * H),
                bybit_rate,
                bybit_interval,
            ),
        ],
    )


def _detect(m, **kw):
    snaps = build_snapshots(m, SnapshotConfig(every_minutes=5, warmup_hours=24))
    return detect_opportunities(snaps, OpportunityConfig(**kw))


def test_perp_perp_is_long_where_the_hourly_rate_is_lower():
    # Binance 0.01 %/8 h = 0.00125 %/h; Bybit 0.008 %/4 h = 0.002 %/h -> short Bybit, long Binance
    opp = _detect(
        _market(1e-4, 8e-5), strategies=("perp_perp",), perp_perp_min_fund_profit_8h_pct=0.0
    )
    assert len(opp) and (opp["long_exchange"] == "binance").all()
    assert (opp["short_exchange"] == "bybit").all()
    # 8 h edge: (0.002 - 0.00125) % x 8 = 0.006 %; APR = 0.00075 % x 8760
    assert opp["fund_profit_8h"].to_numpy() == pytest.approx(0.006)
    assert opp["fund_apr"].to_numpy() == pytest.approx(0.00075 * 8760)
    assert opp["fund_profit_24h_proj"].to_numpy() == pytest.approx(0.018)
    assert opp["fund_profit_3d_proj"].to_numpy() == pytest.approx(0.054)
    flipped = _detect(
        _market(3e-4, 8e-5), strategies=("perp_perp",), perp_perp_min_fund_profit_8h_pct=0.0
    )
    assert (flipped["long_exchange"] == "bybit").all()


def test_spot_perp_needs_positive_funding_and_thresholds_filter():
    assert _detect(
        _market(-1e-4, 1e-4), strategies=("spot_perp",), spot_perp_min_fund_profit_8h_pct=0.0
    ).empty
    opp = _detect(
        _market(1e-4, 1e-4), strategies=("spot_perp",), spot_perp_min_fund_profit_8h_pct=0.0
    )
    assert set(opp["long_market"]) == {"spot"} and set(opp["short_market"]) == {"perp"}
    assert opp["fund_profit_8h"].to_numpy() == pytest.approx(0.01)
    assert _detect(
        _market(1e-4, 1e-4), strategies=("spot_perp",), spot_perp_min_fund_profit_8h_pct=0.0101
    ).empty


def test_zero_edge_rows_are_dropped_unless_min_edge_is_none():
    """Funding of exactly 0: a spot_perp row that can only lose. ``min_edge`` (0 by default)
    drops it even with the per-strategy threshold at 0; ``min_edge=None`` keeps it."""
    zero = _market(0.0, 0.0)
    assert _detect(zero, strategies=("spot_perp",)).empty
    kept = _detect(zero, strategies=("spot_perp",), min_edge=None)
    assert len(kept) and (kept["fund_profit_8h"] == 0).all()
    assert _detect(_market(1e-4, 1e-4), strategies=("spot_perp",), min_edge=0.02).empty
    with pytest.raises(ValueError, match="min_edge"):
        OpportunityConfig(min_edge=float("nan"))


def test_features_schema_stride_and_break_even():
    opp = _detect(
        _market(1e-4, 8e-5),
        entry_stride_minutes=60,
        spot_perp_min_fund_profit_8h_pct=0.0,
        perp_perp_min_fund_profit_8h_pct=0.0,
    )
    assert list(opp.columns) == list(OPPORTUNITY_COLUMNS)
    assert set(OPPORTUNITY_KEY_COLUMNS + OPPORTUNITY_FEATURE_COLUMNS) <= set(opp.columns)
    assert (opp["timestamp"].dt.minute == 0).all()
    assert opp["opportunity_id"].is_unique
    sp = opp[opp["strategy"] == "spot_perp"].iloc[0]
    # flat candles (high = low = close): the Abdi-Ranaldo spread terms are 0 -> the floor
    # spread on both legs, and 0 volatility -> no impact; the depth is a feature only
    spread = LiquidityModel().min_spread_pct
    assert sp["long_bid_ask_spread"] == spread and sp["short_bid_ask_spread"] == spread
    assert sp["long_impact_pct"] == 0.0 and sp["short_impact_pct"] == 0.0
    assert sp["long_orderbook_depth"] == pytest.approx(50e3)
    assert sp["short_orderbook_depth"] == pytest.approx(1e6)
    cost = (2 * (0.001 + 0.0005) + 4 * spread / 200) * 100
    assert sp["round_trip_cost_pct"] == pytest.approx(cost)
    assert sp["break_even_hours"] == pytest.approx(cost / (0.01 / 8))
    assert sp["volume_24h"] == pytest.approx(50e6)  # the thinner leg
    assert sp["liquidity_status"] == "Medium"
    assert sp["basis_pct"] == pytest.approx(0.1)  # perp 100.1 over spot 100
    assert sp["hours_to_next_funding"] >= 0
    assert set(opp["market_regime"]) <= {"Bull", "Bear", "Ranging"}


def test_the_depth_feature_is_monotone_and_bounded():
    model = LiquidityModel()
    vol = np.array([0.0, 1e5, 1e6, 1e8, 1e10, np.nan])
    depth = estimate_depth(vol, model)
    assert (np.diff(depth[:5]) >= 0).all() and depth[-1] == model.min_depth_usd
    assert depth[4] == pytest.approx(1e7)


def test_impact_and_spread_come_from_the_legs_candles():
    """A wavy spot leg whose closes bounce between the candles' highs and lows (a wide book)
    against a flat perp: the spot leg's spread estimate and square-root impact are positive,
    the flat leg's are the floor and 0."""
    m = _market(1e-4, 1e-4)
    k = m.klines
    spot = (k["exchange"] == "binance") & (k["market"] == "spot")
    wave = 100.0 * np.exp(0.01 * np.sin(np.arange(int(spot.sum())) * 1.3))
    bounce = np.where(np.arange(len(wave)) % 2, 1.004, 0.996)
    k.loc[spot, "close"] = wave * bounce
    k.loc[spot, "high"] = wave * 1.004
    k.loc[spot, "low"] = wave * 0.996
    opp = _detect(m, strategies=("spot_perp",), spot_perp_min_fund_profit_8h_pct=0.0)
    row = opp.iloc[-1]
    assert row["long_bid_ask_spread"] > 10 * LiquidityModel().min_spread_pct
    assert row["long_impact_pct"] > 0.0 and row["short_impact_pct"] == 0.0
    base = (2 * (0.001 + 0.0005) + 2 * row["short_bid_ask_spread"] / 200) * 100
    slip = 2 * (row["long_bid_ask_spread"] / 2 + row["long_impact_pct"])  # percent
    assert row["round_trip_cost_pct"] == pytest.approx(base + slip)


def test_rolling_group_stats_match_pandas():
    rng = np.random.default_rng(1)
    n = 400
    frame = (
        pd.DataFrame(
            {
                "g": rng.integers(0, 3, n),
                "timestamp": T0
                + pd.to_timedelta(np.sort(rng.integers(0, 30 * 24 * 12, n)) * 5, "min"),
                "x": rng.normal(1e-5, 1e-5, n),
            }
        )
        .drop_duplicates(["g", "timestamp"])
        .reset_index(drop=True)
    )
    stats = rolling_group_stats(frame, ["g"], ["x"], window_ms=72 * 3_600_000)
    expected = frame.groupby("g").rolling("72h", on="timestamp", min_periods=3)["x"]
    mean = expected.mean().reset_index(level=0, drop=True).sort_index()
    std = expected.std().reset_index(level=0, drop=True).sort_index()
    np.testing.assert_allclose(stats["x_mean"], mean.to_numpy(), rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(stats["x_std"], std.to_numpy(), rtol=1e-6, atol=1e-15)


def test_bad_config_names_the_field():
    with pytest.raises(ValueError, match="entry_stride_minutes"):
        OpportunityConfig(entry_stride_minutes=7)
    with pytest.raises(ValueError, match="strategies"):
        OpportunityConfig(strategies=("triangular",))
    with pytest.raises(ValueError, match="snapshots frame is missing"):
        detect_opportunities(pd.DataFrame({"x": [1]}), OpportunityConfig())
