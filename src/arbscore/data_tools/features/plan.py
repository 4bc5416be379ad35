"""A :class:`FeatureSpec` compiled once into lookups the matrix and row builders share.

The spec is a plain saved description; the plan is what evaluation needs (fill values per
column, the range in which cleaning is the identity, category -> one-hot position). The spec
caches its plan (``FeatureSpec._plan``), so the server compiles once per bundle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

from arbscore.data_tools.features.columns import (
    BREAK_EVEN_CAP,
    CATEGORICAL,
    RAW_NUMERIC,
    UNKNOWN_LIQUIDITY_SCORE,
    VALUE_CLIP,
)
from arbscore.data_tools.features.defs import clean
from arbscore.data_tools.features.keys import canonical_strategy
from arbscore.data_tools.features.ops import SCALAR_OPS, Vocab
from arbscore.schema import HOLD_COLUMN


class SpecFields(Protocol):
    """What a plan is compiled from: the fields of :class:`~.spec.FeatureSpec` (which imports
    this module to cache its plan, so the spec is not imported here)."""

    @property
    def fill_values(self) -> tuple[tuple[str, float], ...]: ...
    @property
    def extra_numeric(self) -> tuple[str, ...]: ...
    @property
    def strategies(self) -> tuple[str, ...]: ...
    @property
    def market_regimes(self) -> tuple[str, ...]: ...
    @property
    def liquidity_scores(self) -> tuple[tuple[str, float], ...]: ...


def case_insensitive(vocab) -> Any:
    """A canonicaliser mapping any casing of a vocabulary word to its spelling there."""
    lookup = {v.lower(): v for v in vocab}
    return lambda s: lookup.get(s.strip().lower(), s.strip())


@dataclass(frozen=True)
class Plan:
    """A FeatureSpec compiled once for fast evaluation (``FeatureSpec._plan``)."""

    numeric: tuple[tuple[str, float, bool, float, float], ...]  # name, fill, be, identity range
    #: ``numeric`` with a sixth item, what ``clean`` makes of a missing value (NaN): the row
    #: path's answer for a field a record leaves out, computed once by the same function
    row_numeric: tuple[tuple[str, float, bool, float, float, float], ...]
    numeric_names: tuple[str, ...]
    raw_names: tuple[str, ...]  # RAW_NUMERIC + extra_numeric (the hold is numeric's last)
    inputs: tuple[str, ...]  # every input column build_matrix reads
    strategy: Vocab  # -> one-hot position, -1 if unknown
    regime: Vocab  # -> one-hot position after the strategies, -1 if unknown
    liquidity: Vocab  # -> score
    n_onehot: int


def compile_plan(spec: SpecFields) -> Plan:
    fills = dict(spec.fill_values)
    raw_names = (*RAW_NUMERIC, *spec.extra_numeric)
    numeric = []
    for name in (*raw_names, HOLD_COLUMN):
        be = name == "break_even_hours"
        # inside [lo, hi] clean() returns the value unchanged: the row path skips it there
        lo, hi = (0.0, BREAK_EVEN_CAP) if be else (-VALUE_CLIP, VALUE_CLIP)
        numeric.append((name, fills[name], be, lo, hi))
    n_strat = len(spec.strategies)
    liq = dict(spec.liquidity_scores)
    return Plan(
        numeric=tuple(numeric),
        row_numeric=tuple((*n, clean(math.nan, n[1], SCALAR_OPS, n[2])) for n in numeric),
        numeric_names=(*raw_names, HOLD_COLUMN),
        raw_names=raw_names,
        inputs=(*raw_names, *CATEGORICAL, HOLD_COLUMN),
        strategy=Vocab({s: i for i, s in enumerate(spec.strategies)}, canonical_strategy, -1),
        regime=Vocab(
            {r: n_strat + i for i, r in enumerate(spec.market_regimes)},
            case_insensitive(spec.market_regimes),
            -1,
        ),
        liquidity=Vocab(liq, case_insensitive(tuple(liq)), UNKNOWN_LIQUIDITY_SCORE),
        n_onehot=n_strat + len(spec.market_regimes),
    )
