"""Model inputs from opportunity rows: one function for training and for the server.

numpy only (the serving install has no pandas). ``build_matrix`` takes a mapping of column name
-> 1-D array (a DataFrame's columns, or parsed JSON turned into arrays) and a :class:`FeatureSpec`
and returns float32 ``X`` in ``spec.feature_names`` order. The last column is always
``hold_hours`` so the duration head can drop it (the hold is an input of the simulation).
``build_rows`` is the server's path for a few records: the same definitions (``_clean``,
``_engineered``, ``_finite``, each written once over ``feature_ops`` array/scalar operations),
evaluated on Python floats, bit-identical to ``build_matrix`` and ~20x faster for one row.

Defined results, so no inf/NaN ever reaches a model:
- a missing or non-numeric raw value is replaced by the spec's fill value (training medians);
- ``break_even_hours`` that is inf/negative (never breaks even) is capped at ``BREAK_EVEN_CAP``;
- a ratio with a zero denominator is 0, and ratios are clipped to a fixed range;
- an unknown category encodes as all-zero one-hot (and the lowest liquidity score).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from arbscore.data_tools.feature_keys import canonical_strategy, normalise_key, normalise_keys
from arbscore.data_tools.feature_ops import (
    ARRAY_OPS,
    SCALAR_OPS,
    Vocab,
    category_text,
    safe_div,
    to_float,
)
from arbscore.schema import (
    HOLD_COLUMN,
    LIQUIDITY_STATUSES,
    MARKET_REGIMES,
    MAX_HOLD_HOURS,
    STRATEGIES,
)

#: raw numeric inputs taken as they are (after filling missing values)
RAW_NUMERIC: tuple[str, ...] = (
    "fund_profit_8h",
    "fund_apr",
    "fund_profit_24h_proj",
    "fund_profit_3d_proj",
    "break_even_hours",
    "spread_volatility_cv",
    "volume_24h",
    "bid_ask_spread",
    "orderbook_depth",
    "btc_price",
    "hour_of_day",
    "day_of_week",
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
CATEGORICAL: tuple[str, ...] = ("strategy", "market_regime", "liquidity_status")

#: further raw inputs our opportunity stage adds (data_tools.opportunities.EXTRA_FEATURE_COLUMNS);
#: ``fit_feature_spec`` takes those present in the training data, the guide's CSV has none
KNOWN_EXTRA_NUMERIC: tuple[str, ...] = (
    "long_funding_rate_pct",
    "short_funding_rate_pct",
    "long_interval_hours",
    "short_interval_hours",
    "hours_to_next_funding",
    "basis_pct",
    "basis_zscore",
    "realised_vol_24h_pct",
    "rate_change_8h",
    "rate_change_24h",
    "round_trip_cost_pct",
)

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


def _sanitise(value: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", value.lower()).strip("_") or "empty"


@dataclass(frozen=True)
class FeatureSpec:
    """The ordered feature list and every encoding, saved with the models and in the bundle.

    ``feature_names`` is derived from the vocabularies; a file whose names disagree with its
    vocabularies is rejected (it would silently shift columns).
    """

    strategies: tuple[str, ...] = STRATEGIES
    market_regimes: tuple[str, ...] = MARKET_REGIMES
    liquidity_scores: tuple[tuple[str, float], ...] = DEFAULT_LIQUIDITY_SCORES
    fill_values: tuple[tuple[str, float], ...] = tuple(DEFAULT_FILL_VALUES.items())
    extra_numeric: tuple[str, ...] = ()
    feature_names: tuple[str, ...] = field(default=())
    version: int = 1

    def __post_init__(self) -> None:
        for name in ("strategies", "market_regimes"):
            values = getattr(self, name)
            if len(set(values)) != len(values):
                raise ValueError(f"FeatureSpec.{name} has duplicates: {list(values)}")
            # '' is how a missing category reads; it must never match a column
            if any(not str(v).strip() for v in values):
                raise ValueError(f"FeatureSpec.{name} has an empty name: {list(values)}")
        if any(not str(k).strip() for k, _ in self.liquidity_scores):
            raise ValueError(
                f"FeatureSpec.liquidity_scores has an empty name: {list(self.liquidity_scores)}"
            )
        fills = dict(self.fill_values)
        missing = [n for n in (*RAW_NUMERIC, *self.extra_numeric, HOLD_COLUMN) if n not in fills]
        if missing:
            raise ValueError(f"FeatureSpec.fill_values lacks {missing}")
        bad = [n for n, v in fills.items() if not np.isfinite(v)]
        if bad:
            raise ValueError(f"FeatureSpec.fill_values must be finite; not for {bad}")
        derived = self._derive_names()
        if not self.feature_names:
            object.__setattr__(self, "feature_names", derived)
        elif tuple(self.feature_names) != derived:
            raise ValueError(
                "FeatureSpec.feature_names disagree with its vocabularies; expected "
                f"{list(derived)}, got {list(self.feature_names)}"
            )

    def _derive_names(self) -> tuple[str, ...]:
        onehot = [f"strategy_{_sanitise(s)}" for s in self.strategies]
        onehot += [f"market_regime_{_sanitise(r)}" for r in self.market_regimes]
        names = (*RAW_NUMERIC, *self.extra_numeric, *ENGINEERED, *onehot, HOLD_COLUMN)
        if len(set(names)) != len(names):
            raise ValueError(f"FeatureSpec vocabularies give duplicate feature names: {names}")
        return tuple(names)

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    def knows_strategy(self, value: Any) -> bool:
        """Whether ``value``, in any spelling ``canonical_strategy`` maps, is one of ours."""
        return self._plan.strategy(value) >= 0

    def __getstate__(self) -> dict[str, Any]:
        # the compiled plan holds closures (not picklable); it is rebuilt on first use
        return {k: v for k, v in self.__dict__.items() if k != "_plan"}

    @cached_property
    def _plan(self) -> _Plan:
        # compiled once per spec (the server's spec lives as long as its bundle)
        return _compile(self)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["fill_values"] = dict(self.fill_values)
        d["liquidity_scores"] = dict(self.liquidity_scores)
        d["feature_names"] = list(self.feature_names)
        d["strategies"] = list(self.strategies)
        d["market_regimes"] = list(self.market_regimes)
        d["extra_numeric"] = list(self.extra_numeric)
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureSpec:
        known = {"strategies", "market_regimes", "liquidity_scores", "fill_values"}
        known |= {"feature_names", "version", "extra_numeric"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"feature spec has unknown keys {unknown}; expected {sorted(known)}")
        return cls(
            strategies=tuple(data.get("strategies", STRATEGIES)),
            market_regimes=tuple(data.get("market_regimes", MARKET_REGIMES)),
            liquidity_scores=tuple(
                (str(k), float(v))
                for k, v in dict(data.get("liquidity_scores", DEFAULT_LIQUIDITY_SCORES)).items()
            ),
            fill_values=tuple((str(k), float(v)) for k, v in dict(data["fill_values"]).items()),
            extra_numeric=tuple(data.get("extra_numeric", ())),
            feature_names=tuple(data.get("feature_names", ())),
            version=int(data.get("version", 1)),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_json(cls, text: str) -> FeatureSpec:
        return cls.from_dict(json.loads(text))

    def save(self, path: Path) -> None:
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> FeatureSpec:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))


DEFAULT_FEATURE_SPEC = FeatureSpec()
#: the feature order of the default spec (one-hot columns for the schema's vocabularies)
FEATURE_NAMES: tuple[str, ...] = DEFAULT_FEATURE_SPEC.feature_names


def as_float(values: Any) -> np.ndarray:
    """1-D float64 array; None, empty strings and non-numbers become NaN (each value read as
    :func:`feature_ops.to_float` reads it, so a row and a column give the same number)."""
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


def _case_insensitive(vocab) -> Any:
    lookup = {v.lower(): v for v in vocab}
    return lambda s: lookup.get(s.strip().lower(), s.strip())


def _distinct_categories(values: Any, canon) -> set[str]:
    """The canonical spellings present in a column (None/NaN/empty left out)."""
    texts = {category_text(v) for v in np.asarray(values, dtype=object).reshape(-1)}
    return {canon(t) for t in texts if t}


def missing_inputs(columns: Mapping[str, Any], spec: FeatureSpec | None = None) -> list[str]:
    """Input columns ``build_matrix`` would have to fill entirely (the server may report them)."""
    spec = spec or DEFAULT_FEATURE_SPEC
    needed = (*RAW_NUMERIC, *spec.extra_numeric, *CATEGORICAL, HOLD_COLUMN)
    return [name for name in needed if name not in columns]


def _row_count(columns: Mapping[str, Any]) -> int:
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


# --- the feature definitions: each written once, evaluated on columns or on one row's floats ---
def _clean(v, fill: float, m, break_even: bool):
    """A raw input made finite: missing/non-finite -> the fill value, clipped to ±VALUE_CLIP."""
    if break_even:  # inf or negative: never breaks even
        v = m.where(m.isinf(v) | (v < 0), BREAK_EVEN_CAP, v)
        v = m.minimum(v, BREAK_EVEN_CAP)
    return m.clip(m.where(m.isfinite(v), v, fill), VALUE_CLIP)


def _engineered(raw: Mapping[str, Any], liquidity, m) -> tuple:
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


def _finite(v, m):
    """The last guard on every model input: non-finite -> 0, clipped to ±VALUE_CLIP."""
    return m.clip(m.where(m.isfinite(v), v, 0.0), VALUE_CLIP)


@dataclass(frozen=True)
class _Plan:
    """A FeatureSpec compiled once for fast evaluation (``FeatureSpec._plan``)."""

    numeric: tuple[tuple[str, float, bool, float, float], ...]  # name, fill, be, identity range
    numeric_names: tuple[str, ...]
    raw_names: tuple[str, ...]  # RAW_NUMERIC + extra_numeric (the hold is numeric's last)
    inputs: tuple[str, ...]  # every input column build_matrix reads
    strategy: Vocab  # -> one-hot position, -1 if unknown
    regime: Vocab  # -> one-hot position after the strategies, -1 if unknown
    liquidity: Vocab  # -> score
    n_onehot: int


def _compile(spec: FeatureSpec) -> _Plan:
    fills = dict(spec.fill_values)
    raw_names = (*RAW_NUMERIC, *spec.extra_numeric)
    numeric = []
    for name in (*raw_names, HOLD_COLUMN):
        be = name == "break_even_hours"
        # inside [lo, hi] _clean returns the value unchanged: the row path skips it there
        lo, hi = (0.0, BREAK_EVEN_CAP) if be else (-VALUE_CLIP, VALUE_CLIP)
        numeric.append((name, fills[name], be, lo, hi))
    n_strat = len(spec.strategies)
    liq = dict(spec.liquidity_scores)
    return _Plan(
        numeric=tuple(numeric),
        numeric_names=(*raw_names, HOLD_COLUMN),
        raw_names=raw_names,
        inputs=(*raw_names, *CATEGORICAL, HOLD_COLUMN),
        strategy=Vocab({s: i for i, s in enumerate(spec.strategies)}, canonical_strategy, -1),
        regime=Vocab(
            {r: n_strat + i for i, r in enumerate(spec.market_regimes)},
            _case_insensitive(spec.market_regimes),
            -1,
        ),
        liquidity=Vocab(liq, _case_insensitive(tuple(liq)), UNKNOWN_LIQUIDITY_SCORE),
        n_onehot=n_strat + len(spec.market_regimes),
    )


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
    n = _row_count(columns)
    plan, m = spec._plan, ARRAY_OPS

    raw: dict[str, np.ndarray] = {}
    for name, fill, be, _, _ in plan.numeric:
        v = as_float(columns[name]) if name in columns else np.full(n, np.nan)
        if v.shape[0] == 1 and n != 1:
            v = np.full(n, v[0])
        raw[name] = _clean(v, fill, m, be)
    liquidity = np.full(n, UNKNOWN_LIQUIDITY_SCORE)
    if "liquidity_status" in columns:
        liquidity = plan.liquidity.column(columns["liquidity_status"], n).astype(np.float64)

    X = np.zeros((n, spec.n_features), dtype=np.float64)
    n_raw = len(plan.raw_names)
    X[:, :n_raw] = np.column_stack([raw[k] for k in plan.raw_names])
    eng = _engineered(raw, liquidity, m)
    X[:, n_raw : n_raw + len(eng)] = np.column_stack(eng)
    start = n_raw + len(eng)
    for name, vocab in (("strategy", plan.strategy), ("market_regime", plan.regime)):
        if columns.get(name) is not None:
            code = vocab.column(columns[name], n).astype(np.intp)
            rows = np.nonzero(code >= 0)[0]
            X[rows, start + code[rows]] = 1.0
    X[:, -1] = raw[HOLD_COLUMN]
    assert start + plan.n_onehot + 1 == spec.n_features, (start, spec.n_features)
    return _finite(X, m).astype(np.float32)


def _row(record: Mapping[str, Any], plan: _Plan) -> list[float]:
    """One record's inputs as floats: the same definitions as ``build_matrix``, scalar ops."""
    get, m = record.get, SCALAR_OPS
    values = []
    for name, fill, be, lo, hi in plan.numeric:
        v = get(name)
        if type(v) is not float:
            v = to_float(v)
        values.append(v if lo <= v <= hi else _clean(v, fill, m, be))
    raw = dict(zip(plan.numeric_names, values, strict=True))
    hold = values.pop()
    eng = _engineered(raw, plan.liquidity(get("liquidity_status")), m)
    # the raw inputs are finite and clipped already: only the engineered ones need the guard
    values += [v if -VALUE_CLIP <= v <= VALUE_CLIP else _finite(v, m) for v in eng]
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
    functions either way (``_clean``, ``_engineered``, ``_finite``).
    """
    plan = spec._plan
    if len(records) > ROWS_FAST_MAX:
        return build_matrix({k: [r.get(k) for r in records] for k in plan.inputs}, spec)
    out = np.array([_row(r, plan) for r in records], dtype=np.float32)
    return out.reshape(len(records), spec.n_features)


def fit_feature_spec(
    columns: Mapping[str, Any], *, extra_numeric: tuple[str, ...] | None = None
) -> FeatureSpec:
    """A spec for this training data: the schema's vocabularies plus any further strategy or
    regime seen (e.g. the guide's "CFFF"), median fill values for missing inputs, and the extra
    raw inputs (default: those of ``KNOWN_EXTRA_NUMERIC`` present with finite values)."""
    _row_count(columns)  # equal lengths
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
        uniq = _distinct_categories(columns["market_regime"], _case_insensitive(MARKET_REGIMES))
        regimes += sorted({u for u in uniq if u and u not in regimes})
    return FeatureSpec(
        strategies=tuple(strategies),
        market_regimes=tuple(regimes),
        fill_values=tuple(fills.items()),
        extra_numeric=tuple(extra),
    )


__all__ = [
    "BREAK_EVEN_CAP",
    "DEFAULT_FEATURE_SPEC",
    "FEATURE_NAMES",
    "FeatureSpec",
    "KNOWN_EXTRA_NUMERIC",
    "LIQUIDITY_STATUSES",
    "build_matrix",
    "build_rows",
    "canonical_strategy",
    "fit_feature_spec",
    "missing_inputs",
    "normalise_key",
    "normalise_keys",
    "safe_div",
]
