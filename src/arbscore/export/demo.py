"""Tiny fitted families on synthetic opportunities, for export/serve tests and the benchmark.

Not market data and not a model anyone should trade with: it exists so the bundle -> server path
can be exercised (and its parity with the native models checked) without a full training run.
The opportunities are raw columns in the server's input format, so the same rows can be sent
over HTTP, through ``build_matrix`` and into the native models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from arbscore.data_tools.features import FeatureSpec, build_matrix
from arbscore.data_tools.targets import Targets
from arbscore.schema import EXTRA_FEATURE_COLUMNS, HOLD_GRID_HOURS


def synthetic_opportunities(n: int, seed: int = 0, extras: bool = False) -> dict[str, np.ndarray]:
    """``n`` opportunities as raw snake_case columns (no hold column); ``extras``: also the
    opportunity stage's extra inputs (``schema.EXTRA_FEATURE_COLUMNS``)."""
    rng = np.random.default_rng(seed)
    f8 = rng.normal(0.01, 0.03, n)
    more = {name: rng.normal(0.0, 1.0, n) for name in EXTRA_FEATURE_COLUMNS} if extras else {}
    if extras:
        more["round_trip_cost_pct"] = rng.uniform(0.1, 0.6, n)
        more["basis_pct"] = rng.normal(0.0, 0.3, n)
    return more | {
        "symbol": rng.choice(["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"], n),
        "strategy": rng.choice(["spot_perp", "perp_perp"], n),
        "fund_profit_8h": f8,
        "fund_apr": f8 * 3 * 365,
        "fund_profit_24h_proj": f8 + rng.normal(0, 0.01, n),
        "fund_profit_3d_proj": f8 + rng.normal(0, 0.015, n),
        "break_even_hours": rng.uniform(1, 200, n),
        "spread_volatility_cv": rng.uniform(0, 1, n),
        "volume_24h": rng.lognormal(17, 1.5, n),
        "bid_ask_spread": rng.uniform(0.005, 0.1, n),
        "orderbook_depth": rng.lognormal(12, 1, n),
        "liquidity_status": rng.choice(["Good", "Medium", "Low"], n),
        "btc_price": rng.normal(60000, 5000, n),
        "market_regime": rng.choice(["Bull", "Bear", "Ranging"], n),
        "hour_of_day": rng.integers(0, 24, n),
        "day_of_week": rng.integers(0, 7, n),
    }


def training_matrix(
    n_opportunities: int = 400, seed: int = 0, spec: FeatureSpec | None = None
) -> tuple[np.ndarray, Targets, FeatureSpec]:
    """(X, Targets, spec): every opportunity at every grid hold, rows in time order."""
    spec = spec or FeatureSpec()
    rng = np.random.default_rng(seed + 1)
    extras = bool(spec.extra_numeric)
    opp = synthetic_opportunities(n_opportunities, seed, extras=extras)
    holds = np.array(HOLD_GRID_HOURS, np.float64)
    idx = np.repeat(np.arange(n_opportunities), holds.size)
    hold = np.tile(holds, n_opportunities)
    cols = {k: v[idx] for k, v in opp.items()}
    cols["hold_hours"] = hold
    X = build_matrix(cols, spec)
    f8, spread = cols["fund_profit_8h"], cols["bid_ask_spread"]
    tau = 24 + 100 * (1 - cols["spread_volatility_cv"])
    income = f8 / 8 * tau * (1 - np.exp(-hold / tau))
    cost = cols["round_trip_cost_pct"] - cols["basis_pct"] if extras else 0.2
    profit = income - cost - 2 * spread + rng.normal(0, 0.05, idx.size) * np.sqrt(hold / 24)
    grid_income = (
        f8[:: holds.size, None]
        / 8
        * tau[:: holds.size, None]
        * (1 - np.exp(-holds / tau[:: holds.size, None]))
    )
    duration = holds[np.argmax(grid_income - 0.002 * holds, axis=1)][idx]
    ts = 1_735_689_600_000 + idx.astype(np.int64) * 3_600_000
    targets = Targets(
        profit=profit,
        success=(profit > 0).astype(np.float64),
        duration=duration,
        opportunity_id=idx.astype(np.int64),
        timestamp_ms=ts,
    )
    return X, targets, spec


def extras_spec() -> FeatureSpec:
    """The default spec plus every extra input of the opportunity stage (fill values 0)."""
    base = FeatureSpec()
    fills = (*base.fill_values, *((name, 0.0) for name in EXTRA_FEATURE_COLUMNS))
    return FeatureSpec(fill_values=fills, extra_numeric=EXTRA_FEATURE_COLUMNS)


def fit_demo_families(
    names: Sequence[str] = ("xgboost",),
    n_opportunities: int = 400,
    seed: int = 0,
    spec: FeatureSpec | None = None,
) -> tuple[dict[str, Any], FeatureSpec, np.ndarray]:
    """({name: fitted family}, spec, X) with small, fast settings (seconds on one core);
    ``spec``: e.g. :func:`extras_spec`, so the extra inputs move the predictions."""
    from arbscore.registry import get_family

    X, targets, spec = training_matrix(n_opportunities, seed, spec)
    fitted: dict[str, Any] = {}
    for name in names:
        cls = get_family(name)
        if name in ("xgboost", "lightgbm"):
            from arbscore.gbdt.config import GBDTConfig

            cfg = GBDTConfig(
                n_estimators=40,
                max_depth=4,
                num_leaves=15,
                min_samples_leaf=5,
                early_stopping_rounds=10,
                n_jobs=1,
                seed=seed,
                purge_hours=2.0,
            )
            family = cls(config=cfg)
        elif name == "mlx":
            from arbscore.mlx_models.config import MLXConfig

            family = cls(
                config=MLXConfig(
                    trunk_sizes=(16,),
                    head_hidden=8,
                    max_epochs=3,
                    batch_size=256,
                    warmup_steps=5,
                    seed=seed,
                    purge_hours=2.0,
                )
            )
        else:
            family = cls()
        fitted[name] = family.fit(X, targets, list(spec.feature_names))
    return fitted, spec, X
