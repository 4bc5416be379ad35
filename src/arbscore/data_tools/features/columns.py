"""Which inputs the models read, in which order, and the constants that keep them finite.

numpy-free and pandas-free. The raw column lists come from :mod:`arbscore.schema` (one place
defines each column list); the order here is the feature order saved in every bundle, so it
must not change: ``RAW_NUMERIC`` is the SPEC's feature columns in schema order less the
categories, ``KNOWN_EXTRA_NUMERIC`` the opportunity stage's extra columns in schema order.
"""

from __future__ import annotations

from arbscore.schema import (
    EXTRA_FEATURE_COLUMNS,
    HOLD_COLUMN,
    MAX_HOLD_HOURS,
    OPPORTUNITY_FEATURE_COLUMNS,
)

CATEGORICAL: tuple[str, ...] = ("strategy", "market_regime", "liquidity_status")

#: raw numeric inputs taken as they are (after filling missing values)
RAW_NUMERIC: tuple[str, ...] = tuple(
    name for name in OPPORTUNITY_FEATURE_COLUMNS if name not in CATEGORICAL
)
#: engineered inputs (the guide's plus a few log/ratio transforms), computed in this order
ENGINEERED: tuple[str, ...] = (
    "rate_momentum_24h",
    "rate_momentum_3d",
    "rate_stability",
    "rate_trend_score",
    "volatility_risk_score",
    "liquidity_score",
    "log_volume_24h",
    "log_orderbook_depth",
    "spread_to_profit",
    "hour_sin",
    "hour_cos",
    "day_sin",
    "day_cos",
    "profit_x_liquidity",
    "risk_adjusted_return",
)

#: further raw inputs our opportunity stage adds; ``fit_feature_spec`` takes those present in
#: the training data, the guide's CSV has none
KNOWN_EXTRA_NUMERIC: tuple[str, ...] = EXTRA_FEATURE_COLUMNS

#: "never breaks even" is encoded as this many hours (10 x the longest hold)
BREAK_EVEN_CAP = 10.0 * MAX_HOLD_HOURS
RATIO_CLIP = 10.0  # momentum/stability ratios are clipped to [-10, 10]
SPREAD_RATIO_CLIP = 100.0
VALUE_CLIP = 1e12  # keeps every raw value finite in float32

DEFAULT_FILL_VALUES: dict[str, float] = {name: 0.0 for name in RAW_NUMERIC}
DEFAULT_FILL_VALUES.update(break_even_hours=BREAK_EVEN_CAP, spread_volatility_cv=0.5)
DEFAULT_FILL_VALUES[HOLD_COLUMN] = 24.0

#: the guide's liquidity scores; anything else (unknown, missing) scores like "Low"
DEFAULT_LIQUIDITY_SCORES: tuple[tuple[str, float], ...] = (
    ("Good", 1.0),
    ("Medium", 0.6),
    ("Low", 0.2),
)
UNKNOWN_LIQUIDITY_SCORE = 0.2
