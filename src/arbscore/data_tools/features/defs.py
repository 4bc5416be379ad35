"""The feature definitions, each written once over ``features.ops`` operations.

``m`` is :data:`features.ops.ARRAY_OPS` (whole columns, ``build_matrix``) or
:data:`features.ops.SCALAR_OPS` (one row's Python floats, ``build_rows``); the same expression
on either gives the same bits, which is what keeps the server's rows equal to training's X.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from arbscore.data_tools.features.columns import (
    BREAK_EVEN_CAP,
    RATIO_CLIP,
    SPREAD_RATIO_CLIP,
    VALUE_CLIP,
)


def clean(v, fill: float, m, break_even: bool):
    """A raw input made finite: missing/non-finite -> the fill value, clipped to ±VALUE_CLIP."""
    if break_even:  # inf or negative: never breaks even
        v = m.where(m.isinf(v) | (v < 0), BREAK_EVEN_CAP, v)
        v = m.minimum(v, BREAK_EVEN_CAP)
    return m.clip(m.where(m.isfinite(v), v, fill), VALUE_CLIP)


def engineered(raw: Mapping[str, Any], liquidity, m) -> tuple:
    """The ``ENGINEERED`` inputs, in that order, from the cleaned raw inputs."""
    # the projections are totals over 24 h / 72 h: compare them per 8 h with the current rate
    f8 = raw["fund_profit_8h"]
    f24, f3d = raw["fund_profit_24h_proj"] / 3.0, raw["fund_profit_3d_proj"] / 9.0
    cv = m.maximum(raw["spread_volatility_cv"], 0.0)
    momentum_3d = m.safe_div(f8 - f3d, m.abs(f3d), RATIO_CLIP)
    hour = 2 * np.pi * raw["hour_of_day"] / 24.0
    day = 2 * np.pi * raw["day_of_week"] / 7.0
    return (
        m.safe_div(f8 - f24, m.abs(f24), RATIO_CLIP),  # rate_momentum_24h
        momentum_3d,  # rate_momentum_3d
        m.abs(momentum_3d),  # rate_stability
        m.where((f8 > f24) & (f24 > f3d), 1.0, m.where(f8 < f3d, -1.0, 0.0)),  # rate_trend_score
        m.where(cv < 0.2, 1.0, m.where(cv < 0.5, 0.5, 0.0)),  # volatility_risk_score
        liquidity,  # liquidity_score
        m.log1p(m.maximum(raw["volume_24h"], 0.0)),
        m.log1p(m.maximum(raw["orderbook_depth"], 0.0)),
        m.safe_div(raw["bid_ask_spread"], m.abs(f8), SPREAD_RATIO_CLIP),  # spread_to_profit
        m.sin(hour),
        m.cos(hour),
        m.sin(day),
        m.cos(day),
        f8 * liquidity,  # profit_x_liquidity
        raw["fund_apr"] / (1.0 + cv),  # risk_adjusted_return
    )


def finite(v, m):
    """The last guard on every model input: non-finite -> 0, clipped to ±VALUE_CLIP."""
    return m.clip(m.where(m.isfinite(v), v, 0.0), VALUE_CLIP)
