"""composite_score: one 0-100 number a bot can sort opportunities by.

A formula over the three heads' predictions (numpy only): the server scores with it and the
exported raw-input graph (``export/onnx_raw.py``) computes the same inside ONNX.

Definition (vectorised; all three predictions are per row):

    r   = predicted_profit_pct * 24 / clip_hold_hours(hold, grid=True)   # % of capital per day
    u   = 4 * p * (1 - p)                      # success-head uncertainty: 0 sure .. 1 coin flip
    adj = r - penalty * u * |r|                # shrink gains / deepen losses when unsure
    composite_score = 100 * sigmoid(asinh(adj / scale_pct_per_day))

Why this shape: the capital of a funding-arbitrage position is tied up for the whole hold, so
the comparable quantity is net return *per day*; an unsure success head means the profit
estimate deserves less trust, so it is pulled towards "worse". For fixed p and hold the score is
strictly increasing in the expected return (slope 1 - penalty*u > 0 for penalty < 1). A zero
edge scores 50. ``asinh`` is linear near zero and logarithmic far out, so typical funding edges
(hundredths of a percent per day) spread over the scale while large ones still rank instead of
all saturating at 100. With the default scale of 0.05 %/day (about 18 % a year): 0.05 %/day
scores ~70, 0.14 %/day (~50 % APR) ~85, -0.05 %/day ~29 (with a confident success head).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from arbscore.schema import clip_hold_hours


@dataclass(frozen=True)
class CompositeConfig:
    """Shape of the composite score (saved in the bundle manifest's serve section)."""

    scale_pct_per_day: float = 0.05
    uncertainty_penalty: float = 0.5

    def __post_init__(self) -> None:
        if not self.scale_pct_per_day > 0:
            raise ValueError(f"scale_pct_per_day={self.scale_pct_per_day}: must be > 0")
        if not 0 <= self.uncertainty_penalty < 1:
            raise ValueError(
                f"uncertainty_penalty={self.uncertainty_penalty}: must be in [0, 1) "
                "so the score stays monotone in expected return"
            )


def return_per_day(
    profit_pct: np.ndarray, hold_hours: np.ndarray, hold_grid: tuple[float, ...] | None = None
) -> np.ndarray:
    """Net return in % of capital per day of holding (``hold_grid``: the bundle's)."""
    hold = clip_hold_hours(np.asarray(hold_hours, np.float64), grid=True, hold_grid=hold_grid)
    return np.asarray(profit_pct, np.float64) * 24.0 / hold


def composite_score(
    profit_pct,
    success_probability,
    hold_hours,
    config: CompositeConfig = CompositeConfig(),
    hold_grid: tuple[float, ...] | None = None,
) -> np.ndarray:
    """Score in [0, 100] per row (see the module docstring for the formula)."""
    r = return_per_day(profit_pct, hold_hours, hold_grid)
    p = np.clip(np.asarray(success_probability, np.float64), 0.0, 1.0)
    u = 4.0 * p * (1.0 - p)
    adj = r - config.uncertainty_penalty * u * np.abs(r)
    z = np.arcsinh(adj / config.scale_pct_per_day)
    return 100.0 / (1.0 + np.exp(-z))


def composite_score_one(
    profit_pct: float,
    success_probability: float,
    hold_hours: float,
    config: CompositeConfig = CompositeConfig(),
    hold_grid: tuple[float, ...] | None = None,
) -> float:
    """:func:`composite_score` for one row in plain floats (the single-opportunity fast path:
    numpy's per-call overhead is most of the cost at one row). Tested equal to the array form."""
    r = profit_pct * 24.0 / clip_hold_hours(hold_hours, grid=True, hold_grid=hold_grid)
    p = min(max(success_probability, 0.0), 1.0)
    adj = r - config.uncertainty_penalty * 4.0 * p * (1.0 - p) * abs(r)
    return 100.0 / (1.0 + math.exp(-math.asinh(adj / config.scale_pct_per_day)))
