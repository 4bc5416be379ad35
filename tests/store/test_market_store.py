"""Market store behaviour on both backends: upserts, transactions, loads, status, Parquet."""

from __future__ import annotations

import pandas as pd
import pytest

from arbscore.data_tools.store import FUNDING, KLINES, Column, TableSpec, open_store

T0 = pd.Timestamp("2025-01-01", tz="UTC")


def funding(symbol="BTCUSDT", n=6, hours=8.0, rate=0.0001, exchange="binance", skip=()):
    times = [T0 + pd.Timedelta(hours=hours * i) for i in range(n) if i not in skip]
    return pd.DataFrame(
        {
            "exchange": exchange,
            "symbol": symbol,
            "funding_time": times,
            "rate": rate,
            "interval_hours": hours,
            "mark_price": [100.0 + i for i in range(len(times))],
        }
    )


def klines(n=12, market="perp", skip=(), symbol="BTCUSDT"):
    times = [T0 + pd.Timedelta(minutes=5 * i) for i in range(n) if i not in skip]
    return pd.DataFrame(
        {
            "exchange": "binance",
            "symbol": symbol,
            "market": market,
            "open_time": times,
            "interval_minutes": 5,
            "open": 1.0,
            "high": 2.0,
            "low": 0.5,
            "close": 1.5,
            "volume": 10.0,
            "quote_volume": 15.0,
        }
    )


def test_same_batch_twice_and_overlap_store_each_row_once(store):
    store.write_funding(funding(n=6))
    store.write_funding(funding(n=6))
    overlap = funding(n=10, rate=0.0002)  # rows 0-5 again (new rate) plus 4 new ones
    store.write_funding(overlap)
    stored = store.read(FUNDING)
    assert len(stored) == 10
    assert not stored.duplicated(["exchange", "symbol", "funding_time"]).any()
    assert (stored["rate"] == 0.0002).all()  # the later write wins


def test_duplicate_keys_inside_one_batch_stored_once(store):
    frame = pd.concat([klines(n=4), klines(n=4)], ignore_index=True)
    assert store.write_klines(frame) == 4
    assert store.count(KLINES) == 4


def test_failure_mid_batch_leaves_store_as_before(store):
    store.write_funding(funding(n=3))
    good_funding = funding(n=8, rate=0.0005)
    bad_klines = klines(n=10)
    bad_klines.loc[5, "market"] = "futures"  # violates the table's CHECK: a real bad row
    with pytest.raises(Exception, match="(?i)check|constraint"):
        store.write({FUNDING: good_funding, KLINES: bad_klines})
    stored = store.read(FUNDING)
    assert len(stored) == 3 and (stored["rate"] == 0.0001).all()
    assert store.count(KLINES) == 0
    # the store still works after the rollback
    store.write_klines(klines(n=10))
    assert store.count(KLINES) == 10


def test_null_in_required_column_rolls_back_whole_batch(store):
    frame = klines(n=6)
    frame["close"] = frame["close"].astype(float)
    frame.loc[3, "close"] = float("nan")
    with pytest.raises(Exception, match="(?i)null"):
        store.write_klines(frame)
    assert store.count(KLINES) == 0


def test_load_market_filters_and_types(store):
    store.write_funding(funding(symbol="BTCUSDT"))
    store.write_funding(funding(symbol="ETHUSDT", exchange="bybit", hours=4.0))
    store.write_klines(klines(market="perp"))
    store.write_klines(klines(market="spot"))
    market = store.load_market(exchanges=["bybit"])
    assert set(market.funding["symbol"]) == {"ETHUSDT"}
    assert market.klines.empty and not market.synthetic
    market = store.load_market(start="2025-01-01 00:30", end=T0 + pd.Timedelta(minutes=50))
    assert market.klines["open_time"].min() == T0 + pd.Timedelta(minutes=30)
    assert market.klines["open_time"].max() == T0 + pd.Timedelta(minutes=45)
    assert str(market.klines["open_time"].dt.tz) == "UTC"
    assert market.klines["interval_minutes"].dtype == "int64"
    assert market.funding.empty
    store.write_klines(klines(market="spot").assign(interval_minutes=60))
    assert len(store.load_market(interval_minutes=60).klines) == 12
    assert len(store.load_market(interval_minutes=5).klines) == 24
    market = store.load_market(symbols=["BTCUSDT", "ETHUSDT"], start=T0 + pd.Timedelta(hours=1))
    assert len(market.funding) == 5 + 5  # each symbol's 00:00 tick is before start
    assert str(market.funding["funding_time"].dt.tz) == "UTC"


def test_status_counts_gaps_against_each_symbols_own_interval(store):
    store.write_funding(funding(symbol="BTCUSDT", n=10, hours=8.0, skip=(3, 4)))
    store.write_funding(funding(symbol="SOLUSDT", n=10, hours=1.0, skip=(5,)))
    store.write_klines(klines(n=12, skip=(2, 7, 8)))
    status = store.status().set_index(["dataset", "symbol"])
    btc = status.loc[("funding", "BTCUSDT")]
    assert (btc["rows"], btc["gaps"], btc["interval"]) == (8, 2, "8h")
    sol = status.loc[("funding", "SOLUSDT")]
    assert (sol["rows"], sol["gaps"], sol["interval"]) == (9, 1, "1h")
    kl = status.loc[("kline", "BTCUSDT")]
    assert (kl["rows"], kl["gaps"], kl["interval"], kl["market"]) == (9, 3, "5m", "perp")
    assert kl["last"] == T0 + pd.Timedelta(minutes=55)


def test_last_time_is_where_collectors_resume(store):
    assert store.last_time(FUNDING, "binance", "BTCUSDT") is None
    store.write_funding(funding(n=4))
    assert store.last_time(FUNDING, "binance", "BTCUSDT") == T0 + pd.Timedelta(hours=24)
    store.write_klines(klines(n=3, market="spot"))
    assert store.last_time(KLINES, "binance", "BTCUSDT", "perp", 5) is None
    assert store.last_time(KLINES, "binance", "BTCUSDT", "spot", 5) == T0 + pd.Timedelta(minutes=10)


def test_parquet_round_trip(store, tmp_path):
    store.write_klines(klines(n=7))
    path = tmp_path / "out" / "klines.parquet"
    assert store.export_parquet("klines", path) == 7
    with open_store(tmp_path / "other.duckdb") as other:
        assert other.import_parquet("klines", path) == 7
        pd.testing.assert_frame_equal(other.read(KLINES), store.read(KLINES))
    with pytest.raises(ValueError, match="table"):
        store.export_parquet("nope", path)


def test_new_tables_use_the_same_upsert(store):
    spec = TableSpec(
        name="extra_table",
        columns=(Column("key", "text", False), Column("at", "time", False), Column("v", "float")),
        primary_key=("key", "at"),
    )
    store.register_table(spec)
    frame = pd.DataFrame({"key": ["a", "b"], "at": [T0, T0], "v": [1.0, 2.0]})
    store.upsert(spec, frame)
    store.upsert(spec, frame.assign(v=[3.0, 4.0]))
    assert store.read(spec)["v"].tolist() == [3.0, 4.0]


def test_bad_locations_raise_value_error(tmp_path):
    with pytest.raises(ValueError, match="--db"):
        open_store("mysql://x@y/z")
    with pytest.raises(ValueError, match="--db"):
        open_store("  ")


def test_duckdb_file_held_by_another_process_is_a_clear_error(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "held.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, duckdb; c = duckdb.connect(sys.argv[1]); "
            "print('ready', flush=True); sys.stdin.read()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(ValueError, match="--db: .* another process"):
            open_store(path)
    finally:
        holder.communicate("", timeout=30)
