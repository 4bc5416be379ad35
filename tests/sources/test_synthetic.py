"""The synthetic market: deterministic, in schema, funding on its grid, basis that reverts."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pandas as pd
import pytest

from arbscore.data_tools.market import MarketData
from arbscore.data_tools.sources import SyntheticMarketConfig, generate_synthetic_market
from arbscore.schema import FUNDING_COLUMNS, KLINE_COLUMNS

SMALL = SyntheticMarketConfig(seed=7, days=10, symbols=("BTCUSDT", "ETHUSDT", "SOLUSDT"))


@pytest.fixture(scope="module")
def small() -> MarketData:
    return generate_synthetic_market(SMALL)


def test_same_seed_same_market_other_seed_differs(small: MarketData) -> None:
    again = generate_synthetic_market(SMALL)
    pd.testing.assert_frame_equal(small.klines, again.klines)
    pd.testing.assert_frame_equal(small.funding, again.funding)
    other = generate_synthetic_market(SyntheticMarketConfig(seed=8, days=10, symbols=SMALL.symbols))
    assert not np.allclose(other.klines["close"].to_numpy(), small.klines["close"].to_numpy())


def test_schema_and_label(small: MarketData) -> None:
    assert small.synthetic is True
    assert small.source == "synthetic(seed=7)"
    assert tuple(small.klines.columns) == KLINE_COLUMNS
    assert tuple(small.funding.columns) == FUNDING_COLUMNS
    k = small.klines
    assert set(k["exchange"]) == {"binance", "bybit", "okx"}
    assert set(k["market"]) == {"spot", "perp"}
    assert str(k["open_time"].dt.tz) == "UTC"
    n_bars = 10 * 24 * 12
    sizes = k.groupby(["exchange", "symbol", "market"]).size()
    assert (sizes == n_bars).all() and len(sizes) == 3 * 3 * 2
    assert (k["interval_minutes"] == 5).all()
    assert (
        k["open_time"].diff().dropna().isin([pd.Timedelta(minutes=5)])
        | (k["open_time"].diff() < pd.Timedelta(0)).iloc[1:]
    ).all()
    assert (k["high"] >= k[["open", "close"]].max(axis=1)).all()
    assert (k["low"] <= k[["open", "close"]].min(axis=1)).all()
    assert (k["low"] > 0).all() and (k["volume"] > 0).all()
    np.testing.assert_allclose(
        k["quote_volume"], k["volume"] * (k["high"] + k["low"] + k["close"]) / 3, rtol=1e-9
    )
    assert not k.duplicated(["exchange", "symbol", "market", "open_time"]).any()
    assert small.details["symbols"] == list(SMALL.symbols)


def test_funding_on_each_symbols_interval_grid(small: MarketData) -> None:
    f = small.funding
    assert str(f["funding_time"].dt.tz) == "UTC"
    hours = f["funding_time"].dt.hour
    assert (f["funding_time"].dt.minute == 0).all() and (f["funding_time"].dt.second == 0).all()
    assert (hours % f["interval_hours"] == 0).all()
    per = f.groupby(["exchange", "symbol"])["interval_hours"].first()
    assert per[("bybit", "SOLUSDT")] == 4  # the misaligned leg
    assert per[("binance", "SOLUSDT")] == 8 and per[("okx", "BTCUSDT")] == 8
    eight = f[f["interval_hours"] == 8]
    assert set(eight["funding_time"].dt.hour) == {0, 8, 16}
    counts = f.groupby(["exchange", "symbol"]).size()
    assert counts[("bybit", "SOLUSDT")] == 2 * counts[("binance", "SOLUSDT")] == 2 * 30
    gaps = f.groupby(["exchange", "symbol"])["funding_time"].diff().dropna()
    assert (gaps == pd.to_timedelta(f.loc[gaps.index, "interval_hours"], unit="h")).all()
    # mark price at settlement is the perp price at that time
    perp = small.klines[small.klines["market"] == "perp"].set_index(
        ["exchange", "symbol", "open_time"]
    )["open"]
    keys = list(zip(f["exchange"], f["symbol"], f["funding_time"], strict=True))
    np.testing.assert_allclose(perp.loc[keys].to_numpy(), f["mark_price"].to_numpy())


def test_one_and_four_hour_symbols() -> None:
    cfg = SyntheticMarketConfig(
        seed=1, days=3, symbols=("BTCUSDT", "WIFUSDT"), interval_overrides=(("okx", "BTCUSDT", 1),)
    )
    f = generate_synthetic_market(cfg).funding
    per = f.groupby(["exchange", "symbol"])["interval_hours"].first()
    assert per[("okx", "BTCUSDT")] == 1 and per[("binance", "WIFUSDT")] == 4
    assert f.groupby(["exchange", "symbol"]).size()[("okx", "BTCUSDT")] == 72


def _ar1_coef(x: np.ndarray) -> float:
    x = x - x.mean()
    return float(np.dot(x[1:], x[:-1]) / np.dot(x[:-1], x[:-1]))


def test_basis_mean_reverts_and_prices_correlate() -> None:
    m = generate_synthetic_market(
        SyntheticMarketConfig(seed=3, days=60, kline_minutes=60, symbols=("BTCUSDT", "ETHUSDT"))
    )
    k = m.klines.set_index(["exchange", "symbol", "market", "open_time"])["close"]
    perp = k.loc[("binance", "ETHUSDT", "perp")]
    spot = k.loc[("binance", "ETHUSDT", "spot")]
    basis = np.log(perp / spot).to_numpy()
    phi = _ar1_coef(basis)
    assert 0.0 < phi < 0.97  # mean-reverting: a random walk would give ~1
    assert np.std(basis) < 0.01
    cross = np.log(k.loc[("binance", "ETHUSDT", "perp")] / k.loc[("bybit", "ETHUSDT", "perp")])
    assert _ar1_coef(cross.to_numpy()) < 0.97
    # the price level is a random walk (no reversion) and symbols share the BTC factor
    assert _ar1_coef(np.log(spot.to_numpy())) > 0.99
    r_btc = np.diff(np.log(k.loc[("binance", "BTCUSDT", "spot")].to_numpy()))
    r_eth = np.diff(np.log(spot.to_numpy()))
    assert np.corrcoef(r_btc, r_eth)[0, 1] > 0.4


def test_funding_persists_and_correlates_across_exchanges() -> None:
    m = generate_synthetic_market(
        SyntheticMarketConfig(seed=5, days=120, kline_minutes=60, symbols=("ETHUSDT",))
    )
    f = m.funding.pivot_table(index="funding_time", columns="exchange", values="rate")
    assert _ar1_coef(f["binance"].to_numpy()) > 0.3
    assert f["binance"].corr(f["bybit"]) > 0.4


def test_bad_config_names_the_field() -> None:
    with pytest.raises(ValueError, match="kline_minutes"):
        SyntheticMarketConfig(kline_minutes=7)
    with pytest.raises(ValueError, match="exchanges"):
        SyntheticMarketConfig(exchanges=("ftx",))
    with pytest.raises(ValueError, match="days"):
        SyntheticMarketConfig(days=0)
    with pytest.raises(ValueError, match="start"):
        SyntheticMarketConfig(start="2025-01-01 00:30")
    with pytest.raises(ValueError, match="canonical"):
        SyntheticMarketConfig(symbols=("BTC/USDT",))


def test_ninety_days_three_exchanges_four_symbols_is_fast() -> None:
    cfg = SyntheticMarketConfig(days=90, symbols=("BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT"))
    t0 = time.perf_counter()
    m = generate_synthetic_market(cfg)
    elapsed = time.perf_counter() - t0
    assert len(m.klines) == 90 * 288 * 3 * 4 * 2
    assert elapsed < 10.0, f"took {elapsed:.1f}s"


def test_config_from_json_values() -> None:
    """A --config file gives lists and a params dict; they become tuples and SyntheticParams."""
    from arbscore.data_tools.sources import SyntheticParams

    params = SyntheticParams.calibrated().to_dict()
    params["interest_8h"] = 2e-4
    params["premium_mean"] = 0.0  # premium well inside the clamp band: funding = interest
    cfg = SyntheticMarketConfig(
        days=1,
        symbols=["BTCUSDT"],
        exchanges=["binance", "okx"],
        interval_overrides=[["okx", "BTCUSDT", 4]],
        params=params,
    )
    assert cfg.symbols == ("BTCUSDT",) and isinstance(cfg.params, SyntheticParams)
    f = generate_synthetic_market(cfg).funding
    assert f.groupby("exchange")["interval_hours"].first().to_dict() == {"binance": 8, "okx": 4}
    # the params were used: the formula's mass point moved to the new interest rate
    per8 = f["rate"] * 8 / f["interval_hours"]
    assert np.isclose(per8, 2e-4, rtol=0, atol=1e-12).any()
    assert not np.isclose(per8, 1e-4, rtol=0, atol=1e-12).any()
    with pytest.raises(ValueError, match="unknown"):
        SyntheticMarketConfig(params={"not_a_param": 1})


def test_listings_and_venue_start_filter_the_market() -> None:
    base = SyntheticMarketConfig(
        seed=2,
        days=4,
        kline_minutes=60,
        exchanges=("binance", "bybit", "hyperliquid"),
        symbols=("BTCUSDT", "ETHUSDT"),
        spot_exchanges=("binance",),
        interval_overrides=(),
    )
    listed = (
        ("binance", "perp", "BTCUSDT"),
        ("binance", "spot", "BTCUSDT"),
        ("hyperliquid", "perp", "BTCUSDT"),
        ("bybit", "perp", "ETHUSDT"),
    )
    cfg = dataclasses.replace(base, listings=listed, venue_start=(("hyperliquid", "2025-01-03"),))
    full, m = generate_synthetic_market(base), generate_synthetic_market(cfg)
    k, f = m.klines, m.funding
    assert set(zip(k["exchange"], k["market"], k["symbol"], strict=True)) == set(listed)
    assert set(zip(f["exchange"], f["symbol"], strict=True)) == {
        ("binance", "BTCUSDT"),
        ("hyperliquid", "BTCUSDT"),
        ("bybit", "ETHUSDT"),
    }
    hl = k[k["exchange"] == "hyperliquid"]
    assert hl["open_time"].min() == pd.Timestamp("2025-01-03", tz="UTC")
    assert f.loc[f["exchange"] == "hyperliquid", "funding_time"].min() >= hl["open_time"].min()
    # a filter, not another market: the kept series are the full market's
    keys = ["exchange", "symbol", "market", "open_time"]
    same = k.merge(full.klines, on=keys, suffixes=("", "_full"))
    assert len(same) == len(k)
    np.testing.assert_array_equal(same["close"], same["close_full"])
    with pytest.raises(ValueError, match="listings"):
        dataclasses.replace(base, listings=(("okx", "perp", "BTCUSDT"),))
    with pytest.raises(ValueError, match="venue_start"):
        dataclasses.replace(base, venue_start=(("hyperliquid", "soon"),))


def test_hyperliquid_settles_hourly_whatever_the_symbol() -> None:
    cfg = SyntheticMarketConfig(
        seed=4, days=2, exchanges=("binance", "hyperliquid"), symbols=("BTCUSDT", "WIFUSDT")
    )
    f = generate_synthetic_market(cfg).funding
    per = f.groupby(["exchange", "symbol"])["interval_hours"].first()
    assert per[("hyperliquid", "BTCUSDT")] == per[("hyperliquid", "WIFUSDT")] == 1
    assert per[("binance", "WIFUSDT")] == 4 and per[("binance", "BTCUSDT")] == 8
    assert f.groupby(["exchange", "symbol"]).size()[("hyperliquid", "BTCUSDT")] == 48


def test_spread_scale_narrows_the_cross_exchange_edge_only() -> None:
    """spread_scale shrinks the per-venue premium part: edges narrow, funding stays wide."""
    from arbscore.data_tools.sources import SyntheticParams
    from arbscore.data_tools.sources import stats as st

    p = SyntheticParams.calibrated()
    stds = {}
    for scale in (1.0, 0.2):
        prof = dataclasses.replace(p.profile("SOLUSDT"), spread_scale=scale)
        params = dataclasses.replace(p, symbols={**p.symbols, "SOLUSDT": prof})
        cfg = SyntheticMarketConfig(
            seed=9,
            days=180,
            kline_minutes=60,
            exchanges=("binance", "bybit"),
            symbols=("SOLUSDT",),
            interval_overrides=(),
            params=params,
        )
        f = generate_synthetic_market(cfg).funding
        edge = st.funding_edge_stats(f, "binance", "bybit")["SOLUSDT"]["std"]
        stds[scale] = (edge, f.loc[f["exchange"] == "binance", "rate"].std())
    assert stds[0.2][0] < 0.8 * stds[1.0][0]  # the fast basis and venue scales remain
    assert stds[0.2][1] > 0.6 * stds[1.0][1]
