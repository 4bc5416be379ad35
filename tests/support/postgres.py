"""A throwaway PostgreSQL database per test session on the local server (127.0.0.1:5432).

Tests marked ``postgres`` use :func:`temporary_database`; when the server cannot be reached
they skip with the reason, never pass silently.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

ADMIN_URL = os.environ.get("ARBSCORE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def server_problem() -> str | None:
    """None when the server answers, else why not (used as the skip reason)."""
    try:
        import psycopg

        with psycopg.connect(ADMIN_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means "unreachable" here
        return f"PostgreSQL at {ADMIN_URL} unreachable: {exc}"
    return None


@contextlib.contextmanager
def temporary_database() -> Iterator[str]:
    """Create ``arbscore_test_<random>``, yield its URL, drop it afterwards."""
    import psycopg

    name = f"arbscore_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def database_or_skip() -> Iterator[str]:
    """:func:`temporary_database`, or ``pytest.skip`` with :func:`server_problem`'s reason: the
    body of every ``pg_url`` fixture (each conftest picks its own scope)."""
    import pytest

    problem = server_problem()
    if problem:
        pytest.skip(problem)
    with temporary_database() as url:
        yield url
