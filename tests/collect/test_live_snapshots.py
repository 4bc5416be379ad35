"""Live snapshots through real ccxt against the replay exchange."""

from __future__ import annotations

import pandas as pd
import pytest

from arbscore.data_tools.collect.exchange import RetryPolicy
from arbscore.data_tools.collect.live import LiveConfig, book_top, run_live, snapshot_once
from arbscore.data_tools.store import LIVE_SNAPSHOTS, open_store

EXCHANGES = ("binance", "bybit", "okx")
T0 = 1_767_225_600.0  # 2026-01-01 00:00 UTC (epoch seconds)


def live_config(**kw):
    kw.setdefault("retry", RetryPolicy(max_retries=0))
    return LiveConfig(EXCHANGES, ("BTCUSDT", "ETHUSDT"), depth_band_pct=0.1, **kw)


@pytest.fixture
def clients(client_for):
    return {name: client_for(name) for name in EXCHANGES}


def test_one_round_stores_every_market_with_book_and_funding(replay, world, clients, duck):
    result = snapshot_once(duck, clients, live_config(), now_s=T0 + 42)
    assert result.errors == {} and result.rows == 12
    rows = duck.read(LIVE_SNAPSHOTS)
    assert (rows["snapshot_time"] == pd.Timestamp(T0, unit="s", tz="UTC")).all()
    assert (rows["source"] == "live").all()
    assert rows["spread_pct"].between(0.0199, 0.0201).all()  # the replay book: 1 bp each side
    # depth within +/-0.1 %: the five best levels (1..5 base units each side), in USD;
    # OKX perp books are in contracts and must come out in base units like the others
    mids = (rows["bid"] + rows["ask"]) / 2
    assert (rows["bid_depth_usd"] / mids).between(14.9, 15.0).all()
    perp = rows[rows["market"] == "perp"].set_index(["exchange", "symbol"])
    assert perp.loc[("bybit", "ETHUSDT"), "interval_hours"] == 4.0  # from the exchange
    assert perp.loc[("binance", "BTCUSDT"), "interval_hours"] == 8.0  # from recent settlements
    assert perp.loc[("okx", "BTCUSDT"), "interval_hours"] == 8.0
    assert perp["funding_rate"].notna().all() and perp["next_funding_time"].notna().all()
    assert rows.loc[rows["market"] == "spot", "funding_rate"].isna().all()
    assert rows["quote_volume_24h"].gt(0).all()


def test_one_exchange_failing_does_not_stop_the_others(replay, clients, duck):
    replay.add_fault("/api/v5/market/ticker", 502, "gateway_502.html", times=100)
    result = snapshot_once(duck, clients, live_config(), now_s=T0)
    assert set(result.errors) == {"okx"} and "ExchangeNotAvailable" in result.errors["okx"]
    stored = duck.read(LIVE_SNAPSHOTS)
    assert set(stored["exchange"]) == {"binance", "bybit"} and len(stored) == 8


def test_restart_retakes_the_current_slot_once_and_goes_on(replay, client_for, tmp_path):
    path = tmp_path / "live.duckdb"
    config = LiveConfig(("bybit",), ("BTCUSDT",), interval="5m", retry=RetryPolicy(0))
    with open_store(path) as store:  # first process: one round, then "crashes"
        run_live(store, {"bybit": client_for("bybit")}, config, max_rounds=1, clock=lambda: T0)
    clock = iter([T0 + 100, T0 + 300, T0 + 300])  # restarted inside the same slot
    with open_store(path) as store:
        rounds = run_live(
            store, {"bybit": client_for("bybit")}, config, max_rounds=2, clock=lambda: next(clock)
        )
        stored = store.read(LIVE_SNAPSHOTS)
    assert [r.snapshot_time.timestamp() for r in rounds] == [T0, T0 + 300]
    assert len(stored) == 2 * 2  # two slots x (perp, spot): the retaken slot is not doubled
    assert stored.groupby("snapshot_time").size().tolist() == [2, 2]


def test_book_top_band_and_contract_size():
    book = {"bids": [[99.9, 2], [99.0, 5]], "asks": [[100.1, 1], [101.5, 9]]}
    top = book_top(book, band_pct=0.5, contract_size=0.1)
    assert top["spread_pct"] == pytest.approx(0.2)
    assert top["bid_depth_usd"] == pytest.approx(99.9 * 0.2)  # 99.0 is outside the band
    assert top["ask_depth_usd"] == pytest.approx(100.1 * 0.1)
    assert book_top({"bids": [], "asks": []}, 0.5)["spread_pct"] is None


def test_bad_live_config_names_the_flag():
    with pytest.raises(ValueError, match="--exchange"):
        LiveConfig(("kraken",), ("BTCUSDT",))
    with pytest.raises(ValueError, match="--interval"):
        LiveConfig(("binance",), ("BTCUSDT",), interval="soon")
    with pytest.raises(ValueError, match="--depth-band"):
        LiveConfig(("binance",), ("BTCUSDT",), depth_band_pct=0)


def test_runs_until_stopped(replay, client_for, duck):
    import threading

    stop = threading.Event()
    config = LiveConfig(("okx",), ("BTCUSDT",), interval="1h", retry=RetryPolicy(0))
    rounds = run_live(
        duck, {"okx": client_for("okx")}, config, stop=stop, on_round=lambda r: stop.set()
    )  # would otherwise wait for the next hour
    assert len(rounds) == 1 and rounds[0].rows == 2
