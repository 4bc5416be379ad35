"""One detector: the live scan and the historical detector give the same candidates, with the
same features and costs, on the same snapshot (live rows made from history's snapshots, their
book set to history's candle spread estimate and volume-based depth). The one documented
difference: history's cost adds each leg's square-root-law impact (``data_tools.liquidity``),
a measured book prices its size by the depth tiers instead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from arbscore.data_tools.costs import CostConfig, estimate_depth
from arbscore.data_tools.opportunities import OpportunityConfig, detect_opportunities
from arbscore.data_tools.snapshots import SnapshotConfig, build_snapshots
from arbscore.ops.live_opps import live_opportunities, records
from arbscore.schema import HORIZON_FEATURE_COLUMNS
from tests.simulate.builders import T0, every, funding, klines, market

H = pd.Timedelta(hours=1)
SAME = [
    "fund_profit_8h",
    "fund_apr",
    "fund_profit_24h_proj",
    "fund_profit_3d_proj",
    "round_trip_cost_pct",
    "break_even_hours",
    "basis_pct",
    "bid_ask_spread",
    "orderbook_depth",
    "volume_24h",
    "hours_to_next_funding",
    "long_funding_rate_pct",
    "short_funding_rate_pct",
    "long_interval_hours",
    "short_interval_hours",
    "hour_of_day",
    "day_of_week",
]


def _snapshots() -> pd.DataFrame:
    n = 24 * 5
    start = T0 - 24 * H
    wave = 100.0 + 2.0 * np.sin(np.arange(n) / 7.0)
    m = market(
        [
            klines("binance", "ETHUSDT", "spot", wave, start, 60, quote_volume=50e6 / 24),
            klines("binance", "ETHUSDT", "perp", wave * 1.001, start, 60, quote_volume=1e9 / 24),
            klines("bybit", "ETHUSDT", "perp", wave * 0.999, start, 60, quote_volume=2e8 / 24),
            klines("okx", "ETHUSDT", "perp", wave, start, 60, quote_volume=3e6 / 24),
        ],
        [
            funding("binance", "ETHUSDT", every(8, start, start + 120 * H), 1e-4, 8),
            funding("bybit", "ETHUSDT", every(4, start, start + 120 * H), 8e-5, 4),
            funding("okx", "ETHUSDT", every(8, start, start + 120 * H), -5e-5, 8),
        ],
    )
    return build_snapshots(m, SnapshotConfig(every_minutes=5, warmup_hours=24))


def _live_rows(snaps: pd.DataFrame, costs: CostConfig) -> pd.DataFrame:
    """The snapshot rows as ``live_snapshots`` rows: a book at history's spread/depth estimate."""
    spread = snaps["spread_estimate_pct"].to_numpy()
    depth = estimate_depth(snaps["volume_24h"].to_numpy(), costs.liquidity)
    half = snaps["price"].to_numpy() * spread / 200.0
    t = pd.to_datetime(snaps["timestamp"], utc=True)
    return pd.DataFrame(
        {
            "exchange": snaps["exchange"],
            "symbol": snaps["symbol"],
            "market": snaps["market"],
            "snapshot_time": t,
            "funding_rate": snaps["funding_rate"],
            "predicted_funding_rate": snaps["funding_rate"],
            "interval_hours": snaps["funding_interval_hours"],
            "next_funding_time": t + pd.to_timedelta(snaps["hours_to_next_funding"], unit="h"),
            "mark_price": snaps["price"],
            "last_price": snaps["price"],
            "bid": snaps["price"] - half,
            "ask": snaps["price"] + half,
            "spread_pct": spread,
            "bid_depth_usd": depth,
            "ask_depth_usd": depth,
            "quote_volume_24h": snaps["volume_24h"],
        }
    )


def test_live_and_history_detect_the_same_candidates_on_the_same_snapshot():
    snaps = _snapshots()
    hist_config = OpportunityConfig(perp_perp_min_fund_profit_8h_pct=0.0)
    history = detect_opportunities(snaps, hist_config)
    live = live_opportunities(_live_rows(snaps, hist_config.costs))
    assert len(history) and set(history["strategy"]) == {"spot_perp", "perp_perp"}
    # history enters hourly (its stride); live at every slot: compare history's entries
    live = live[live["timestamp"].isin(set(history["timestamp"]))]
    key = ["timestamp", "strategy", "symbol", "long_exchange", "long_market", "short_exchange"]
    history = history.sort_values(key).reset_index(drop=True)
    live = live.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(history[key], live[key], check_dtype=False)
    for col in SAME:
        if col in ("round_trip_cost_pct", "break_even_hours"):
            continue
        assert live[col].to_numpy(float) == pytest.approx(history[col].to_numpy(float)), col
    # the cost: the same fees and half spreads; history adds the impact, live the depth tiers
    tiers = live["round_trip_cost_pct"].to_numpy(float) - (
        history["round_trip_cost_pct"].to_numpy(float)
        - 2 * (history["long_impact_pct"] + history["short_impact_pct"]).to_numpy(float)
    )
    assert (tiers >= -1e-9).all()
    assert (live["liquidity_status"] == history["liquidity_status"]).all()
    # the rolling spread CV is the same statistic; live leaves a too-short history unknown
    known = live["spread_volatility_cv"].notna().to_numpy()
    assert known.any()
    cv = live["spread_volatility_cv"].to_numpy(float)[known]
    assert cv == pytest.approx(history["spread_volatility_cv"].to_numpy(float)[known])
    # history's id is the live candidate key at a time
    assert (history["opportunity_id"].str.rsplit(":", n=1).str[0] == live["opportunity_key"]).all()


def test_live_computes_the_horizon_features_as_history_does_and_hands_them_to_the_scorer():
    snaps = _snapshots()
    hist_config = OpportunityConfig(perp_perp_min_fund_profit_8h_pct=0.0)
    history = detect_opportunities(snaps, hist_config)
    live = live_opportunities(_live_rows(snaps, hist_config.costs))
    live = live[live["timestamp"].isin(set(history["timestamp"]))]
    key = ["timestamp", "strategy", "symbol", "long_exchange", "long_market", "short_exchange"]
    history = history.sort_values(key).reset_index(drop=True)
    live = live.sort_values(key).reset_index(drop=True)
    cols = list(HORIZON_FEATURE_COLUMNS)
    known = history[cols].notna().any()
    # constant rates in this market: the autocorrelation is undefined (0 / 0)
    assert list(known[~known].index) == ["edge_autocorr_30d"]
    np.testing.assert_allclose(
        live[cols].to_numpy(float), history[cols].to_numpy(float), rtol=1e-9, atol=1e-12
    )
    last = records(live)[-1]
    assert set(cols) - {"edge_autocorr_30d"} <= set(last)  # (a NaN is left out)
