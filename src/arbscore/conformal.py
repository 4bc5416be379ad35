"""Split-conformal intervals on the predicted profit, one half-width per hold.

A calibration window the model did not train on gives absolute residuals |y - prediction|.
For a coverage c (a share, e.g. 0.8) the half-width is the k-th smallest residual with
k = ceil((n + 1) * c) (Vovk et al.; Lei et al. 2018, "split conformal"): if the future rows are
exchangeable with the window's, ``[prediction - q, prediction + q]`` holds the realised profit
with probability at least c. When k > n the window is too small for that coverage and the
half-width is infinite (as MAPIE reports it). The profit's spread grows with the hold, so the
half-width is taken per hold of the grid; a hold the window lacks gets the pooled half-width.
Time series are not exchangeable: coverage is therefore measured out of time, fold by fold, by
``arbscore.evaluation.out_of_time``. Numpy only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def conformal_quantile(abs_residuals: np.ndarray, coverage: float) -> float:
    """The split-conformal half-width: the ceil((n + 1) * coverage)-th smallest residual."""
    if not 0.0 < coverage < 1.0:
        raise ValueError(f"coverage must be in (0, 1), got {coverage}")
    r = np.sort(np.abs(np.asarray(abs_residuals, dtype=np.float64).ravel()))
    if not r.size or not np.isfinite(r).all():
        raise ValueError("conformal residuals: need at least one finite residual")
    k = math.ceil((r.size + 1) * coverage)
    return float(r[k - 1]) if k <= r.size else math.inf


@dataclass(frozen=True)
class IntervalTable:
    """Half-widths (percentage points of profit) per hold, and the pooled one for other holds."""

    coverage: float
    holds: tuple[float, ...]
    half_widths: tuple[float, ...]
    pooled_half_width: float
    rows: int

    def half_width(self, hold_hours: np.ndarray) -> np.ndarray:
        """The half-width for each row's hold (the pooled one where the hold has no entry)."""
        h = np.asarray(hold_hours, dtype=np.float64).ravel()
        out = np.full(h.shape, self.pooled_half_width)
        for hold, width in zip(self.holds, self.half_widths, strict=True):
            out[h == hold] = width
        return out

    def bounds(self, predicted: np.ndarray, hold_hours: np.ndarray) -> tuple[np.ndarray, ...]:
        """(low, high) around ``predicted`` (same units: percent)."""
        width = self.half_width(hold_hours)
        p = np.asarray(predicted, dtype=np.float64).ravel()
        return p - width, p + width

    def to_dict(self) -> dict:
        return {
            "coverage": self.coverage,
            "hold_hours": list(self.holds),
            "half_width_pct": list(self.half_widths),
            "pooled_half_width_pct": self.pooled_half_width,
            "rows": self.rows,
        }


def fit_interval_table(
    actual: np.ndarray, predicted: np.ndarray, hold_hours: np.ndarray, coverage: float
) -> IntervalTable:
    """Per-hold split-conformal half-widths from a calibration window's (actual, predicted)."""
    y = np.asarray(actual, dtype=np.float64).ravel()
    p = np.asarray(predicted, dtype=np.float64).ravel()
    h = np.asarray(hold_hours, dtype=np.float64).ravel()
    if not y.shape == p.shape == h.shape:
        raise ValueError(
            f"conformal window: actual, predicted and hold_hours differ in length "
            f"({y.size}, {p.size}, {h.size})"
        )
    resid = np.abs(y - p)
    holds = tuple(float(v) for v in np.unique(h))
    widths = tuple(conformal_quantile(resid[h == hold], coverage) for hold in holds)
    pooled = conformal_quantile(resid, coverage)
    return IntervalTable(float(coverage), holds, widths, pooled, int(y.size))
