"""Small synthetic (opportunity x hold) data sets with a learnable structure, and tiny configs.

Profit grows with hold x a funding-like input minus a fixed cost, success is profit > 0 and the
optimal hold depends on another input, so every head has something to learn. Entry times are
5 minutes apart (one opportunity per snapshot), so time splits behave like the real ones.
"""

from __future__ import annotations

import numpy as np

from arbscore.data_tools.targets import Targets
from arbscore.mlx_models.config import MLXConfig
from arbscore.schema import HOLD_GRID_HOURS, MAX_HOLD_HOURS

FIVE_MIN_MS = 300_000


def make_dataset(
    n_opp: int = 300,
    n_features: int = 8,
    seed: int = 0,
    holds: tuple[int, ...] = HOLD_GRID_HOURS,
    drift: float = 0.0,
) -> tuple[np.ndarray, Targets, list[str]]:
    """X (float32, hold last), Targets and feature names; ``drift`` shifts inputs over time."""
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(n_opp, n_features - 1)).astype(np.float32)
    f[:, 0] += drift * np.linspace(0.0, 1.0, n_opp, dtype=np.float32)
    hold = np.asarray(holds, dtype=np.float32)
    k = len(hold)
    x = np.column_stack([np.repeat(f, k, axis=0), np.tile(hold, n_opp)]).astype(np.float32)
    rate = np.repeat(0.01 + 0.02 * f[:, 1], k)
    h = x[:, -1]
    profit = rate * h * 0.375 - 0.2 + rng.normal(scale=0.05, size=len(h))
    duration = np.repeat(np.clip(np.exp(2.0 + f[:, 2]), 0.0, MAX_HOLD_HOURS), k)
    targets = Targets(
        profit=profit.astype(np.float64),
        success=(profit > 0).astype(np.float64),
        duration=duration.astype(np.float64),
        opportunity_id=np.repeat(np.arange(n_opp, dtype=np.int64), k),
        timestamp_ms=np.repeat(np.arange(n_opp, dtype=np.int64) * FIVE_MIN_MS, k),
    )
    names = [f"f{i}" for i in range(n_features - 1)] + ["hold_hours"]
    return x, targets, names


def tiny_config(**overrides: object) -> MLXConfig:
    """Small and quick even with the bundled (slow) BLAS that pytest runs with."""
    base: dict[str, object] = dict(
        trunk_sizes=(32, 16),
        head_hidden=16,
        batch_size=256,
        min_steps_per_epoch=4,
        max_epochs=20,
        warmup_steps=5,
        purge_hours=2.0,
        learning_rate=3e-3,
    )
    base.update(overrides)
    return MLXConfig(**base)  # type: ignore[arg-type]
