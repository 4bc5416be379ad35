"""Collector fixtures: the replay exchange server, ccxt clients pointed at it, stores."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from arbscore.data_tools.collect.exchange import make_exchange  # noqa: E402
from arbscore.data_tools.store import open_store  # noqa: E402
from tests.support.postgres import database_or_skip  # noqa: E402
from tests.support.replay_exchange import DAY_MS, WORLD_START_MS, ReplayExchange, World  # noqa: E402


@pytest.fixture
def world():
    return World(end_ms=WORLD_START_MS + 10 * DAY_MS)


@pytest.fixture
def replay(world):
    """A replay server with small pages (so a few days already span many pages)."""
    with ReplayExchange(world, page_cap=100) as server:
        yield server


@pytest.fixture
def client_for(replay):
    def make(name: str):
        client = make_exchange(name, api_base=replay.base_url)
        client.rateLimit = 2  # still rate limited, just not at production pace in tests
        return client

    return make


@pytest.fixture
def duck(tmp_path):
    with open_store(tmp_path / "market.duckdb") as store:
        yield store


@pytest.fixture(scope="session")
def pg_url():
    with database_or_skip() as url:
        yield url
