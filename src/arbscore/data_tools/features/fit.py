"""Fitting a :class:`FeatureSpec` to training data (vocabularies, fill values, extra inputs).

Training only, but numpy only like the rest of ``features`` (it is re-exported there).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from arbscore.data_tools.features.columns import (
    DEFAULT_FILL_VALUES,
    KNOWN_EXTRA_NUMERIC,
    RAW_NUMERIC,
)
from arbscore.data_tools.features.keys import canonical_strategy
from arbscore.data_tools.features.matrix import as_float, row_count
from arbscore.data_tools.features.ops import category_text
from arbscore.data_tools.features.plan import case_insensitive
from arbscore.data_tools.features.spec import FeatureSpec
from arbscore.schema import HOLD_COLUMN, MARKET_REGIMES, STRATEGIES


def _distinct_categories(values: Any, canon) -> set[str]:
    """The canonical spellings present in a column (None/NaN/empty left out)."""
    texts = {category_text(v) for v in np.asarray(values, dtype=object).reshape(-1)}
    return {canon(t) for t in texts if t}


def fit_feature_spec(
    columns: Mapping[str, Any], *, extra_numeric: tuple[str, ...] | None = None
) -> FeatureSpec:
    """A spec for this training data: the schema's vocabularies plus any further strategy or
    regime seen (e.g. the guide's "CFFF"), median fill values for missing inputs, and the extra
    raw inputs (default: those of ``KNOWN_EXTRA_NUMERIC`` present with finite values)."""
    row_count(columns)  # equal lengths
    fills = dict(DEFAULT_FILL_VALUES)
    extra = []
    for name in KNOWN_EXTRA_NUMERIC if extra_numeric is None else extra_numeric:
        if name in columns and np.isfinite(as_float(columns[name])).any():
            extra.append(name)
            fills[name] = 0.0
    for name in (*RAW_NUMERIC, *extra, HOLD_COLUMN):
        if name in columns:
            v = as_float(columns[name])
            v = v[np.isfinite(v)]
            if v.size:
                fills[name] = float(np.median(v))
    strategies = list(STRATEGIES)
    if "strategy" in columns:
        uniq = _distinct_categories(columns["strategy"], canonical_strategy)
        strategies += sorted({u for u in uniq if u and u not in strategies})
    regimes = list(MARKET_REGIMES)
    if "market_regime" in columns:
        uniq = _distinct_categories(columns["market_regime"], case_insensitive(MARKET_REGIMES))
        regimes += sorted({u for u in uniq if u and u not in regimes})
    return FeatureSpec(
        strategies=tuple(strategies),
        market_regimes=tuple(regimes),
        fill_values=tuple(fills.items()),
        extra_numeric=tuple(extra),
    )
