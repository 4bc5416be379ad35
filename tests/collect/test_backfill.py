"""Backfill through real ccxt against the replay exchange: pagination, intervals, idempotency,
resume, retries and bad input. Every test fails if its behaviour breaks."""

from __future__ import annotations

import ccxt
import pandas as pd
import pytest

from arbscore.data_tools.collect.backfill import BackfillConfig, backfill, interval_hours
from arbscore.data_tools.collect.exchange import RetryPolicy
from arbscore.data_tools.store import FUNDING, INGEST_LOG, KLINES, open_store
from tests.support.replay_exchange import DAY_MS, WORLD_START_MS, SymbolSpec

START = pd.Timestamp(WORLD_START_MS, unit="ms", tz="UTC")
FAST = RetryPolicy(max_retries=4, base_delay_s=0.001)


def config(exchange, days=2, symbols=("BTCUSDT",), start=START, **kw):
    kw.setdefault("retry", FAST)
    return BackfillConfig(exchange, tuple(symbols), start, start + pd.Timedelta(days=days), **kw)


def expected_funding(world, exchange, symbol, lo, hi):
    spec = world.spec(exchange, symbol)
    return [t for t in world.funding_times(exchange, spec, lo, hi - 1)]


@pytest.mark.parametrize("exchange", ["binance", "bybit", "okx"])
def test_backfill_pages_through_and_stores_exact_series(exchange, replay, world, client_for, duck):
    cfg = config(exchange, days=1, symbols=("BTCUSDT", "ETHUSDT"))
    results = backfill(duck, client_for(exchange), cfg)
    end = WORLD_START_MS + DAY_MS
    funding = duck.read(FUNDING)
    for symbol in ("BTCUSDT", "ETHUSDT"):
        got = funding[funding["symbol"] == symbol]
        times = expected_funding(world, exchange, symbol, WORLD_START_MS, end)
        assert [int(t.value // 10**6) for t in got["funding_time"]] == times
        digits = 6 if exchange == "okx" else 8  # OKX: ccxt keeps the realised (paid) rate
        assert got["rate"].tolist() == pytest.approx(
            [round(world.rate(exchange, symbol, t), digits) for t in times], abs=1e-10
        )
        hours = world.spec(exchange, symbol).funding_hours
        assert (got["interval_hours"] == hours).all()
    klines = duck.read(KLINES)
    assert len(klines) == 2 * 2 * 288  # 2 symbols x (spot, perp) x 1 day of 5m bars
    one = klines[(klines["symbol"] == "ETHUSDT") & (klines["market"] == "perp")]
    t = WORLD_START_MS + 150 * 300_000
    row = one[one["open_time"] == pd.Timestamp(t, unit="ms", tz="UTC")].iloc[0]
    candle = world.candle(exchange, "ETHUSDT", "perp", t, 5)
    assert (row["open"], row["close"]) == pytest.approx((candle[1], candle[4]))
    assert row["volume"] == pytest.approx(candle[5])  # base units (OKX: not contracts)
    assert row["quote_volume"] == pytest.approx(candle[6])
    # 100-row pages: 288 bars need 3+ requests, i.e. pagination really happened
    assert all(r.requests >= 3 for r in results if r.dataset == "kline")
    assert duck.status()["gaps"].sum() == 0


def test_funding_interval_read_per_symbol_including_a_switch(replay, world, client_for, duck):
    switch = WORLD_START_MS + DAY_MS
    world.symbols["binance"] = (SymbolSpec("SOL", 8.0, switch_ms=switch, switch_hours=4.0),)
    backfill(
        duck, client_for("binance"), config("binance", days=3, symbols=("SOLUSDT",), markets=())
    )
    funding = duck.read(FUNDING)
    before = funding[funding["funding_time"] < pd.Timestamp(switch, unit="ms", tz="UTC")]
    after = funding[funding["funding_time"] > pd.Timestamp(switch, unit="ms", tz="UTC")]
    assert (before["interval_hours"] == 8.0).all() and len(before) == 3
    assert (after["interval_hours"] == 4.0).all() and len(after) == 11
    assert duck.status().iloc[0]["gaps"] == 0


def test_lone_settlement_reads_the_interval_from_recent_history(replay, client_for, duck):
    start = START + pd.Timedelta(hours=6)  # only the 08:00 settlement is in range
    cfg = BackfillConfig(
        "binance", ("ETHUSDT",), start, start + pd.Timedelta(hours=4), retry=FAST, markets=()
    )
    backfill(duck, client_for("binance"), cfg)
    assert duck.read(FUNDING)["interval_hours"].tolist() == [8.0]
    assert any("startTime" not in q for q in replay.calls("/fapi/v1/fundingRate"))


def test_interval_from_neighbours_ignores_a_missing_tick():
    h = 3_600_000
    assert interval_hours([0, 8 * h, 24 * h, 32 * h], None, None) == [8.0, 8.0, 8.0, 8.0]
    assert interval_hours([40 * h], 32 * h, None) == [8.0]
    with pytest.raises(ValueError, match="interval"):
        interval_hours([0], None, None)


def test_same_backfill_twice_and_overlapping_store_each_row_once(replay, client_for, duck):
    client = client_for("bybit")
    backfill(duck, client, config("bybit", days=2))
    counts = (duck.count(FUNDING), duck.count(KLINES))
    backfill(duck, client, config("bybit", days=2))
    assert (duck.count(FUNDING), duck.count(KLINES)) == counts
    backfill(duck, client, config("bybit", days=2, start=START + pd.Timedelta(days=1)))
    assert duck.count(KLINES) == 2 * 3 * 288 and duck.count(FUNDING) == 9
    klines = duck.read(KLINES)
    assert not klines.duplicated(["market", "open_time"]).any()


def test_second_run_resumes_from_last_stored_timestamp(replay, client_for, duck):
    client = client_for("binance")
    backfill(duck, client, config("binance", days=1))
    first_requests = len(replay.calls("/klines"))
    results = backfill(duck, client, config("binance", days=2))
    kline_calls = replay.calls("/klines")[first_requests:]
    day1 = WORLD_START_MS + DAY_MS
    assert min(int(q["startTime"]) for q in kline_calls) == day1  # not from the start again
    funding_calls = replay.calls("/fundingRate")
    assert int(funding_calls[-1]["startTime"]) > WORLD_START_MS
    assert all(r.resumed_from is not None for r in results)
    assert duck.count(KLINES) == 2 * 576


def test_crash_mid_backfill_keeps_pages_and_resumes(replay, client_for, tmp_path):
    path = tmp_path / "m.duckdb"
    client = client_for("binance")
    # the 3rd perp kline page answers a non-retryable error: the run stops there
    replay.add_fault("/fapi/v1/klines", 400, "binance_bad_symbol.json", after=2)
    with open_store(path) as store, pytest.raises(ccxt.BadSymbol):
        backfill(store, client, config("binance", days=2))
    with open_store(path) as store:
        kept = store.count(KLINES)
        assert kept == 2 * 100  # the two pages written before the failure
        log = store.read(INGEST_LOG)
        perp = log[(log["dataset"] == "kline_5m") & (log["market"] == "perp")]
        assert perp["last_time"].max() == START + pd.Timedelta(minutes=5 * (kept - 1))
        before = len(replay.calls("/fapi/v1/klines"))
        backfill(store, client, config("binance", days=2))
        resumed = replay.calls("/fapi/v1/klines")[before]
        assert int(resumed["startTime"]) == WORLD_START_MS + kept * 300_000
        assert store.count(KLINES) == 2 * 576 and store.status()["gaps"].sum() == 0


@pytest.mark.parametrize(
    ("exchange", "path", "status", "fixture"),
    [
        ("binance", "/fapi/v1/fundingRate", 429, "binance_429.json"),
        ("binance", "/api/v3/klines", 502, "gateway_502.html"),
        ("bybit", "/v5/market/kline", 200, "bybit_rate_limit.json"),
        ("okx", "/api/v5/public/funding-rate-history", 429, "okx_429.json"),
        ("okx", "/api/v5/market/history-candles", 503, "gateway_502.html"),
    ],
)
def test_transient_errors_are_retried_with_backoff(
    exchange, path, status, fixture, replay, client_for, duck
):
    replay.add_fault(path, status, fixture, times=3)
    waits: list[float] = []
    policy = RetryPolicy(max_retries=4, base_delay_s=0.01)
    backfill(duck, client_for(exchange), config(exchange, days=1, retry=policy), sleep=waits.append)
    assert waits == [0.01, 0.02, 0.04]  # exponential
    assert duck.count(KLINES) == 2 * 288 and duck.count(FUNDING) == 3


def test_request_timeout_is_retried(replay, client_for, duck):
    client = client_for("bybit")
    client.timeout = 300  # ms
    replay.add_stall("/v5/market/funding/history", seconds=1.0, times=1)
    waits: list[float] = []
    backfill(duck, client, config("bybit", days=1, markets=()), sleep=waits.append)
    assert waits == [FAST.base_delay_s] and duck.count(FUNDING) == 3
    assert len(replay.calls("/v5/market/funding/history")) == 2


def test_clients_are_rate_limited_and_redirected(replay):
    from arbscore.data_tools.collect.exchange import make_exchange

    client = make_exchange("okx", api_base=replay.base_url)
    assert client.enableRateLimit and client.rateLimit > 0
    assert client.urls["api"]["rest"].startswith(replay.base_url + "/")


def test_retries_give_up_after_max_and_store_nothing_half(replay, client_for, duck):
    replay.add_fault("/fapi/v1/fundingRate", 429, "binance_429.json", times=10)
    policy = RetryPolicy(max_retries=2, base_delay_s=0.0)
    with pytest.raises(ccxt.DDoSProtection):
        backfill(duck, client_for("binance"), config("binance", days=1, retry=policy))
    assert duck.count(FUNDING) == 0 and len(replay.calls("/fapi/v1/fundingRate")) == 3


def test_range_outside_listing_and_future_is_clipped(replay, world, client_for, duck):
    world.end_ms = WORLD_START_MS + 2 * DAY_MS  # the exchange's "now"
    early = START - pd.Timedelta(days=2)
    cfg = BackfillConfig(
        "okx", ("BTCUSDT",), early, START + pd.Timedelta(days=4), retry=FAST, markets=("spot",)
    )
    backfill(duck, client_for("okx"), cfg)
    status = duck.status().set_index("dataset")
    assert status.loc["kline", "first"] == START  # nothing before the listing
    assert status.loc["kline", "rows"] == 2 * 288  # closed bars up to "now", none after
    assert status.loc["funding", "rows"] == 7  # settlements at 0, 8, ..., 48 h ("now")
    assert status["gaps"].sum() == 0


def test_bad_input_is_a_value_error_naming_the_field(replay, client_for, duck):
    with pytest.raises(ValueError, match="--symbols: DOGEUSDT"):
        backfill(duck, client_for("binance"), config("binance", symbols=("DOGEUSDT",)))
    with pytest.raises(ValueError, match="--end"):
        config("binance", days=-1)
    with pytest.raises(ValueError, match="--exchange"):
        config("kraken")
    with pytest.raises(ValueError, match="--symbols"):
        config("binance", symbols=("btc/usdt",))
