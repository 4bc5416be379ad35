"""Fixtures: small fitted families (real XGBoost, LightGBM, MLX) shared by the export tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"
HAS_MLX = importlib.util.find_spec("mlx") is not None


@pytest.fixture(scope="session")
def demo():
    """({name: fitted family}, spec, X) -- fitted once per session (a few seconds)."""
    from arbscore.export.demo import fit_demo_families

    names = ("xgboost", "lightgbm", "mlx") if HAS_MLX else ("xgboost", "lightgbm")
    return fit_demo_families(names, n_opportunities=300, seed=3)
