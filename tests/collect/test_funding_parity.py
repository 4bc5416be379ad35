"""Funding parity (#11): live ``funding_rate`` is the last SETTLED rate, the exchange's estimate
for the coming settlement is ``predicted_funding_rate``; Hyperliquid live through real ccxt."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from arbscore.data_tools.collect.exchange import RetryPolicy
from arbscore.data_tools.collect.live import LiveConfig, snapshot_once
from arbscore.data_tools.store import LIVE_SNAPSHOTS
from tests.support.replay_exchange import HOUR_MS

HISTORY_PATHS = {
    "binance": "/fapi/v1/fundingRate",
    "bybit": "/v5/market/funding/history",
    "okx": "/api/v5/public/funding-rate-history",
}


DAY = 86_400_000


def settled_before(world, exchange, symbol, now_ms):
    spec = world.spec(exchange, symbol)
    return world.funding_times(exchange, spec, now_ms - 2 * DAY, now_ms)[-1]


@pytest.mark.parametrize("exchange", ["binance", "bybit", "okx"])
def test_live_row_keeps_settled_and_predicted_rates_apart(
    exchange, replay, world, client_for, duck
):
    world.end_ms -= 3 * HOUR_MS  # between settlements: the estimate differs from the last one
    now = world.end_ms
    config = LiveConfig((exchange,), ("BTCUSDT", "ETHUSDT"), retry=RetryPolicy(0))
    result = snapshot_once(duck, {exchange: client_for(exchange)}, config, now_s=now / 1000)
    assert result.errors == {}
    perp = duck.read(LIVE_SNAPSHOTS).query("market == 'perp'").set_index("symbol")
    digits = 6 if exchange == "okx" else 8  # OKX history: ccxt reads the realised rate
    for symbol in ("BTCUSDT", "ETHUSDT"):
        last = settled_before(world, exchange, symbol, now)
        row = perp.loc[symbol]
        assert row["last_funding_time"] == pd.Timestamp(last, unit="ms", tz="UTC")
        assert row["funding_rate"] == pytest.approx(
            round(world.rate(exchange, symbol, last), digits), abs=1e-12
        )
        assert row["predicted_funding_rate"] == pytest.approx(world.rate(exchange, symbol, now))
        assert row["funding_rate"] != pytest.approx(row["predicted_funding_rate"])
        assert row["next_funding_time"] > row["last_funding_time"]


def test_settled_history_is_asked_again_only_after_a_settlement(replay, world, client_for, duck):
    client = client_for("binance")
    config = LiveConfig(("binance",), ("BTCUSDT",), markets=("perp",), retry=RetryPolicy(0))
    cache: dict = {}
    world.end_ms -= 3 * HOUR_MS
    for minutes in (0, 5, 10):  # three rounds inside one funding interval
        world.end_ms += minutes * 60_000
        snapshot_once(duck, {"binance": client}, config, world.end_ms / 1000, cache)
    assert len(replay.calls(HISTORY_PATHS["binance"])) == 1
    world.end_ms += 4 * HOUR_MS  # the next settlement has passed
    snapshot_once(duck, {"binance": client}, config, world.end_ms / 1000, cache)
    assert len(replay.calls(HISTORY_PATHS["binance"])) == 2
    rows = duck.read(LIVE_SNAPSHOTS)
    assert rows["last_funding_time"].nunique() == 2  # the new settled rate was picked up
    newest = rows.sort_values("snapshot_time").iloc[-1]
    last = settled_before(world, "binance", "BTCUSDT", world.end_ms)
    assert newest["funding_rate"] == pytest.approx(world.rate("binance", "BTCUSDT", last))


def test_hyperliquid_live_through_ccxt(replay, world, client_for, duck):
    # ccxt's hyperliquid class stamps the next settlement from the local clock: the world's
    # "now" is the real clock here, as on the real exchange
    world.end_ms = int(time.time() * 1000)
    config = LiveConfig(("hyperliquid",), ("BTCUSDT", "ETHUSDT"), retry=RetryPolicy(0))
    result = snapshot_once(duck, {"hyperliquid": client_for("hyperliquid")}, config)
    assert result.errors == {} and result.rows == 2  # perps only: no spot listing
    rows = duck.read(LIVE_SNAPSHOTS).set_index("symbol")
    assert set(rows["market"]) == {"perp"} and (rows["interval_hours"] == 1.0).all()
    for symbol in ("BTCUSDT", "ETHUSDT"):
        row = rows.loc[symbol]
        last = world.end_ms // HOUR_MS * HOUR_MS
        assert row["last_funding_time"] == pd.Timestamp(last, unit="ms", tz="UTC")
        assert row["funding_rate"] == pytest.approx(world.rate("hyperliquid", symbol, last))
        assert row["predicted_funding_rate"] == pytest.approx(
            world.rate("hyperliquid", symbol, world.end_ms), abs=1e-8
        )
        # on the hour, within the next hour of the local clock (ccxt's own stamp)
        nxt = row["next_funding_time"].value // 10**6
        assert nxt % HOUR_MS == 0 and last < nxt <= last + 2 * HOUR_MS
        assert row["spread_pct"] == pytest.approx(0.02, abs=1e-4)
        assert row["quote_volume_24h"] > 0 and row["mark_price"] > 0
    bodies = replay.calls("/info#fundingHistory")
    assert bodies and all(b["coin"] in ("BTC", "ETH") for b in bodies)
