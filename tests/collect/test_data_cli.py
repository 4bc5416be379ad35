"""The data verbs end to end: typer CLI -> ccxt -> replay exchange -> DuckDB / PostgreSQL."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from arbscore.cli import app
from arbscore.data_tools.store import FUNDING, KLINES, LIVE_SNAPSHOTS, open_store

runner = CliRunner()


def cli(*args: str):
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


def backfill_args(replay, db, *extra):
    return (
        "backfill",
        "--exchange",
        "binance",
        "--symbols",
        "BTCUSDT,ETHUSDT",
        "--start",
        "2025-01-01",
        "--end",
        "2025-01-02",
        "--db",
        db,
        "--api-base",
        replay.base_url,
        *extra,
    )


def test_backfill_status_and_rerun_resume(replay, tmp_path):
    db = tmp_path / "m.duckdb"
    code, out = cli(*backfill_args(replay, db))
    assert code == 0, out
    assert "ETHUSDT" in out and "288" in out
    code, out = cli(*backfill_args(replay, db))
    assert code == 0 and "2025-01-02 00:00" in out  # resumed after the last stored bar
    code, out = cli("data", "status", "--db", db)
    assert code == 0 and "BTCUSDT" in out and "8h" in out
    with open_store(db) as store:
        assert store.count(KLINES) == 2 * 2 * 288 and store.count(FUNDING) == 6


def test_url_override_env_var_reaches_ccxt(replay, tmp_path, monkeypatch):
    monkeypatch.setenv("ARBSCORE_CCXT_URL_OVERRIDE", replay.base_url)
    code, out = cli(
        "live",
        "--once",
        "--exchange",
        "bybit,okx",
        "--symbols",
        "BTCUSDT",
        "--db",
        tmp_path / "l.duckdb",
    )
    assert code == 0, out
    with open_store(tmp_path / "l.duckdb") as store:
        assert store.count(LIVE_SNAPSHOTS) == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--start", "someday"), "--start"),
        (("--exchange", "kraken"), "--exchange"),
        (("--symbols", "DOGEUSDT"), "--symbols: DOGEUSDT is not listed"),
        (("--db", "mysql://x@y/z"), "--db"),
    ],
)
def test_bad_flags_exit_2_with_the_flag_named(replay, tmp_path, args, message):
    base = dict(
        zip(
            backfill_args(replay, tmp_path / "m.duckdb")[1::2],
            backfill_args(replay, tmp_path / "m.duckdb")[2::2],
            strict=True,
        )
    )
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    code, out = cli("backfill", *[x for kv in base.items() for x in kv])
    assert code == 2 and message in out and "Traceback" not in out


def test_exchange_down_after_retries_exits_1_and_keeps_pages(replay, tmp_path):
    replay.add_fault("/api/v3/klines", 503, "gateway_502.html", times=50)
    code, out = cli(*backfill_args(replay, tmp_path / "m.duckdb", "--max-retries", "1"))
    assert code == 1 and "ExchangeNotAvailable" in out and "resume" in out
    with open_store(tmp_path / "m.duckdb") as store:
        assert store.count(FUNDING) == 3 and store.count(KLINES) == 288  # BTC perp stayed


def test_import_bad_file_exits_2_naming_file_and_line(tmp_path):
    path = tmp_path / "BTCUSDT-fundingRate-2025-01.csv"
    path.write_text(
        "calc_time,funding_interval_hours,last_funding_rate\n"
        "1735689600000,8,0.0001\n1735718400000,8,abc\n"
    )
    code, out = cli("import", path, "--db", tmp_path / "m.duckdb")
    assert code == 2 and "line 3" in out.replace("\n", "") and "Traceback" not in out


def test_export_then_load_parquet(replay, tmp_path):
    db, other = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    assert cli(*backfill_args(replay, db, "--markets", "spot"))[0] == 0
    code, out = cli("data", "export", "klines", tmp_path / "k.parquet", "--db", db)
    assert code == 0 and "576 rows" in out
    assert cli("data", "load", "klines", tmp_path / "k.parquet", "--db", other)[0] == 0
    with open_store(other) as store:
        assert store.count(KLINES) == 576


@pytest.mark.postgres
def test_backfill_live_import_into_postgres(replay, client_for, pg_url, tmp_path):
    """The same collectors on the real PostgreSQL server: idempotent and resumable there too."""
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        for table in ("funding_events", "klines", "live_snapshots", "ingest_log"):
            conn.execute(f"DROP TABLE IF EXISTS {table}")
    args = (
        "backfill",
        "--exchange",
        "okx",
        "--symbols",
        "BTCUSDT",
        "--start",
        "2025-01-01",
        "--end",
        "2025-01-02",
        "--db",
        pg_url,
        "--api-base",
        replay.base_url,
    )
    assert cli(*args)[0] == 0
    assert cli(*args)[0] == 0
    code, out = cli(
        "live",
        "--once",
        "--exchange",
        "okx",
        "--symbols",
        "BTCUSDT",
        "--db",
        pg_url,
        "--api-base",
        replay.base_url,
    )
    assert code == 0, out
    path = tmp_path / "SOLUSDT-fundingRate-2025-01.csv"
    path.write_text("calc_time,funding_interval_hours,last_funding_rate\n1735689600000,4,0.0001\n")
    assert cli("import", path, "--db", pg_url)[0] == 0
    with open_store(pg_url) as store:
        assert store.count(KLINES) == 2 * 288 and store.count(FUNDING) == 3 + 1
        assert store.count(LIVE_SNAPSHOTS) == 2
        status = store.status()
        assert status["gaps"].sum() == 0 and "postgres" in store.kind


def test_read_only_verbs_create_no_store(tmp_path):
    missing = tmp_path / "nowhere" / "market.duckdb"
    for args in (
        ("data", "status"),
        ("data", "export", "klines", str(tmp_path / "k.parquet")),
        ("track", "accuracy"),
        ("track", "outcomes"),
        ("simulate", "--data", "store", "--out", str(tmp_path / "t.parquet")),
    ):
        code, out = cli(*args, "--db", missing)
        assert code == 2 and "no market store" in out, out
    assert not missing.exists() and not missing.parent.exists()
    assert not (tmp_path / "k.parquet").exists() and not (tmp_path / "t.parquet").exists()


def test_status_table_fits_80_columns(replay, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    db = tmp_path / "m.duckdb"
    code, out = cli(*backfill_args(replay, db))
    assert code == 0, out
    code, out = cli("data", "status", "--db", db)
    assert code == 0 and "BTCUSDT" in out, out
    assert "…" not in out and max(len(line) for line in out.splitlines()) <= 80, out
