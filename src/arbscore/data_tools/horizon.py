"""Horizon features (issue 26): how a pair's funding and basis behaved over the past weeks.

A carry position lasts weeks; these say how persistent a candidate's funding has been. They
are trailing statistics over the pair's own earlier snapshot rows, (t - window, t], so each is
known at the opportunity's time ``t`` and nothing later changes it. Computed on the unoriented
pair frame of :func:`~arbscore.data_tools.opportunities.detect_opportunities` (legs ``a`` and
``b``, ``edge`` = b's hourly rate minus a's, ``basis_ab`` in percent) before entries are
thinned, then named long/short by the same orientation as every other feature. History and the
live scan both run this through the one detector; the server takes the values as raw inputs
(a trailing window cannot be computed from one request). Formulas: docs/serving.md.

Units: funding figures are per 8 h in percent of notional (hourly decimal x 800, as
``fund_profit_8h``); the edge is the short leg's rate minus the long leg's. A statistic with
too little history (fewer than ``MIN_ROWS`` rows in its window) is NaN, which the feature spec
fills with its training median, in training and serving alike.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from arbscore.data_tools.opportunity_frames import GroupWindows
from arbscore.schema import BASIS_WINDOWS_DAYS, HORIZON_FEATURE_COLUMNS, HORIZON_WINDOWS_DAYS

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
#: hourly decimal rate -> percent per 8 h
PER_8H_PCT = 8 * 100.0
#: a trailing statistic needs this many rows in its window
MIN_ROWS = 3
#: the window of the edge's persistence statistics (positive share, autocorrelation, streak
#: cap, interval changes), days
PERSISTENCE_DAYS = max(HORIZON_WINDOWS_DAYS)
#: the lag of the edge's autocorrelation: one 8 h settlement
AUTOCORR_LAG_HOURS = 8.0
#: the pair columns the statistics are grouped by (one group per candidate pair)
PAIR_KEYS = ["strategy", "symbol", "a_exchange", "b_exchange"]


def _window(groups: GroupWindows, values: np.ndarray, days: int) -> tuple[np.ndarray, ...]:
    """(mean, std) of sorted ``values`` over the trailing ``days``; NaN below ``MIN_ROWS``."""
    c, mean, std = groups.stats(values, days * DAY_MS)
    ok = c >= MIN_ROWS
    return np.where(ok, mean, np.nan), np.where(ok, std, np.nan)


def _autocorr(groups: GroupWindows, edge: np.ndarray) -> np.ndarray:
    """Correlation of the edge with its value ``AUTOCORR_LAG_HOURS`` earlier, over the rows of
    the trailing ``PERSISTENCE_DAYS`` that have both (sample moments)."""
    idx, ok = groups.lag_index(int(AUTOCORR_LAG_HOURS * HOUR_MS))
    lagged = np.where(ok, edge[idx], np.nan)
    both = np.isfinite(edge) & np.isfinite(lagged)
    x, y = np.where(both, edge, np.nan), np.where(both, lagged, np.nan)
    window = PERSISTENCE_DAYS * DAY_MS
    n, mx, sx = groups.stats(x, window)
    _, my, sy = groups.stats(y, window)
    _, mxy, _ = groups.stats(x * y, window)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = (mxy - mx * my) * n / (n - 1) / (sx * sy)
    ok = (n >= MIN_ROWS) & np.isfinite(corr)
    return np.where(ok, np.clip(corr, -1.0, 1.0), np.nan)


def _hours_since(groups: GroupWindows, hit: np.ndarray) -> np.ndarray:
    """Hours since the last row of the group where ``hit`` (sorted order), the group's own
    history when there is none, capped at ``PERSISTENCE_DAYS``."""
    t = groups.t_sorted
    pos = np.arange(len(t))
    last = np.maximum.accumulate(np.where(hit, pos, -1)) if len(t) else pos
    start = groups.group_start
    since = np.where(last >= start, t - t[np.maximum(last, 0)], t - t[start])
    return np.minimum(since / HOUR_MS, PERSISTENCE_DAYS * 24.0)


def _interval_changes(groups: GroupWindows, pairs: pd.DataFrame) -> np.ndarray:
    """Rows of the trailing ``PERSISTENCE_DAYS`` at which either leg's funding interval
    differed from its previous row's (a venue moving a coin to 4 h or 1 h funding)."""
    changed = np.zeros(len(groups.key))
    prev_in_group = np.arange(len(changed)) > groups.group_start
    for leg in ("a", "b"):
        iv = groups.sorted(pairs[f"{leg}_funding_interval_hours"].to_numpy(np.float64))
        prev = np.roll(iv, 1)
        moved = prev_in_group & np.isfinite(iv) & np.isfinite(prev) & (iv != prev)
        changed = np.maximum(changed, moved.astype(np.float64))
    c, mean, _ = groups.stats(changed, PERSISTENCE_DAYS * DAY_MS)
    return np.rint(c * mean)


def pair_horizon(pairs: pd.DataFrame) -> dict[str, np.ndarray]:
    """The horizon statistics of every pair row in ``a``/``b`` terms (frame order): per leg
    and of the edge (b - a), mean and std per window; the shares and streaks of b - a > 0 and
    of b - a < 0 (orientation picks one); the autocorrelation; basis mean and z-score."""
    groups = GroupWindows(pairs, PAIR_KEYS)
    edge = groups.sorted(pairs["edge"].to_numpy(np.float64))
    out: dict[str, np.ndarray] = {}
    for name, col in (("a", "a_hourly"), ("b", "b_hourly"), ("edge", "edge")):
        values = groups.sorted(pairs[col].to_numpy(np.float64)) * PER_8H_PCT
        for d in HORIZON_WINDOWS_DAYS:
            out[f"{name}_mean_{d}d"], out[f"{name}_vol_{d}d"] = _window(groups, values, d)
    finite = np.isfinite(edge)
    for sign, hit in (("pos", edge > 0), ("neg", edge < 0)):
        share = np.where(finite, hit.astype(np.float64), np.nan)
        out[f"{sign}_fraction"], _ = _window(groups, share, PERSISTENCE_DAYS)
        # the edge held this sign since the last row where it did not
        out[f"{sign}_streak"] = _hours_since(groups, finite & ~hit)
    out["autocorr"] = _autocorr(groups, edge)
    basis = groups.sorted(pairs["basis_ab"].to_numpy(np.float64))
    for d in BASIS_WINDOWS_DAYS:
        mean, std = _window(groups, basis, d)
        with np.errstate(invalid="ignore", divide="ignore"):
            z = (basis - mean) / std
        out[f"basis_mean_{d}d"] = mean
        # a basis that has not moved sits at its mean: z-score 0
        out[f"basis_z_{d}d"] = np.where(std > 0, z, np.where(std == 0, 0.0, np.nan))
    out["interval_changes"] = _interval_changes(groups, pairs)
    return {k: groups.unsorted(v) for k, v in out.items()}


def orient_horizon(ab: dict[str, np.ndarray], swap: np.ndarray) -> pd.DataFrame:
    """:func:`pair_horizon`'s rows named long/short (``swap``: b is the long leg), in
    ``HORIZON_FEATURE_COLUMNS`` order: legs exchanged, the edge's and the basis's signs
    flipped, the negative share and streak taken for the positive ones."""

    def pick(when_a_long: str, when_b_long: str, sign: float = 1.0) -> np.ndarray:
        return np.where(swap, sign * ab[when_b_long], ab[when_a_long])

    out: dict[str, np.ndarray] = {}
    for d in HORIZON_WINDOWS_DAYS:
        for stat in ("mean", "vol"):
            out[f"long_funding_{stat}_{d}d_pct"] = pick(f"a_{stat}_{d}d", f"b_{stat}_{d}d")
            out[f"short_funding_{stat}_{d}d_pct"] = pick(f"b_{stat}_{d}d", f"a_{stat}_{d}d")
        out[f"edge_funding_mean_{d}d_pct"] = pick(f"edge_mean_{d}d", f"edge_mean_{d}d", -1.0)
        out[f"edge_funding_vol_{d}d_pct"] = ab[f"edge_vol_{d}d"]
    out["edge_positive_fraction_30d"] = pick("pos_fraction", "neg_fraction")
    out["edge_positive_streak_hours"] = pick("pos_streak", "neg_streak")
    out["edge_autocorr_30d"] = ab["autocorr"]
    for d in BASIS_WINDOWS_DAYS:
        out[f"basis_mean_{d}d_pct"] = pick(f"basis_mean_{d}d", f"basis_mean_{d}d", -1.0)
        out[f"basis_zscore_{d}d"] = pick(f"basis_z_{d}d", f"basis_z_{d}d", -1.0)
    out["interval_changes_30d"] = ab["interval_changes"]
    return pd.DataFrame({name: out[name] for name in HORIZON_FEATURE_COLUMNS})
