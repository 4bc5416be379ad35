"""Model inputs from opportunity rows: one function for training and for the server.

numpy only (the serving install has no pandas). ``build_matrix`` takes a mapping of column name
-> 1-D array (a DataFrame's columns, or parsed JSON turned into arrays) and a :class:`FeatureSpec`
and returns float32 ``X`` in ``spec.feature_names`` order. The last column is always
``hold_hours`` so the duration head can drop it (the hold is an input of the simulation).

Defined results, so no inf/NaN ever reaches a model:
- a missing or non-numeric raw value is replaced by the spec's fill value (training medians);
- ``break_even_hours`` that is inf/negative (never breaks even) is capped at ``BREAK_EVEN_CAP``;
- a ratio with a zero denominator is 0, and ratios are clipped to a fixed range;
- an unknown category encodes as all-zero one-hot (and the lowest liquidity score).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from arbscore.data_tools.feature_keys import canonical_strategy, normalise_key, normalise_keys
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
    """1-D float64 array; None, empty strings and non-numbers become NaN."""
    arr = np.asarray(values)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.dtype.kind in "fiub":
        return arr.astype(np.float64)
    try:
        return arr.astype(np.float64)
    except (TypeError, ValueError):
        out = np.empty(arr.shape[0], dtype=np.float64)
        for i, v in enumerate(arr.tolist()):
            try:
                out[i] = float(v)
            except (TypeError, ValueError):
                out[i] = np.nan
        return out


def _as_text(values: Any, n: int) -> np.ndarray:
    arr = np.asarray(values, dtype=object)
    if arr.ndim == 0:
        arr = np.full(n, arr.item(), dtype=object)
    return arr


def _map_categories(values: Any, n: int, canon) -> tuple[np.ndarray, np.ndarray]:
    """(unique canonical strings, inverse index) with None/NaN mapped to ''."""
    arr = _as_text(values, n)
    text = np.array(["" if v is None or (isinstance(v, float) and v != v) else str(v) for v in arr])
    uniq, inverse = np.unique(text, return_inverse=True)
    return np.array([canon(u) if u else "" for u in uniq], dtype=object), inverse


def _onehot(values: Any, n: int, vocab: tuple[str, ...], canon) -> np.ndarray:
    out = np.zeros((n, len(vocab)), dtype=np.float64)
    if values is None:
        return out
    uniq, inverse = _map_categories(values, n, canon)
    col = {v: i for i, v in enumerate(vocab)}
    code = np.array([col.get(u, -1) for u in uniq], dtype=np.int64)[inverse]
    rows = np.nonzero(code >= 0)[0]
    out[rows, code[rows]] = 1.0
    return out


def _case_insensitive(vocab) -> Any:
    lookup = {v.lower(): v for v in vocab}
    return lambda s: lookup.get(s.strip().lower(), s.strip())


def safe_div(num: np.ndarray, den: np.ndarray, clip: float) -> np.ndarray:
    """num / den, 0 where the denominator is 0 (or the result is not finite), clipped to ±clip."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den != 0, num / np.where(den != 0, den, 1.0), 0.0)
    out = np.where(np.isfinite(out), out, 0.0)
    return np.clip(out, -clip, clip)


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


def build_matrix(
    columns: Mapping[str, Any], spec: FeatureSpec = DEFAULT_FEATURE_SPEC, *, strict: bool = False
) -> np.ndarray:
    """float32 ``X`` (rows x ``spec.n_features``) in ``spec.feature_names`` order, no inf/NaN.

    ``columns`` maps snake_case names to 1-D arrays (use :func:`normalise_keys` first for the
    guide's camelCase). ``strict=True`` raises ``ValueError`` naming any absent input column
    (training); otherwise absent columns are filled like missing values (serving).
    """
    if strict:
        absent = missing_inputs(columns, spec)
        if absent:
            raise ValueError(f"feature input is missing columns {absent}")
    n = _row_count(columns)
    fills = dict(spec.fill_values)

    def num(name: str) -> np.ndarray:
        if name not in columns:
            return np.full(n, fills[name])
        v = as_float(columns[name])
        if v.shape[0] == 1 and n != 1:
            v = np.full(n, v[0])
        if name == "break_even_hours":  # inf or negative: never breaks even
            v = np.where(np.isinf(v) | (v < 0), BREAK_EVEN_CAP, v)
            v = np.minimum(v, BREAK_EVEN_CAP)
        v = np.where(np.isfinite(v), v, fills[name])
        return np.clip(v, -VALUE_CLIP, VALUE_CLIP)

    raw = {name: num(name) for name in (*RAW_NUMERIC, *spec.extra_numeric)}
    hold = num(HOLD_COLUMN)
    # the projections are totals over 24 h / 72 h: compare them per 8 h with the current rate
    f8 = raw["fund_profit_8h"]
    f24, f3d = raw["fund_profit_24h_proj"] / 3.0, raw["fund_profit_3d_proj"] / 9.0
    cv = np.maximum(raw["spread_volatility_cv"], 0.0)

    liq_scores = dict(spec.liquidity_scores)
    liquidity = np.full(n, UNKNOWN_LIQUIDITY_SCORE)
    if "liquidity_status" in columns:
        uniq, inverse = _map_categories(
            columns["liquidity_status"], n, _case_insensitive(tuple(liq_scores))
        )
        liquidity = np.array([liq_scores.get(u, UNKNOWN_LIQUIDITY_SCORE) for u in uniq])[inverse]

    eng = {
        "rate_momentum_24h": safe_div(f8 - f24, np.abs(f24), RATIO_CLIP),
        "rate_momentum_3d": safe_div(f8 - f3d, np.abs(f3d), RATIO_CLIP),
        "rate_stability": np.abs(safe_div(f8 - f3d, np.abs(f3d), RATIO_CLIP)),
        "rate_trend_score": np.where((f8 > f24) & (f24 > f3d), 1.0, np.where(f8 < f3d, -1.0, 0.0)),
        "volatility_risk_score": np.where(cv < 0.2, 1.0, np.where(cv < 0.5, 0.5, 0.0)),
        "liquidity_score": liquidity,
        "log_volume_24h": np.log1p(np.maximum(raw["volume_24h"], 0.0)),
        "log_orderbook_depth": np.log1p(np.maximum(raw["orderbook_depth"], 0.0)),
        "spread_to_profit": safe_div(raw["bid_ask_spread"], np.abs(f8), SPREAD_RATIO_CLIP),
        "hour_sin": np.sin(2 * np.pi * raw["hour_of_day"] / 24.0),
        "hour_cos": np.cos(2 * np.pi * raw["hour_of_day"] / 24.0),
        "day_sin": np.sin(2 * np.pi * raw["day_of_week"] / 7.0),
        "day_cos": np.cos(2 * np.pi * raw["day_of_week"] / 7.0),
        "profit_x_liquidity": f8 * liquidity,
        "risk_adjusted_return": raw["fund_apr"] / (1.0 + cv),
    }
    strategy = _onehot(columns.get("strategy"), n, spec.strategies, canonical_strategy)
    regime = _onehot(
        columns.get("market_regime"), n, spec.market_regimes, _case_insensitive(spec.market_regimes)
    )
    X = np.column_stack(
        [raw[k] for k in (*RAW_NUMERIC, *spec.extra_numeric)]
        + [eng[k] for k in ENGINEERED]
        + [strategy, regime, hold]
    )
    assert X.shape[1] == spec.n_features, (X.shape, spec.n_features)
    X = np.nan_to_num(X, nan=0.0, posinf=0.0, neginf=0.0)
    return np.clip(X, -VALUE_CLIP, VALUE_CLIP).astype(np.float32)


def fit_feature_spec(
    columns: Mapping[str, Any], *, extra_numeric: tuple[str, ...] | None = None
) -> FeatureSpec:
    """A spec for this training data: the schema's vocabularies plus any further strategy or
    regime seen (e.g. the guide's "CFFF"), median fill values for missing inputs, and the extra
    raw inputs (default: those of ``KNOWN_EXTRA_NUMERIC`` present with finite values)."""
    n = _row_count(columns)
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
        uniq, _ = _map_categories(columns["strategy"], n, canonical_strategy)
        strategies += sorted({u for u in uniq if u and u not in strategies})
    regimes = list(MARKET_REGIMES)
    if "market_regime" in columns:
        uniq, _ = _map_categories(columns["market_regime"], n, _case_insensitive(MARKET_REGIMES))
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
    "canonical_strategy",
    "fit_feature_spec",
    "missing_inputs",
    "normalise_key",
    "normalise_keys",
    "safe_div",
]
