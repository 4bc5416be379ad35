"""Backfill of premium-index klines (Binance, Bybit) and of Hyperliquid (hourly funding, perp
klines, ``BTC/USDC:USDC`` -> ``BTCUSDT``) through real ccxt against the replay exchange."""

from __future__ import annotations

import pandas as pd
import pytest

from arbscore.data_tools.collect.backfill import backfill
from arbscore.data_tools.store import FUNDING, INGEST_LOG, KLINES, PREMIUM_INDEX
from tests.collect.test_backfill import START, config
from tests.support.replay_exchange import DAY_MS, HOUR_MS, WORLD_START_MS

PREMIUM_PATHS = {
    "binance": "/fapi/v1/premiumIndexKlines",
    "bybit": "/v5/market/premium-index-price-kline",
}


@pytest.mark.parametrize("exchange", ["binance", "bybit"])
def test_premium_index_klines_are_stored_exactly_and_resume(
    exchange, replay, world, client_for, duck
):
    client = client_for(exchange)
    results = backfill(duck, client, config(exchange, days=1, markets=()))
    premium = duck.read(PREMIUM_INDEX)
    assert len(premium) == 288 and (premium["interval_minutes"] == 5).all()
    assert not premium["open_time"].duplicated().any()
    t = WORLD_START_MS + 100 * 300_000
    row = premium[premium["open_time"] == pd.Timestamp(t, unit="ms", tz="UTC")].iloc[0]
    candle = world.premium_candle(exchange, "BTCUSDT", t, 5)
    assert (row["open"], row["high"], row["low"], row["close"]) == pytest.approx(candle[1:])
    done = next(r for r in results if r.dataset == "premium")
    assert done.rows == 288 and done.requests >= 3  # 100-row pages
    status = duck.status().set_index("dataset").loc["premium"]
    assert (status["rows"], status["gaps"], status["interval"]) == (288, 0, "5m")
    log = duck.read(INGEST_LOG).set_index("dataset")
    assert log.loc["premium_5m", "last_time"] == START + pd.Timedelta(minutes=5 * 287)
    before = len(replay.calls(PREMIUM_PATHS[exchange]))
    again = backfill(duck, client, config(exchange, days=2, markets=()))
    asked = replay.calls(PREMIUM_PATHS[exchange])[before:]
    first = min(int(q.get("startTime", q.get("start", 0))) for q in asked)
    assert first == WORLD_START_MS + DAY_MS  # resumed after the last stored bar
    assert next(r for r in again if r.dataset == "premium").resumed_from is not None
    assert duck.count(PREMIUM_INDEX) == 576


def test_premium_index_is_skipped_where_the_venue_has_none(replay, client_for, duck):
    results = backfill(duck, client_for("okx"), config("okx", days=1, markets=()))
    assert [r.dataset for r in results] == ["funding"] and duck.count(PREMIUM_INDEX) == 0
    off = backfill(duck, client_for("binance"), config("binance", premium_index=False, markets=()))
    assert "premium" not in {r.dataset for r in off}


def test_hyperliquid_backfill_hourly_funding_and_perp_klines(replay, world, client_for, duck):
    results = backfill(
        duck, client_for("hyperliquid"), config("hyperliquid", days=5, symbols=("BTCUSDT",))
    )
    assert {(r.dataset, r.market) for r in results} == {("funding", "perp"), ("kline", "perp")}
    funding = duck.read(FUNDING)
    times = list(range(WORLD_START_MS, WORLD_START_MS + 5 * DAY_MS, HOUR_MS))
    assert [int(t.value // 10**6) for t in funding["funding_time"]] == times
    assert (funding["symbol"] == "BTCUSDT").all() and (funding["interval_hours"] == 1.0).all()
    assert funding["rate"].tolist() == pytest.approx(
        [world.rate("hyperliquid", "BTCUSDT", t) for t in times], abs=1e-12
    )
    klines = duck.read(KLINES)
    assert set(klines["market"]) == {"perp"} and len(klines) == 5 * 288
    t = WORLD_START_MS + 7 * 300_000
    row = klines[klines["open_time"] == pd.Timestamp(t, unit="ms", tz="UTC")].iloc[0]
    candle = world.candle("hyperliquid", "BTCUSDT", "perp", t, 5)
    assert row["close"] == pytest.approx(candle[4], rel=1e-4)  # 5 significant figures
    assert row["volume"] == pytest.approx(candle[5])
    assert duck.status()["gaps"].sum() == 0
    # 100-row pages (the server's cap, below the API's 500 / 5000): 120 settlements and 1440
    # bars need several requests each
    assert len(replay.calls("/info#fundingHistory")) >= 2
    assert len(replay.calls("/info#candleSnapshot")) >= 15


def test_hyperliquid_unknown_coin_names_the_symbol(replay, client_for, duck):
    with pytest.raises(ValueError, match="--symbols: SOLUSDT"):
        backfill(duck, client_for("hyperliquid"), config("hyperliquid", symbols=("SOLUSDT",)))


def test_hyperliquid_backfill_from_the_cli(replay, tmp_path):
    from tests.collect.test_data_cli import cli

    db = tmp_path / "hl.duckdb"
    code, out = cli(
        "backfill",
        "--exchange",
        "hyperliquid",
        "--symbols",
        "BTCUSDT",
        "--start",
        "2025-01-01",
        "--end",
        "2025-01-02",
        "--db",
        db,
        "--api-base",
        replay.base_url,
    )
    assert code == 0, out
    code, out = cli("data", "status", "--db", db)
    assert code == 0 and "hyperliquid" in out and "1h" in out
