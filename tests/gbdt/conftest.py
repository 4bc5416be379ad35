"""Shared small data and fast configs for the GBDT tests."""

from __future__ import annotations

import pytest

from arbscore.data_tools.synthetic_matrix import make_synthetic_matrix
from arbscore.gbdt.config import GBDTConfig
from arbscore.gbdt.lightgbm_family import LightGBMFamily
from arbscore.gbdt.xgboost_family import XGBoostFamily

FAST = GBDTConfig(n_estimators=300, early_stopping_rounds=30, min_samples_leaf=20, n_jobs=1)
FAMILIES = {"xgboost": XGBoostFamily, "lightgbm": LightGBMFamily}


@pytest.fixture(scope="session")
def fast_config() -> GBDTConfig:
    return FAST


@pytest.fixture(scope="session")
def families() -> dict:
    return FAMILIES


WEEK = (1, 4, 8, 12, 24, 48, 72, 120, 168)


@pytest.fixture(scope="session")
def train_data():
    """2,000 opportunities x 9 holds (the week grid the thresholds were set on) over 60 days."""
    return make_synthetic_matrix(2000, seed=11, days=60, holds=WEEK)


@pytest.fixture(scope="session")
def later_data():
    """Out-of-sample rows drawn later in time (a different seed, starting after train_data)."""
    start = 1_735_689_600_000 + 61 * 86_400_000
    return make_synthetic_matrix(1000, seed=12, days=20, start_ms=start, holds=WEEK)


@pytest.fixture(scope="session", params=sorted(FAMILIES))
def fitted(request, train_data):
    X, targets, names = train_data
    return FAMILIES[request.param](config=FAST).fit(X, targets, names)
