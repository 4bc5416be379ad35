"""Shared fixtures: the real data folder (tests needing it skip with the reason)."""

from __future__ import annotations

from pathlib import Path

import pytest

from arbscore.data_tools.sources.real import find_shared_data

SHARED = find_shared_data()
NO_DATA = "real market data not found (set ARBSCORE_SHARED_DATA or provide ../shared/data)"
needs_real_data = pytest.mark.skipif(SHARED is None, reason=NO_DATA)


@pytest.fixture(scope="session")
def shared_root() -> Path:
    if SHARED is None:
        pytest.skip(NO_DATA)
    return SHARED
