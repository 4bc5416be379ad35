"""Ops fixtures: live rows collected through real ccxt from the replay exchange (once per
session), a small real bundle with a drift reference, a tiny synthetic training set, and
throwaway PostgreSQL databases."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ops_helpers import collect_live, tiny_market  # noqa: E402

from arbscore.data_tools.store import LIVE_SNAPSHOTS, open_store  # noqa: E402
from tests.support.postgres import database_or_skip  # noqa: E402
from tests.support.replay_exchange import ReplayExchange, World  # noqa: E402

LIVE_HOURS = 36


@pytest.fixture(scope="session")
def live_db(tmp_path_factory) -> Path:
    """A DuckDB file with 36 h of hourly live snapshots (binance + bybit, BTC + ETH, spot +
    perp) taken by the real collector from the replay exchange. Copy it before writing."""
    path = tmp_path_factory.mktemp("live") / "live.duckdb"
    with ReplayExchange(World()) as replay, open_store(path) as store:
        collect_live(replay, store, LIVE_HOURS)
    return path


@pytest.fixture(scope="session")
def live_frame(live_db):
    with open_store(live_db) as store:
        return store.read(LIVE_SNAPSHOTS)


@pytest.fixture
def live_copy(live_db, tmp_path) -> Path:
    dest = tmp_path / "ops.duckdb"
    shutil.copy(live_db, dest)
    return dest


@pytest.fixture(scope="session")
def ops_bundle(tmp_path_factory) -> Path:
    """A real bundle (XGBoost on the export demo set) with a drift reference in its manifest."""
    from arbscore.export.bundle import export_families
    from arbscore.export.demo import fit_demo_families
    from arbscore.export.reference import reference_from_matrix, served_outputs

    fams, spec, X = fit_demo_families(("xgboost",), n_opportunities=300, seed=3)
    winners = {h: ("xgboost", fams["xgboost"]) for h in ("profit", "success", "duration")}
    reference = reference_from_matrix(
        X, spec.feature_names, served_outputs(winners, X, spec.feature_names)
    )
    out = tmp_path_factory.mktemp("bundle") / "bundle"
    export_families(winners, spec, out, reference=reference)
    return out


@pytest.fixture(scope="session")
def tiny_training(tmp_path_factory):
    """Labelled rows from a 30-day two-symbol synthetic market (entries every 4 h)."""
    from arbscore.data_tools.opportunities import OpportunityConfig
    from arbscore.data_tools.simulate import SimulationConfig
    from arbscore.data_tools.training_set import TrainingSetConfig, build_training_set

    # a 30-day market cannot hold the default 30-day horizon: simulate the week grid
    week = SimulationConfig(holds_hours=(1, 4, 8, 12, 24, 48, 72, 120, 168), horizon_hours=168)
    config = TrainingSetConfig(
        opportunities=OpportunityConfig(entry_stride_minutes=240), simulation=week
    )
    return build_training_set(tiny_market(), config)


@pytest.fixture
def pg_url():
    with database_or_skip() as url:
        yield url
