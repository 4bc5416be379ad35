"""The real-data loader: schema, windows and each source's timestamp quirk fixed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from arbscore.data_tools.market import MarketData
from arbscore.data_tools.sources import load_shared_market
from arbscore.data_tools.sources.freqtrade import infer_interval_hours, read_funding
from arbscore.data_tools.sources.legacy import (
    london_to_utc,
    read_aha_8h,
    read_supervik_funding,
    read_zushen_funding,
)
from arbscore.schema import FUNDING_COLUMNS, KLINE_COLUMNS
from tests.sources.conftest import needs_real_data

pytestmark = needs_real_data


@pytest.fixture(scope="module")
def market(shared_root: Path) -> MarketData:
    return load_shared_market(
        shared_root, symbols=("BTCUSDT", "ETHUSDT", "WIFUSDT"), start="2025-01-01"
    )


def test_schema_window_and_layout(market: MarketData) -> None:
    assert market.synthetic is False and market.source.startswith("real")
    assert tuple(market.klines.columns) == KLINE_COLUMNS
    assert tuple(market.funding.columns) == FUNDING_COLUMNS
    k, f = market.klines, market.funding
    assert k["open_time"].min() >= pd.Timestamp("2025-01-01", tz="UTC")
    assert str(k["open_time"].dt.tz) == "UTC" and str(f["funding_time"].dt.tz) == "UTC"
    assert (k["interval_minutes"] == 60).all()
    series = set(zip(k["exchange"], k["market"], k["symbol"], strict=True))
    assert ("binance", "spot", "BTCUSDT") in series and ("bybit", "perp", "WIFUSDT") in series
    assert not any(ex == "bybit" and m == "spot" for ex, m, _ in series)
    assert market.details["missing"] == {}  # Binance WIF perp: 03's binance_futures folder
    assert not k.duplicated(["exchange", "symbol", "market", "open_time"]).any()
    assert (k["quote_volume"] > 0).mean() > 0.99
    btc = k[(k["exchange"] == "binance") & (k["symbol"] == "BTCUSDT") & (k["market"] == "perp")]
    assert btc["open_time"].diff().dropna().eq(pd.Timedelta(hours=1)).mean() > 0.999


def test_funding_lands_on_its_interval_grid(market: MarketData) -> None:
    f = market.funding
    assert (f["funding_time"].dt.second == 0).all() and (f["funding_time"].dt.minute == 0).all()
    assert (f["funding_time"].dt.hour % f["interval_hours"] == 0).all()
    majors = f[f["symbol"].isin(["BTCUSDT", "ETHUSDT"])]
    assert set(majors["funding_time"].dt.hour) == {0, 8, 16}
    wif = f[(f["exchange"] == "bybit") & (f["symbol"] == "WIFUSDT")]
    assert set(wif["interval_hours"]) == {4, 8}  # the 8 h -> 4 h switch is seen, not assumed
    gaps = wif["funding_time"].diff().dt.total_seconds().div(3600).iloc[1:]
    assert (gaps.to_numpy() == wif["interval_hours"].iloc[1:].to_numpy()).mean() > 0.99


def test_mark_price_is_the_mark_bar_at_settlement(market: MarketData, shared_root: Path) -> None:
    mark = pd.read_feather(
        shared_root / "02_harthor_marketlab_binance/futures/BTC_USDT_USDT-1h-mark.feather"
    ).set_index("date")["open"]
    f = market.funding[
        (market.funding["exchange"] == "binance") & (market.funding["symbol"] == "BTCUSDT")
    ]
    expected = mark.reindex(pd.DatetimeIndex(f["funding_time"])).to_numpy()
    np.testing.assert_allclose(f["mark_price"].to_numpy(), expected)


def test_ms_jitter_rounded_so_sources_agree(shared_root: Path, market: MarketData) -> None:
    z = read_zushen_funding(shared_root, venues=("binance",))
    raw = pd.read_parquet(shared_root / "01_zushen168_funding_rate_data/funding_binance.parquet")
    assert (raw["settlement_ts"].dt.microsecond > 0).any()  # the quirk is really there
    assert (z["funding_time"].dt.second == 0).all() and (
        z["funding_time"].dt.microsecond == 0
    ).all()
    ours = market.funding[
        (market.funding["exchange"] == "binance") & (market.funding["symbol"] == "BTCUSDT")
    ]
    joined = ours.merge(z[z["symbol"] == "BTCUSDT"], on=["symbol", "funding_time"])
    assert len(joined) > 300  # without rounding almost nothing would join
    np.testing.assert_allclose(joined["rate_x"], joined["rate_y"], atol=1e-12)


def test_utc_plus_3_removed_and_matches_london_source(shared_root: Path) -> None:
    s = read_supervik_funding(shared_root, keep_all_venues=True)
    for venue in ("binance", "bybit", "htx", "mexc", "gate"):
        hours = s[s["exchange"] == venue]["funding_time"].dt.hour.value_counts(normalize=True)
        assert hours.reindex([0, 8, 16]).sum() > 0.97, venue
    kucoin = s[s["exchange"] == "kucoin"]["funding_time"].dt.hour
    assert kucoin.isin([4, 12, 20]).mean() > 0.97
    derived = pd.read_parquet(shared_root / "derived/supervik_funding_7venues_utc.parquet")
    d = derived[derived["exchange"] == "binance"].assign(
        symbol=lambda x: x["symbol"].str.replace("-", ""),
        funding_time=lambda x: x["funding_time_utc"].dt.round("min"),  # it keeps the ms jitter
    )
    j = s[s["exchange"] == "binance"].merge(d, on=["symbol", "funding_time"])
    assert len(j) == (s["exchange"] == "binance").sum()
    aha_f, _ = read_aha_8h(shared_root)
    both = s[s["exchange"] == "binance"].merge(
        aha_f[aha_f["exchange"] == "binance"], on=["symbol", "funding_time"]
    )
    assert len(both) > 1000
    np.testing.assert_allclose(both["rate_x"], both["rate_y"], atol=1e-10)


def test_london_time_converted(shared_root: Path) -> None:
    raw = pd.read_csv(shared_root / "07_aha_hh_3exchange_8h/all_exchanges.csv.gz", nrows=20000)
    summer = pd.to_datetime(raw["time"]).dt.month.isin([7])
    assert set(pd.to_datetime(raw.loc[summer, "time"]).dt.hour) == {1, 9, 17}  # BST wall clock
    funding, klines = read_aha_8h(shared_root)
    assert set(funding["funding_time"].dt.hour) == {0, 8, 16}
    assert set(klines["open_time"].dt.hour) == {0, 8, 16}
    assert not klines.duplicated(["exchange", "symbol", "market", "open_time"]).any()
    ambiguous = london_to_utc(pd.Series(["2023-10-29 01:00:00"]))
    assert ambiguous.iloc[0] == pd.Timestamp("2023-10-29 00:00", tz="UTC")


def test_interval_inference_handles_switch_and_gaps() -> None:
    t = pd.Series(
        pd.to_datetime(
            [
                "2025-01-01 00:00",
                "2025-01-01 08:00",
                "2025-01-01 16:00",
                "2025-01-02 08:00",
                "2025-01-02 12:00",
                "2025-01-02 16:00",
                "2025-01-02 17:00",
            ],
            utc=True,
        )
    )
    # 16 h gap (missing row) is no interval: it takes the next valid gap (4 h)
    assert infer_interval_hours(t).tolist() == [8, 8, 8, 4, 4, 4, 1]


def test_freqtrade_rate_is_read_from_open(shared_root: Path) -> None:
    path = shared_root / "03_mohsenjfar_trade_bybit/futures/BTC_USDT_USDT-1h-funding_rate.feather"
    raw = pd.read_feather(path)
    f = read_funding(path, "bybit")
    assert f["symbol"].iloc[0] == "BTCUSDT"
    np.testing.assert_allclose(f["rate"].to_numpy(), raw["open"].to_numpy())
    assert (raw["close"] == 0).all()


def test_okx_mark_bars_have_no_volume(shared_root: Path) -> None:
    m = load_shared_market(
        shared_root, exchanges=("okx",), symbols=("BTCUSDT",), start="2025-11-01"
    )
    assert m.klines["volume"].isna().all() and len(m.klines) > 24 * 50
    assert set(m.funding["funding_time"].dt.hour) == {0, 8, 16}


def test_bad_input_names_the_problem(shared_root: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="exchanges"):
        load_shared_market(shared_root, exchanges=("ftx",))
    with pytest.raises(ValueError, match="not found"):
        load_shared_market(shared_root, symbols=("NOPEUSDT",))
    with pytest.raises(ValueError, match="after start"):
        load_shared_market(shared_root, start="2025-02-01", end="2025-01-01")
    with pytest.raises(ValueError, match="missing"):
        load_shared_market(shared_root, symbols=("XRPUSDT", "BTCUSDT"), require_all=True)
    with pytest.raises(FileNotFoundError, match="ARBSCORE_SHARED_DATA"):
        load_shared_market(tmp_path)


@pytest.fixture(scope="module")
def hyperliquid(shared_root: Path) -> MarketData:
    return load_shared_market(
        shared_root, exchanges=("hyperliquid",), symbols=("BTCUSDT", "ETHUSDT", "LINKUSDT")
    )


def test_hyperliquid_funding_hourly_on_whole_hours(hyperliquid: MarketData) -> None:
    f = hyperliquid.funding
    assert set(f["exchange"]) == {"hyperliquid"} and set(f["interval_hours"]) == {1}
    assert (f["funding_time"].dt.second == 0).all() and (
        f["funding_time"].dt.microsecond == 0
    ).all()
    assert f["funding_time"].min() >= pd.Timestamp("2025-08-21", tz="UTC")
    for _, g in f.groupby("symbol"):
        gaps = g["funding_time"].diff().dropna()
        assert (gaps == pd.Timedelta(hours=1)).mean() > 0.999  # hourly, not the 8 h of CEXs
    # 0.01 %/8 h interest paid hourly: 1/8 of it is the most common rate
    assert np.isclose(f["rate"], 1e-4 / 8, rtol=0, atol=1e-12).mean() > 0.3


def test_hyperliquid_prices_are_named_estimates(hyperliquid: MarketData, shared_root: Path) -> None:
    """No Hyperliquid prices in the data: Binance's perp bars stand in, and say so."""
    m = hyperliquid
    assert "estimated from binance perp" in m.source
    assert set(m.details["estimates"]) == {"hyperliquid:perp:BTCUSDT", "hyperliquid:perp:ETHUSDT"}
    assert "binance:perp:BTCUSDT" in m.details["estimates"]["hyperliquid:perp:BTCUSDT"]
    series = m.details["kline_series"]["hyperliquid:perp:BTCUSDT"]
    assert series["price_source"] == "estimate: binance:perp:BTCUSDT"
    assert m.details["funding_without_price"] == {"hyperliquid": ["LINKUSDT"]}
    assert "LINKUSDT" not in set(m.funding["symbol"])  # funding without any price is left out
    k = m.klines[m.klines["symbol"] == "BTCUSDT"].set_index("open_time")
    raw = pd.read_feather(
        shared_root / "02_harthor_marketlab_binance/futures/BTC_USDT_USDT-1h-futures.feather"
    ).set_index("date")
    np.testing.assert_allclose(k["close"].to_numpy(), raw["close"].reindex(k.index).to_numpy())
    f = m.funding[m.funding["symbol"] == "BTCUSDT"]
    np.testing.assert_allclose(
        f["mark_price"].to_numpy(), raw["open"].reindex(pd.DatetimeIndex(f["funding_time"]))
    )
    # the stand-in covers the Hyperliquid funding window only
    assert k.index.min() >= f["funding_time"].min() - pd.Timedelta(hours=2)


def test_pepe_spot_rescaled_to_the_1000pepe_contract(shared_root: Path) -> None:
    m = load_shared_market(shared_root, symbols=("1000PEPEUSDT",), exchanges=("binance",))
    k = m.klines.pivot_table(index="open_time", columns="market", values="close")
    ratio = (k["perp"] / k["spot"]).dropna()
    assert len(ratio) > 8000 and abs(ratio.median() - 1.0) < 0.002  # same unit on both legs
    assert "binance:spot:1000PEPEUSDT" in m.details["rescaled"]
    raw = pd.read_feather(shared_root / "02_harthor_marketlab_binance/spot/PEPE_USDT-1h.feather")
    spot = m.klines[m.klines["market"] == "spot"].set_index("open_time")
    raw = raw.set_index("date").reindex(spot.index)
    np.testing.assert_allclose(spot["close"], raw["close"] * 1000)
    np.testing.assert_allclose(
        spot["quote_volume"],
        raw["volume"] * (raw["high"] + raw["low"] + raw["close"]) / 3,
        rtol=1e-9,
    )


def test_binance_wif_perp_from_the_bybit_repo(shared_root: Path) -> None:
    m = load_shared_market(
        shared_root, symbols=("WIFUSDT",), exchanges=("binance", "bybit"), start="2024-10-01"
    )
    perp = m.klines[(m.klines["exchange"] == "binance") & (m.klines["market"] == "perp")]
    assert perp["open_time"].min() == pd.Timestamp("2024-10-01", tz="UTC")
    assert perp["open_time"].max() < pd.Timestamp("2025-02-21", tz="UTC")
    f = m.funding[m.funding["exchange"] == "binance"]
    assert set(f["interval_hours"]) == {4}  # the file says 8h; the settlements say 4 h
