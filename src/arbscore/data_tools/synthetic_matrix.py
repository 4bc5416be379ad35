"""A plain float32 training matrix with known structure, for tests and as the benchmark's
fallback when the market pipeline is not available. Not market data: use
``arbscore.data_tools.training_set`` for anything that claims to be realistic.

Generator (per opportunity, entry times on the 5-minute grid in time order):
- ``fund_apr`` ~ N(15, 25) %/year, ``stability`` ~ U(0, 1), ``price_vol`` ~ LogNormal,
  ``spread_pct`` ~ U(0.01, 0.15), ``log_volume`` ~ N(17, 1.5), cyclic hour, regime one-hot and
  ``n_noise`` pure-noise columns; then ``hold_hours`` from ``schema.HOLD_GRID_HOURS``.
- funding earned over h hours decays with half-life 24 + 144 * stability hours:
  income(h) = apr / 8760 * tau * (1 - exp(-h / tau));
- costs = 0.2 % (four taker fills) + 2 * spread; price noise ~ N(0, price_vol * sqrt(h / 24)).
- profit = income - costs + noise (percent); success = profit > 0;
  duration = the grid hold with the best noise-free expected profit (hours).
"""

from __future__ import annotations

import numpy as np

from arbscore.data_tools.targets import Targets
from arbscore.schema import HOLD_COLUMN, HOLD_GRID_HOURS

_BASE_FEATURES = (
    "fund_apr",
    "stability",
    "price_vol",
    "spread_pct",
    "log_volume",
    "hour_sin",
    "hour_cos",
    "regime_bull",
    "regime_bear",
)


def make_synthetic_matrix(
    n_opportunities: int = 2000,
    *,
    seed: int = 0,
    days: float = 60.0,
    n_noise: int = 3,
    start_ms: int = 1_735_689_600_000,  # 2025-01-01 UTC
    holds: tuple[float, ...] = HOLD_GRID_HOURS,
) -> tuple[np.ndarray, Targets, list[str]]:
    """(X float32 with ``hold_hours`` last, Targets, feature_names); one row per
    (opportunity, hold) for every hold in ``holds`` (default the schema's grid), rows in time
    order."""
    if n_opportunities < 1:
        raise ValueError(f"n_opportunities must be >= 1, got {n_opportunities}")
    rng = np.random.default_rng(seed)
    n = n_opportunities
    step_ms = 5 * 60_000
    n_steps = max(1, int(days * 24 * 12))
    ts = start_ms + np.sort(rng.integers(0, n_steps, n)) * step_ms
    apr = rng.normal(15.0, 25.0, n)
    stability = rng.uniform(0.0, 1.0, n)
    price_vol = rng.lognormal(np.log(0.1), 0.5, n)
    spread = rng.uniform(0.01, 0.15, n)
    log_volume = rng.normal(17.0, 1.5, n)
    hour = (ts // 3_600_000) % 24
    regime = rng.integers(0, 3, n)
    noise_cols = rng.normal(0.0, 1.0, (n, n_noise))

    holds = np.asarray(holds, dtype=np.float64)
    tau = 24.0 + 144.0 * stability
    income = apr[:, None] / 8760.0 * tau[:, None] * (1.0 - np.exp(-holds[None, :] / tau[:, None]))
    costs = 0.2 + 2.0 * spread
    expected = income - costs[:, None]
    noise = rng.normal(0.0, 1.0, (n, holds.size)) * price_vol[:, None] * np.sqrt(holds / 24.0)
    profit = expected + noise
    duration = holds[np.argmax(expected, axis=1)]

    base = np.column_stack(
        [
            apr,
            stability,
            price_vol,
            spread,
            log_volume,
            np.sin(2 * np.pi * hour / 24),
            np.cos(2 * np.pi * hour / 24),
            regime == 0,
            regime == 1,
            noise_cols,
        ]
    )
    k = holds.size
    X = np.column_stack([np.repeat(base, k, axis=0), np.tile(holds, n)]).astype(np.float32)
    names = [*_BASE_FEATURES, *(f"noise_{i}" for i in range(n_noise)), HOLD_COLUMN]
    flat_profit = profit.ravel()
    targets = Targets(
        profit=flat_profit,
        success=(flat_profit > 0).astype(np.int8),
        duration=np.repeat(duration, k),
        opportunity_id=np.repeat(np.arange(n, dtype=np.int64), k),
        timestamp_ms=np.repeat(ts.astype(np.int64), k),
    )
    return X, targets, names
