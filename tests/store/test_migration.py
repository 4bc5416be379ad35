"""Stores written before funding parity (#11) held ccxt's PREDICTED rate in
``live_snapshots.funding_rate``: opening them moves it to ``predicted_funding_rate`` and fills
the settled rate from the store's own funding history, without losing a row. On a real DuckDB
file and a real PostgreSQL database."""

from __future__ import annotations

import pandas as pd
import pytest

from arbscore.data_tools.store import FUNDING, LIVE_SNAPSHOTS, TableSpec, open_store
from arbscore.data_tools.store.backends import DuckDBBackend, PostgresBackend

ADDED = LIVE_SNAPSHOTS.migrations[0].adds
#: the table as releases before #11 created it
OLD_LIVE = TableSpec(
    name=LIVE_SNAPSHOTS.name,
    columns=tuple(c for c in LIVE_SNAPSHOTS.columns if c.name not in ADDED),
    primary_key=LIVE_SNAPSHOTS.primary_key,
    checks=LIVE_SNAPSHOTS.checks,
)
OLD_ROWS = [  # (symbol, market, snapshot_time, funding_rate as the old collector stored it)
    ("BTCUSDT", "perp", "2026-01-01 05:00", 0.0005),
    ("BTCUSDT", "perp", "2026-01-02 09:00", 0.0004),  # last settlement 2026-01-01 08:00: > 24 h
    ("ETHUSDT", "perp", "2026-01-01 05:00", 0.0003),  # no history for ETH
    ("BTCUSDT", "spot", "2026-01-01 05:00", None),
]


def _old_store(backend) -> None:
    backend.create(FUNDING)
    backend.create(OLD_LIVE)
    funding = pd.DataFrame(
        {
            "exchange": "binance",
            "symbol": "BTCUSDT",
            "funding_time": pd.to_datetime(["2026-01-01 00:00", "2026-01-01 08:00"], utc=True),
            "rate": [0.0001, 0.0002],
            "interval_hours": 8.0,
            "mark_price": None,
        }
    )
    backend.upsert(FUNDING, funding)
    live = pd.DataFrame(
        [
            {
                "exchange": "binance",
                "symbol": sym,
                "market": market,
                "snapshot_time": pd.Timestamp(t, tz="UTC"),
                "fetched_at": pd.Timestamp(t, tz="UTC"),
                "funding_rate": rate,
                "source": "live",
            }
            for sym, market, t, rate in OLD_ROWS
        ]
    ).reindex(columns=list(OLD_LIVE.column_names))
    for col in OLD_LIVE.columns:
        if col.type == "float":
            live[col.name] = live[col.name].astype("float64")
        if col.type == "time":
            live[col.name] = pd.to_datetime(live[col.name], utc=True)
    backend.upsert(OLD_LIVE, live)
    backend.close()


def _check_migrated(url: str) -> None:
    with open_store(url) as store:
        rows = store.read(LIVE_SNAPSHOTS).set_index(["symbol", "market", "snapshot_time"])
        assert len(rows) == len(OLD_ROWS)  # nothing lost
        at = lambda s, m, t: rows.loc[(s, m, pd.Timestamp(t, tz="UTC"))]  # noqa: E731
        btc = at("BTCUSDT", "perp", "2026-01-01 05:00")
        assert btc["predicted_funding_rate"] == 0.0005
        assert btc["funding_rate"] == 0.0001  # settled at 00:00, from funding_events
        assert btc["last_funding_time"] == pd.Timestamp("2026-01-01 00:00", tz="UTC")
        stale = at("BTCUSDT", "perp", "2026-01-02 09:00")
        assert stale["predicted_funding_rate"] == 0.0004
        assert pd.isna(stale["funding_rate"]) and pd.isna(stale["last_funding_time"])
        eth = at("ETHUSDT", "perp", "2026-01-01 05:00")
        assert eth["predicted_funding_rate"] == 0.0003 and pd.isna(eth["funding_rate"])
        spot = at("BTCUSDT", "spot", "2026-01-01 05:00")
        assert pd.isna(spot["funding_rate"]) and pd.isna(spot["predicted_funding_rate"])
        # new rows go in with every column
        new = (
            rows.reset_index()
            .iloc[[0]]
            .assign(
                snapshot_time=pd.Timestamp("2026-01-03", tz="UTC"),
                funding_rate=0.0002,
                predicted_funding_rate=0.0006,
                last_funding_time=pd.Timestamp("2026-01-02 16:00", tz="UTC"),
            )
        )
        assert store.write_live(new) == 1
    with open_store(url) as store:  # opening again runs nothing twice
        rows = store.read(LIVE_SNAPSHOTS)
        assert len(rows) == len(OLD_ROWS) + 1
        assert store._migrate(LIVE_SNAPSHOTS) == []
        assert sorted(rows["predicted_funding_rate"].dropna()) == [0.0003, 0.0004, 0.0005, 0.0006]


def test_duckdb_store_from_before_funding_parity_is_migrated(tmp_path):
    path = str(tmp_path / "old.duckdb")
    _old_store(DuckDBBackend(path))
    _check_migrated(path)


@pytest.mark.postgres
def test_postgres_store_from_before_funding_parity_is_migrated():
    from tests.support.postgres import database_or_skip

    with database_or_skip() as url:
        _old_store(PostgresBackend(url))
        _check_migrated(url)


def test_fresh_store_has_every_column_and_runs_no_migration(tmp_path):
    with open_store(tmp_path / "new.duckdb") as store:
        assert store._migrate(LIVE_SNAPSHOTS) == []
        assert list(store.read(LIVE_SNAPSHOTS).columns) == list(LIVE_SNAPSHOTS.column_names)


def test_a_migration_must_add_nullable_columns_of_the_table():
    from arbscore.data_tools.store import Migration

    with pytest.raises(ValueError, match="nullable"):
        TableSpec(
            "t",
            LIVE_SNAPSHOTS.columns,
            LIVE_SNAPSHOTS.primary_key,
            migrations=(Migration("bad", adds=("exchange",)),),
        )
