"""A tiny synthetic market and training-set config shared by the scale-out tests."""

from __future__ import annotations

import functools

from arbscore.data_tools.opportunities import OpportunityConfig
from arbscore.data_tools.simulate import SimulationConfig
from arbscore.data_tools.sources.synthetic import SyntheticMarketConfig, generate_synthetic_market
from arbscore.data_tools.training_set import TrainingSetConfig

SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")


@functools.cache
def tiny_market():
    return generate_synthetic_market(
        SyntheticMarketConfig(
            seed=3, days=20, exchanges=("binance", "bybit", "okx"), symbols=SYMBOLS
        )
    )


def tiny_config() -> TrainingSetConfig:
    # a 1 % regime threshold so the BTC context (Bull/Bear/Ranging) varies across the rows
    return TrainingSetConfig(
        opportunities=OpportunityConfig(entry_stride_minutes=120, regime_threshold_pct=1.0),
        simulation=SimulationConfig(holds_hours=(1, 4, 8, 24, 72, 168), horizon_hours=168),
    )
