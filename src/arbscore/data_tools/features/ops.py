"""The few operations the feature definitions use, for whole columns and for one value.

:mod:`arbscore.data_tools.features` writes each feature expression once, as a function of an
``ops`` argument: :data:`ARRAY_OPS` evaluates it on numpy columns (training, large batches),
:data:`SCALAR_OPS` on plain Python floats (one opportunity on the server, where a numpy call
on a 1-element array costs more than the arithmetic). Both give the same bits: +, -, *, / and
comparisons are IEEE double in both; ``maximum``/``minimum``/``clip`` copy numpy's choice for
NaN and for signed zeros; sin, cos and log1p call the numpy ufunc on the scalar (``math``'s
versions differ from numpy's in the last bit for some inputs). Tested on Hypothesis rows.

Categories are looked up through :class:`Vocab`, shared by both paths.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np


def safe_div(num: np.ndarray, den: np.ndarray, clip: float) -> np.ndarray:
    """num / den, 0 where the denominator is 0 (or the result is not finite), clipped to ±clip."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = np.where(den != 0, num / np.where(den != 0, den, 1.0), 0.0)
    out = np.where(np.isfinite(out), out, 0.0)
    return np.clip(out, -clip, clip)


def _scalar_safe_div(num: float, den: float, clip: float) -> float:
    out = num / den if den != 0 else 0.0
    if not math.isfinite(out):
        out = 0.0
    return -clip if out < -clip else (clip if out > clip else out)


def _ufunc(f: np.ufunc) -> Callable[[float], float]:
    return lambda x: float(f(x))


ARRAY_OPS = SimpleNamespace(
    where=np.where,
    abs=np.abs,
    maximum=np.maximum,
    minimum=np.minimum,
    isinf=np.isinf,
    isfinite=np.isfinite,
    clip=lambda v, c: np.clip(v, -c, c),
    safe_div=safe_div,
    sin=np.sin,
    cos=np.cos,
    log1p=np.log1p,
)

SCALAR_OPS = SimpleNamespace(
    where=lambda cond, a, b: a if cond else b,
    abs=abs,
    # numpy: NaN wins, and maximum(-0.0, 0.0) is the second argument
    maximum=lambda a, b: a if (a > b or a != a) else b,
    minimum=lambda a, b: a if (a < b or a != a) else b,
    isinf=math.isinf,
    isfinite=math.isfinite,
    clip=lambda v, c: -c if v < -c else (c if v > c else v),
    safe_div=_scalar_safe_div,
    sin=_ufunc(np.sin),
    cos=_ufunc(np.cos),
    log1p=_ufunc(np.log1p),
)


def to_float(value: Any) -> float:
    """One raw value as :func:`features.as_float` reads it; None and non-numbers become NaN."""
    if type(value) is float:
        return value
    if value is None:  # the common case on the server (a field not sent): no exception
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def category_text(value: Any) -> str:
    """The text a category value is matched by; None and NaN are '' (no category)."""
    return "" if value is None or (isinstance(value, float) and value != value) else str(value)


class Vocab:
    """Category text -> column index or score (``default`` when unknown or empty).

    ``canon`` maps a spelling onto the vocabulary's (aliases, case). Results are memoised for
    the server's hot path; the memo is bounded because the texts come from clients.
    """

    MEMO_MAX = 4096

    def __init__(self, table: dict[str, Any], canon: Callable[[str], str], default: Any) -> None:
        self.table, self.canon, self.default = table, canon, default
        self._memo: dict[str, Any] = {}

    def text(self, text: str) -> Any:
        try:
            return self._memo[text]
        except KeyError:
            pass
        out = self.table.get(self.canon(text) if text else "", self.default)
        if len(self._memo) < self.MEMO_MAX:
            self._memo[text] = out
        return out

    def __call__(self, value: Any) -> Any:
        return self.text(category_text(value))

    def column(self, values: Any, n: int) -> np.ndarray:
        """The lookup of every value of a column (object array out), one lookup per distinct
        text."""
        arr = np.asarray(values, dtype=object)
        if arr.ndim == 0:
            arr = np.full(n, arr.item(), dtype=object)
        codes: dict[str, int] = {}
        inverse = np.fromiter(
            (codes.setdefault(category_text(v), len(codes)) for v in arr), np.intp, arr.shape[0]
        )
        table = np.empty(len(codes), dtype=object)
        table[:] = [self.text(t) for t in codes]
        return table[inverse]
