"""The feature layer as ONNX: raw opportunity fields in, the models' float32 matrix out.

Generated from the very definitions training uses: ``features.defs.clean`` / ``engineered`` /
``finite`` evaluated over :func:`onnx_graph.onnx_ops` instead of numpy, with the fill values
(training medians), vocabularies, liquidity scores and column order of the bundle's
:class:`FeatureSpec`. Computed in float64 like numpy, cast to float32 at the end.

Inputs are 1-D (one element per opportunity), named by the guide's camelCase keys
(:func:`camel_key`, checked against ``features.keys.normalise_key``): every number a float64
tensor where NaN means missing (the spec's fill value), every category a string tensor where
``""`` means none. Categories are matched by ``RegexFullMatch`` patterns derived from the
spellings ``build_rows`` accepts: surrounding whitespace (Python's ``str.isspace`` set) is
ignored, regime and liquidity words in any case (Python's ``str.lower``), strategies through
``features.keys``' alias table (``Cash-and-Carry``, ``perp perp``, ...) or else exactly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

import numpy as np
from onnx import TensorProto

from arbscore.data_tools.features.columns import CATEGORICAL, UNKNOWN_LIQUIDITY_SCORE
from arbscore.data_tools.features.defs import clean, engineered, finite
from arbscore.data_tools.features.keys import _STRATEGY_ALIASES, normalise_key
from arbscore.data_tools.features.ops import SCALAR_OPS
from arbscore.data_tools.features.spec import FeatureSpec
from arbscore.export.onnx_graph import Graph, Sym, onnx_ops
from arbscore.schema import HOLD_COLUMN


def camel_key(field: str) -> str:
    """``fund_profit_8h`` -> ``fundProfit8h``: the guide's camelCase key of one of our columns,
    the inverse of ``features.keys.normalise_key`` (checked)."""
    head, *rest = field.split("_")
    key = head + "".join(p[:1].upper() + p[1:] for p in rest)
    if normalise_key(key) != field:
        raise ValueError(
            f"no camelCase key for {field!r}: {key!r} normalises to {normalise_key(key)!r}"
        )
    return key


@dataclass(frozen=True)
class RawInput:
    """One graph input: camelCase ``name``, our column ``field``, ``type`` double or string."""

    name: str
    field: str
    type: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "type": self.type, "field": self.field}


def raw_inputs(spec: FeatureSpec) -> tuple[RawInput, ...]:
    """The raw-input graph's inputs, in order: the numbers, the categories, the hold."""
    plan = spec._plan
    numbers = [RawInput(camel_key(n), n, "double") for n in plan.raw_names]
    cats = [RawInput(camel_key(n), n, "string") for n in CATEGORICAL]
    return (*numbers, *cats, RawInput(camel_key(HOLD_COLUMN), HOLD_COLUMN, "double"))


# --- category patterns (RE2 syntax, as RegexFullMatch takes) ---------------------------------
def _esc(ch: str) -> str:
    return ch if ch.isascii() and ch.isalnum() else f"\\x{{{ord(ch):x}}}"


@cache
def _lower_preimages() -> dict[str, str]:
    """ASCII character -> every character whose ``str.lower()`` is exactly it."""
    out: dict[str, list[str]] = {}
    for code in range(0x110000):
        ch = chr(code)
        low = ch.lower()
        if len(low) == 1 and low.isascii():
            out.setdefault(low, []).append(ch)
    return {k: "".join(v) for k, v in out.items()}


@cache
def _spaces() -> str:
    """The characters ``str.strip()`` removes and ``re``'s ``\\s`` matches (``str.isspace``)."""
    return "".join(chr(c) for c in range(0x110000) if chr(c).isspace())


def _cls(chars: str) -> str:
    return "[" + "".join(_esc(c) for c in chars) + "]"


def _lower_is(word: str) -> str:
    """A pattern for text whose ``str.lower()`` equals ``word`` (ASCII, lower case)."""
    if not (word.isascii() and word == word.lower()):
        raise ValueError(f"raw-input graph: vocabulary word {word!r} is not lower-case ASCII")
    pre = _lower_preimages()
    return "".join(_cls(pre[c]) if c in pre else _esc(c) for c in word)


def _ws() -> str:
    return _cls(_spaces()) + "*"


def _alias_key_body(key: str) -> str:
    """Stripped text whose lower case with runs of whitespace/'-' as '_' equals ``key``."""
    if not key or key.startswith("_") or key.endswith("_") or "__" in key:
        raise ValueError(f"raw-input graph: strategy alias {key!r} has no exact pattern")
    run = "(?:" + _cls(_spaces() + "-") + "+|_)"
    return run.join(_lower_is(part) for part in key.split("_"))


def _alias_compact_body(key: str) -> str:
    """Text whose lower case without whitespace, '-' and '_' equals ``key``."""
    sep = _cls(_spaces() + "-_") + "*"
    return sep + sep.join(_lower_is(c) for c in key) + sep


def _full(text: Sym, pattern: str) -> Sym:
    return text.g.op("RegexFullMatch", text, pattern=pattern)


def _any(text: Sym, bodies: list[str], ws: bool) -> Sym | None:
    if not bodies:
        return None
    alt = "(?:" + "|".join(bodies) + ")"
    return _full(text, _ws() + alt + _ws() if ws else alt)


def _and_not(a: Sym | None, *nots: Sym | None) -> Sym | None:
    for n in nots:
        if a is not None and n is not None:
            a = a & ~n
    return a


def _or(*terms: Sym | None) -> Sym | None:
    out = None
    for t in terms:
        out = t if out is None else (out if t is None else out | t)
    return out


def strategy_matches(text: Sym, spec: FeatureSpec) -> list[Sym | None]:
    """Per spec strategy, whether ``text`` reads as it (``features.keys.canonical_strategy``:
    the alias of the spaced/hyphenated key, else of the compact key, else the stripped text)."""
    aliases = _STRATEGY_ALIASES
    by_key = _any(text, [_alias_key_body(k) for k in aliases], ws=True)
    compact = [k for k in aliases if "_" not in k]
    by_compact = _any(text, [_alias_compact_body(k) for k in compact], ws=False)
    out = []
    for name in spec.strategies:
        m1 = _any(text, [_alias_key_body(k) for k in aliases if aliases[k] == name], ws=True)
        m2 = _any(text, [_alias_compact_body(k) for k in compact if aliases[k] == name], ws=False)
        exact = None
        if name == name.strip():
            exact = _full(text, _ws() + "".join(_esc(c) for c in name) + _ws())
        out.append(_or(m1, _and_not(m2, by_key), _and_not(exact, by_key, by_compact)))
    return out


def word_matches(text: Sym, vocab: tuple[str, ...]) -> list[Sym | None]:
    """Per word, whether ``text`` is it in any case (``features.plan.case_insensitive``: the
    last word of a case-insensitive duplicate wins)."""
    last = {w.lower(): w for w in vocab}
    return [
        _full(text, _ws() + _lower_is(w.lower()) + _ws())
        if w == w.strip() and last[w.lower()] == w
        else None
        for w in vocab
    ]


# --- the matrix ------------------------------------------------------------------------------
def _column(g: Graph, value: Sym | None, ref: Sym) -> Sym:
    """``value`` as an [N, 1] float64 column (zeros when None: a word that cannot match)."""
    if value is None:
        value = g.op("Expand", g.const(0.0), g.op("Shape", ref))
    return g.op("Unsqueeze", value, g.const(np.array([1], np.int64)))


def _as_double(g: Graph, cond: Sym | None) -> Sym | None:
    return None if cond is None else g.op("Cast", cond, to=TensorProto.DOUBLE)


class _Columns(dict):
    """Column name -> [N] slice of the cleaned raw matrix, made on first use (only the columns
    ``engineered`` reads get a Gather node)."""

    def __init__(self, matrix: Sym, names: tuple[str, ...]) -> None:
        super().__init__()
        self.matrix, self.index = matrix, {n: i for i, n in enumerate(names)}

    def __missing__(self, name: str) -> Sym:
        g = self.matrix.g
        idx = g.const(np.array(self.index[name], np.int64))
        self[name] = col = g.op("Gather", self.matrix, idx, axis=1)
        return col


def feature_matrix(
    g: Graph, spec: FeatureSpec, numbers: Mapping[str, Sym], categories: Mapping[str, Sym]
) -> tuple[Sym, float]:
    """(float32 [N, n_features - 1] without the hold column, the hold column's fill value):
    ``build_matrix`` of the raw inputs, the hold left to the caller (two passes).

    Few nodes (each costs a kernel call per run): ``clean`` runs once on the [N, K] matrix of
    the raw numbers with a vector of fill values (``break_even_hours`` cleaned first on its own:
    the generic clean is then the identity on it), ``finite`` once on the engineered block."""
    m, plan = onnx_ops(), spec._plan
    ref = numbers[plan.raw_names[0]]
    cols, fills = [], []
    hold_fill = 0.0
    for name, fill, be, _, _ in plan.numeric:
        if name == HOLD_COLUMN:
            hold_fill = clean(math.nan, fill, SCALAR_OPS, be)  # the first pass's hold column
            continue
        cols.append(_column(g, clean(numbers[name], fill, m, be) if be else numbers[name], ref))
        fills.append(fill)
    matrix = clean(g.op("Concat", *cols, axis=1), g.const(np.array(fills, np.float64)), m, False)
    raw = _Columns(matrix, plan.raw_names)
    scores = dict(spec.liquidity_scores)
    liquidity = g.op("Expand", g.const(UNKNOWN_LIQUIDITY_SCORE), g.op("Shape", ref))
    words = tuple(scores)
    for word, hit in zip(words, word_matches(categories["liquidity_status"], words), strict=True):
        if hit is not None:
            liquidity = m.where(hit, scores[word], liquidity)
    eng = engineered(raw, liquidity, m)
    eng_block = finite(g.op("Concat", *[_column(g, e, ref) for e in eng], axis=1), m)
    onehot = strategy_matches(categories["strategy"], spec)
    onehot += word_matches(categories["market_regime"], spec.market_regimes)
    blocks = [matrix, eng_block, *[_column(g, _as_double(g, hit), ref) for hit in onehot]]
    X = g.op("Concat", *blocks, axis=1)
    return g.op("Cast", X, to=TensorProto.FLOAT), hold_fill
