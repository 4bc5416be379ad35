"""Model inputs from opportunity rows: one function for training and for the server.

The public import path for everything about model inputs; the code lives in small modules:

- :mod:`features.columns`: which inputs, in which order, and the constants that keep them finite;
- :mod:`features.spec`: :class:`FeatureSpec` (the saved description) and its JSON round trip;
- :mod:`features.plan`: a spec compiled into lookups; :mod:`features.defs`: the definitions;
- :mod:`features.matrix`: ``build_matrix`` (columns) and ``build_rows`` (a few records);
- :mod:`features.fit`: ``fit_feature_spec`` for training data.

numpy only (the serving install has no pandas). ``build_matrix`` takes a mapping of column name
-> 1-D array (a DataFrame's columns, or parsed JSON turned into arrays) and a :class:`FeatureSpec`
and returns float32 ``X`` in ``spec.feature_names`` order. The last column is always
``hold_hours`` so the duration head can drop it (the hold is an input of the simulation).
``build_rows`` is the server's path for a few records: the same definitions (``clean``,
``engineered``, ``finite``, each written once over ``features.ops`` array/scalar operations),
evaluated on Python floats, bit-identical to ``build_matrix`` and ~20x faster for one row.

Defined results, so no inf/NaN ever reaches a model:
- a missing or non-numeric raw value is replaced by the spec's fill value (training medians);
- ``break_even_hours`` that is inf/negative (never breaks even) is capped at ``BREAK_EVEN_CAP``;
- a ratio with a zero denominator is 0, and ratios are clipped to a fixed range;
- an unknown category encodes as all-zero one-hot (and the lowest liquidity score).
"""

from __future__ import annotations

from arbscore.data_tools.features.columns import (
    BREAK_EVEN_CAP,
    CATEGORICAL,
    DEFAULT_FILL_VALUES,
    DEFAULT_LIQUIDITY_SCORES,
    ENGINEERED,
    KNOWN_EXTRA_NUMERIC,
    RATIO_CLIP,
    RAW_NUMERIC,
    SPREAD_RATIO_CLIP,
    UNKNOWN_LIQUIDITY_SCORE,
    VALUE_CLIP,
)

# tests/features/test_fast_rows.py counts the definitions through this module
from arbscore.data_tools.features.defs import engineered as _engineered  # noqa: F401
from arbscore.data_tools.features.fit import fit_feature_spec
from arbscore.data_tools.features.keys import canonical_strategy, normalise_key, normalise_keys
from arbscore.data_tools.features.matrix import (
    ROWS_FAST_MAX,
    as_float,
    build_matrix,
    build_rows,
    missing_inputs,
)
from arbscore.data_tools.features.ops import ARRAY_OPS, SCALAR_OPS, safe_div
from arbscore.data_tools.features.spec import DEFAULT_FEATURE_SPEC, FEATURE_NAMES, FeatureSpec
from arbscore.schema import LIQUIDITY_STATUSES

__all__ = [
    "ARRAY_OPS",
    "BREAK_EVEN_CAP",
    "CATEGORICAL",
    "DEFAULT_FEATURE_SPEC",
    "DEFAULT_FILL_VALUES",
    "DEFAULT_LIQUIDITY_SCORES",
    "ENGINEERED",
    "FEATURE_NAMES",
    "FeatureSpec",
    "KNOWN_EXTRA_NUMERIC",
    "LIQUIDITY_STATUSES",
    "RATIO_CLIP",
    "RAW_NUMERIC",
    "ROWS_FAST_MAX",
    "SCALAR_OPS",
    "SPREAD_RATIO_CLIP",
    "UNKNOWN_LIQUIDITY_SCORE",
    "VALUE_CLIP",
    "as_float",
    "build_matrix",
    "build_rows",
    "canonical_strategy",
    "fit_feature_spec",
    "missing_inputs",
    "normalise_key",
    "normalise_keys",
    "safe_div",
]
