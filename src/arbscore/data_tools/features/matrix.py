"""Model input rows from opportunity columns or records: ``build_matrix`` and ``build_rows``.

``build_matrix`` evaluates a :class:`FeatureSpec` on whole columns (training, large batches);
``build_rows`` evaluates it on a few records' Python floats (the server), bit-identical and
~20x faster for one row. Both call the same definitions (:mod:`features.defs`). numpy only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from arbscore.data_tools.features.columns import (
    CATEGORICAL,
    RAW_NUMERIC,
    UNKNOWN_LIQUIDITY_SCORE,
    VALUE_CLIP,
)
from arbscore.data_tools.features.defs import clean, engineered, finite
from arbscore.data_tools.features.ops import ARRAY_OPS, SCALAR_OPS, to_float
from arbscore.data_tools.features.plan import Plan
from arbscore.data_tools.features.spec import DEFAULT_FEATURE_SPEC, FeatureSpec
from arbscore.schema import HOLD_COLUMN


def as_float(values: Any) -> np.ndarray:
    """1-D float64 array; None, empty strings and non-numbers become NaN (each value read as
    :func:`features.ops.to_float` reads it, so a row and a column give the same number)."""
    arr = np.asarray(values)
    if arr.dtype.kind in "US" and not isinstance(values, np.ndarray):
        # a list mixing strings with numbers: numpy would turn True into 'True' (NaN), not 1.0
        arr = np.asarray(values, dtype=object)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    try:
        return arr.astype(np.float64)
    except (TypeError, ValueError):
        return np.array([to_float(v) for v in arr.tolist()], dtype=np.float64)


def missing_inputs(columns: Mapping[str, Any], spec: FeatureSpec | None = None) -> list[str]:
    """Input columns ``build_matrix`` would have to fill entirely (the server may report them)."""
    spec = spec or DEFAULT_FEATURE_SPEC
    needed = (*RAW_NUMERIC, *spec.extra_numeric, *CATEGORICAL, HOLD_COLUMN)
    return [name for name in needed if name not in columns]


def row_count(columns: Mapping[str, Any]) -> int:
    lengths = {}
    for name in (*RAW_NUMERIC, *CATEGORICAL, HOLD_COLUMN):
        if name in columns:
            arr = np.asarray(columns[name], dtype=object)
            lengths[name] = 1 if arr.ndim == 0 else arr.shape[0]
    if not lengths:
        raise ValueError(f"no feature columns given; expected some of {list(RAW_NUMERIC)}")
    sizes = set(lengths.values())
    if len(sizes) > 1:
        raise ValueError(f"feature columns differ in length: {lengths}")
    return sizes.pop()


def build_matrix(
    columns: Mapping[str, Any], spec: FeatureSpec = DEFAULT_FEATURE_SPEC, *, strict: bool = False
) -> np.ndarray:
    """float32 ``X`` (rows x ``spec.n_features``) in ``spec.feature_names`` order, no inf/NaN.

    ``columns`` maps snake_case names to 1-D arrays (use :func:`normalise_keys` first for the
    guide's camelCase). ``strict=True`` raises ``ValueError`` naming any absent input column
    (training); otherwise absent columns are filled like missing values (serving). For a few
    records (the server) :func:`build_rows` gives the same bits much faster.
    """
    if strict:
        absent = missing_inputs(columns, spec)
        if absent:
            raise ValueError(f"feature input is missing columns {absent}")
    n = row_count(columns)
    plan, m = spec._plan, ARRAY_OPS

    raw: dict[str, np.ndarray] = {}
    for name, fill, be, _, _ in plan.numeric:
        v = as_float(columns[name]) if name in columns else np.full(n, np.nan)
        if v.shape[0] == 1 and n != 1:
            v = np.full(n, v[0])
        raw[name] = clean(v, fill, m, be)
    liquidity = np.full(n, UNKNOWN_LIQUIDITY_SCORE)
    if "liquidity_status" in columns:
        liquidity = plan.liquidity.column(columns["liquidity_status"], n).astype(np.float64)

    X = np.zeros((n, spec.n_features), dtype=np.float64)
    n_raw = len(plan.raw_names)
    X[:, :n_raw] = np.column_stack([raw[k] for k in plan.raw_names])
    eng = engineered(raw, liquidity, m)
    X[:, n_raw : n_raw + len(eng)] = np.column_stack(eng)
    start = n_raw + len(eng)
    for name, vocab in (("strategy", plan.strategy), ("market_regime", plan.regime)):
        if columns.get(name) is not None:
            code = vocab.column(columns[name], n).astype(np.intp)
            rows = np.nonzero(code >= 0)[0]
            X[rows, start + code[rows]] = 1.0
    X[:, spec.feature_names.index(HOLD_COLUMN)] = raw[HOLD_COLUMN]
    assert start + plan.n_onehot + 1 == spec.n_features, (start, spec.n_features)
    return finite(X, m).astype(np.float32)


def _row(record: Mapping[str, Any], plan: Plan) -> list[float]:
    """One record's inputs as floats: the same definitions as ``build_matrix``, scalar ops."""
    get, m = record.get, SCALAR_OPS
    values = []
    for name, fill, be, lo, hi, missing in plan.row_numeric:
        v = get(name)
        if v is None:  # a field the record leaves out
            values.append(missing)
            continue
        if type(v) is not float:
            v = to_float(v)
        values.append(v if lo <= v <= hi else clean(v, fill, m, be))
    raw = dict(zip(plan.numeric_names, values, strict=True))
    hold = values.pop()
    eng = engineered(raw, plan.liquidity(get("liquidity_status")), m)
    # the raw inputs are finite and clipped already: only the engineered ones need the guard
    values += [v if -VALUE_CLIP <= v <= VALUE_CLIP else finite(v, m) for v in eng]
    onehot = [0.0] * plan.n_onehot
    for i in (plan.strategy(get("strategy")), plan.regime(get("market_regime"))):
        if i >= 0:
            onehot[i] = 1.0
    values += onehot
    values.append(hold)
    return values


#: up to this many records build_rows works row by row; above it, on columns
ROWS_FAST_MAX = 32


def build_rows(
    records: Sequence[Mapping[str, Any]], spec: FeatureSpec = DEFAULT_FEATURE_SPEC
) -> np.ndarray:
    """``build_matrix`` for a list of snake_case records (the server's path), bit-identical.

    A key a record lacks is a missing value. Small lists are computed with Python floats (a
    numpy call on a 1-element array costs more than the arithmetic: ~20 µs per row instead of
    ~400), larger ones through ``build_matrix`` on their columns; the definitions are the same
    functions either way (``clean``, ``engineered``, ``finite`` of :mod:`features.defs`).
    """
    plan = spec._plan
    if len(records) > ROWS_FAST_MAX:
        return build_matrix({k: [r.get(k) for r in records] for k in plan.inputs}, spec)
    out = np.array([_row(r, plan) for r in records], dtype=np.float32)
    return out.reshape(len(records), spec.n_features)
