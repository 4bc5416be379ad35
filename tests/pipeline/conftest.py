"""Tiny stage configs for end-to-end runs: a 30-day two-symbol synthetic market, real
families with few trees/epochs, two walk-forward folds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GUIDE_CSV = REPO / "tests" / "features" / "data" / "guide_training_data.csv"

TINY = {
    "synthetic": {
        "days": 30,
        "symbols": ["BTCUSDT", "ETHUSDT"],
        "exchanges": ["binance", "bybit"],
        "kline_minutes": 60,
    },
    # a 30-day market cannot hold the default 30-day horizon: simulate the week grid
    "training_set": {
        "opportunities": {"entry_stride_minutes": 240},
        "simulation": {"holds_hours": [1, 4, 8, 12, 24, 48, 72, 120, 168], "horizon_hours": 168},
    },
    "evaluation": {"n_folds": 2, "latency_repeats": 1},
    "families": {
        "xgboost": {"n_estimators": 30, "early_stopping_rounds": 5, "n_jobs": 1},
        "lightgbm": {"n_estimators": 30, "early_stopping_rounds": 5, "n_jobs": 1},
        "mlx": {"max_epochs": 2, "trunk_sizes": [16], "head_hidden": 0},
    },
}


@pytest.fixture
def tiny_config(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(TINY))
    return path
