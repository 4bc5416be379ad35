"""Horizon features: values by hand, orientation, and no look-ahead (later data changes nothing)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import T0, every, funding, klines, market

from arbscore.data_tools.opportunities import OpportunityConfig, detect_opportunities
from arbscore.data_tools.snapshots import SnapshotConfig, build_snapshots
from arbscore.schema import HORIZON_FEATURE_COLUMNS

H = pd.Timedelta(hours=1)
DAYS = 20


def _detect(m, **kw):
    snaps = build_snapshots(m, SnapshotConfig(every_minutes=60, warmup_hours=24))
    return detect_opportunities(snaps, OpportunityConfig(**kw))


def _market(rates_binance, rates_bybit, bybit_interval=8, prices=None, start=T0):
    n = 24 * DAYS
    flat = np.full(n, 100.0) if prices is None else prices
    settle = every(8, start, start + (n - 1) * H)
    by_settle = every(bybit_interval, start, start + (n - 1) * H)
    return market(
        [
            klines("binance", "ETHUSDT", "spot", flat, start, 60),
            klines("binance", "ETHUSDT", "perp", flat * 1.001, start, 60),
            klines("bybit", "ETHUSDT", "perp", flat, start, 60),
        ],
        [
            funding("binance", "ETHUSDT", settle, np.resize(rates_binance, len(settle)), 8),
            funding(
                "bybit",
                "ETHUSDT",
                by_settle,
                np.resize(rates_bybit, len(by_settle)),
                bybit_interval,
            ),
        ],
    )


def test_constant_funding_gives_the_rates_per_8h_and_a_positive_edge_after_orientation():
    # binance 3e-4 / 8 h, bybit 8e-5 / 4 h = 1.6e-4 / 8 h: long bybit, short binance
    opp = _detect(
        _market([3e-4], [8e-5], bybit_interval=4),
        strategies=("perp_perp",),
        perp_perp_min_fund_profit_8h_pct=0.0,
    )
    late = opp[opp["timestamp"] > T0 + 10 * 24 * H]
    assert len(late) and (late["long_exchange"] == "bybit").all()
    for d in (7, 14, 30):
        assert late[f"long_funding_mean_{d}d_pct"].to_numpy() == pytest.approx(0.016)
        assert late[f"short_funding_mean_{d}d_pct"].to_numpy() == pytest.approx(0.03)
        assert late[f"edge_funding_mean_{d}d_pct"].to_numpy() == pytest.approx(0.014)
        assert late[f"edge_funding_vol_{d}d_pct"].to_numpy() == pytest.approx(0.0, abs=1e-12)
    assert (late["edge_positive_fraction_30d"] == 1.0).all()
    assert (late["interval_changes_30d"] == 0).all()


def test_streak_autocorrelation_and_positive_share_by_hand():
    # binance alternates +2e-4 / -1e-4 every settlement: the spot_perp edge flips each 8 h
    opp = _detect(_market([2e-4, -1e-4], [1e-4]), strategies=("spot_perp",))
    late = opp[(opp["timestamp"] > T0 + 10 * 24 * H) & (opp["long_exchange"] == "binance")]
    assert len(late)
    assert late["edge_autocorr_30d"].to_numpy() == pytest.approx(-1.0)
    assert late["edge_positive_fraction_30d"].to_numpy() == pytest.approx(0.5, abs=0.02)
    # the positive rate settled at most 8 h ago; the last hourly row before it was negative
    assert (
        (late["edge_positive_streak_hours"] > 0) & (late["edge_positive_streak_hours"] <= 8)
    ).all()
    mean = (2e-4 - 1e-4) / 2 * 100.0
    assert late["short_funding_mean_7d_pct"].to_numpy() == pytest.approx(
        mean, abs=0.001
    )  # 21 settlements: one extra


def test_an_interval_change_is_counted_for_thirty_days():
    n = 24 * DAYS
    start = T0
    m = _market([1e-4], [1e-4])
    switch = start + 5 * 24 * H
    times = list(every(8, start, switch)) + list(every(4, switch + 4 * H, start + (n - 1) * H))
    ivs = [8.0] * len(every(8, start, switch)) + [4.0] * (len(times) - len(every(8, start, switch)))
    other = m.funding[m.funding["exchange"] != "bybit"]
    by = funding("bybit", "ETHUSDT", times, 1e-4, ivs)
    m = market([m.klines], [other, by])
    opp = _detect(m, strategies=("perp_perp",), perp_perp_min_fund_profit_8h_pct=0.0)
    before = opp[opp["timestamp"] < switch]
    after = opp[opp["timestamp"] > switch + 8 * H]
    assert (before["interval_changes_30d"] == 0).all()
    assert len(after) and (after["interval_changes_30d"] == 1).all()


def test_later_data_changes_no_horizon_feature():
    rng = np.random.default_rng(7)
    n = 24 * DAYS
    prices = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.002, n)))
    rates_a, rates_b = rng.normal(1e-4, 1e-4, 3 * DAYS), rng.normal(1e-4, 1e-4, 3 * DAYS)
    base = _detect(_market(rates_a, rates_b, prices=prices), strategies=("perp_perp", "spot_perp"))
    cut = T0 + 12 * 24 * H
    later = np.arange(n) >= 12 * 24  # candles and settlements from the cut on: redrawn
    prices2 = np.where(later, prices * rng.uniform(0.9, 1.1, n), prices)
    k = 12 * 3
    rates_a2 = np.concatenate([rates_a[:k], rng.normal(-3e-4, 2e-4, len(rates_a) - k)])
    rates_b2 = np.concatenate([rates_b[:k], rng.normal(5e-4, 2e-4, len(rates_b) - k)])
    moved = _detect(
        _market(rates_a2, rates_b2, prices=prices2), strategies=("perp_perp", "spot_perp")
    )
    keys = ["timestamp", "strategy", "long_exchange", "short_exchange"]
    cols = list(HORIZON_FEATURE_COLUMNS)
    a = base[base["timestamp"] < cut].set_index(keys)[cols]
    b = moved[moved["timestamp"] < cut].set_index(keys)[cols]
    common = a.index.intersection(b.index)
    assert len(common) > 100
    pd.testing.assert_frame_equal(a.loc[common], b.loc[common])
    known = b.loc[common][b.loc[common].index.get_level_values(0) > T0 + 3 * 24 * H]
    assert len(known) and known.notna().all().all()  # every feature is known after a few days
    # and after the cut they do change (the test can see a difference)
    c = base[base["timestamp"] > cut + 24 * H].set_index(keys)[cols]
    d = moved[moved["timestamp"] > cut + 24 * H].set_index(keys)[cols]
    both = c.index.intersection(d.index)
    assert not np.allclose(c.loc[both].to_numpy(), d.loc[both].to_numpy(), equal_nan=True)
