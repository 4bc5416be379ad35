"""Split-conformal intervals on the predicted profit, one half-width per hold.

A calibration window the model did not train on gives absolute residuals |y - prediction|.
For a coverage c (a share, e.g. 0.8) the half-width is the k-th smallest residual with
k = ceil((n + 1) * c) (Vovk et al.; Lei et al. 2018, "split conformal"): if the future rows are
exchangeable with the window's, ``[prediction - q, prediction + q]`` holds the realised profit
with probability at least c. When k > n the window is too small for that coverage and the
half-width is infinite (as MAPIE reports it). The profit's spread grows with the hold, so the
half-width is taken per hold of the grid (a hold with too few rows for the coverage takes the
pooled one) and interpolated between them.
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
    """Half-widths (percentage points of profit) at the holds of a calibration window; a hold
    between two of them gets the linear interpolation, one outside their range the nearest
    end's (``numpy.interp``; the raw-input graph computes the same), so the served hold, the
    predicted duration clipped to the grid, needs no table entry of its own."""

    coverage: float
    holds: tuple[float, ...]
    half_widths: tuple[float, ...]
    pooled_half_width: float
    rows: int

    def half_width(self, hold_hours: np.ndarray) -> np.ndarray:
        """The half-width at each row's hold."""
        h = np.asarray(hold_hours, dtype=np.float64).ravel()
        return np.interp(h, np.asarray(self.holds), np.asarray(self.half_widths))

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

    @classmethod
    def from_dict(cls, d: dict, where: str) -> IntervalTable:
        """Read :meth:`to_dict`'s form; ValueError naming ``where`` when it is malformed."""
        try:
            table = cls(
                float(d["coverage"]),
                tuple(float(v) for v in d["hold_hours"]),
                tuple(float(v) for v in d["half_width_pct"]),
                float(d["pooled_half_width_pct"]),
                int(d["rows"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{where}: not an interval table ({exc})") from exc
        widths = np.asarray(table.half_widths)
        if (
            not table.holds
            or len(table.holds) != widths.size
            or not np.isfinite(widths).all()
            or np.any(np.diff(table.holds) <= 0)
        ):
            raise ValueError(
                f"{where}: needs increasing hold_hours and as many finite half_width_pct"
            )
        return table


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
    pooled = conformal_quantile(resid, coverage)
    # a hold with too few rows for the coverage (an infinite quantile) takes the pooled width
    widths = [conformal_quantile(resid[h == hold], coverage) for hold in holds]
    widths = tuple(w if math.isfinite(w) else pooled for w in widths)
    return IntervalTable(float(coverage), holds, widths, pooled, int(y.size))
