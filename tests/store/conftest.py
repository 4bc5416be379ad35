"""Store fixtures: the same tests run on a DuckDB file and on a real PostgreSQL database."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from arbscore.data_tools.store import open_store  # noqa: E402
from tests.support.postgres import database_or_skip  # noqa: E402


@pytest.fixture(scope="session")
def pg_url():
    with database_or_skip() as url:
        yield url


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request, tmp_path):
    """A fresh, empty store location for each test on each backend."""
    if request.param == "duckdb":
        return str(tmp_path / "market.duckdb")
    url = request.getfixturevalue("pg_url")
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:  # empty the shared test database
        for table in (
            "funding_events",
            "klines",
            "live_snapshots",
            "premium_index_klines",
            "ingest_log",
            "extra_table",
        ):
            conn.execute(f"DROP TABLE IF EXISTS {table}")
    return url


@pytest.fixture
def store(store_url):
    with open_store(store_url) as s:
        yield s
