"""The saved description of the model inputs: :class:`FeatureSpec` and its JSON round trip.

Saved next to the models and in the bundle, so training and the server read the same columns
in the same order. numpy only (the serving install has no pandas).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from arbscore.data_tools.features.columns import (
    DEFAULT_FILL_VALUES,
    DEFAULT_LIQUIDITY_SCORES,
    ENGINEERED,
    RAW_NUMERIC,
)
from arbscore.data_tools.features.plan import Plan, compile_plan
from arbscore.schema import HOLD_COLUMN, MARKET_REGIMES, STRATEGIES


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
    def _plan(self) -> Plan:
        # compiled once per spec (the server's spec lives as long as its bundle)
        return compile_plan(self)

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
