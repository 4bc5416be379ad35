"""Concurrent first opens of one PostgreSQL store (``arbscore live`` and ``serve --ops-db``
starting together) create and migrate the tables once, behind an advisory lock, instead of
racing into UniqueViolation / DuplicateColumn. On the real local PostgreSQL server."""

from __future__ import annotations

import threading

import psycopg
import pytest

from arbscore.data_tools.store import open_store
from arbscore.data_tools.store.backends import PostgresBackend
from arbscore.data_tools.store.tables import ALL_TABLES
from tests.store.test_migration import OLD_LIVE, _old_store

pytestmark = pytest.mark.postgres
OPENERS = 8
ROUNDS = 4


def _drop_all(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for spec in ALL_TABLES:
            conn.execute(f"DROP TABLE IF EXISTS {spec.name}")


def _open_together(url: str) -> list[str]:
    barrier = threading.Barrier(OPENERS)
    errors: list[str] = []

    def one() -> None:
        barrier.wait()
        try:
            open_store(url).close()
        except Exception as exc:  # noqa: BLE001 - every failure is the finding
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=one) for _ in range(OPENERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return errors


def test_concurrent_first_opens_create_the_tables_once(pg_url):
    for _ in range(ROUNDS):
        _drop_all(pg_url)
        assert _open_together(pg_url) == []
    with open_store(pg_url) as store:
        assert store.kind == "postgresql"


def test_concurrent_opens_of_an_old_store_migrate_it_once(pg_url):
    for _ in range(ROUNDS):
        _drop_all(pg_url)
        backend = PostgresBackend(pg_url)
        _old_store(backend)
        backend.close()
        assert _open_together(pg_url) == []
    with psycopg.connect(pg_url) as conn:
        cols = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s",
            (OLD_LIVE.name,),
        ).fetchall()
    names = [c for (c,) in cols]
    assert len(names) == len(set(names)) and "predicted_funding_rate" in names
