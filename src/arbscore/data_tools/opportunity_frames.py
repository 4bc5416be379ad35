"""Frame plumbing for opportunity detection: leg pairing, orientation, rolling group stats.

Kept apart from ``opportunities.py`` so that file reads as the list of features.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: per-leg columns carried from the leg frame onto a pair as ``a_<col>`` / ``b_<col>``
LEG_COLUMNS: tuple[str, ...] = (
    "exchange",
    "market",
    "price",
    "hourly",
    "hourly_24h",
    "hourly_3d",
    "rate_hourly_8h_ago",
    "rate_hourly_24h_ago",
    "funding_rate",
    "funding_interval_hours",
    "hours_to_next_funding",
    "volume_24h",
    "realised_vol_24h_pct",
    "spread_pct",
    "depth_usd",
    "cost_depth_usd",
    "impact_pct",
)


def _prefixed(legs: pd.DataFrame, prefix: str) -> pd.DataFrame:
    out = legs[["timestamp", "symbol", *LEG_COLUMNS]].copy()
    return out.rename(columns={c: f"{prefix}_{c}" for c in LEG_COLUMNS})


def candidate_pairs(legs: pd.DataFrame, strategies: tuple[str, ...]) -> pd.DataFrame:
    """Every (a, b) leg pair per snapshot time: spot/perp on one exchange, perp/perp across two.

    For spot_perp ``a`` is the spot leg (always the long). For perp_perp ``a`` is the
    alphabetically first exchange; :func:`orient_pairs` decides which side is long.
    """
    parts = []
    spot = legs[legs["market"] == "spot"]
    perp = legs[legs["market"] == "perp"]
    if "spot_perp" in strategies and len(spot) and len(perp):
        a = _prefixed(spot, "a")
        b = _prefixed(perp, "b")
        pair = a.merge(
            b,
            left_on=["timestamp", "symbol", "a_exchange"],
            right_on=["timestamp", "symbol", "b_exchange"],
        )
        pair.insert(0, "strategy", "spot_perp")
        parts.append(pair)
    if "perp_perp" in strategies and perp["exchange"].nunique() > 1:
        a = _prefixed(perp, "a")
        b = _prefixed(perp, "b")
        pair = a.merge(b, on=["timestamp", "symbol"])
        pair = pair[pair["a_exchange"] < pair["b_exchange"]]
        pair.insert(0, "strategy", "perp_perp")
        parts.append(pair)
    if not parts:
        return pd.DataFrame()
    return pd.concat(parts, ignore_index=True)


def pair_swap(pairs: pd.DataFrame) -> np.ndarray:
    """Whether each pair's ``b`` leg is the long one: a perp_perp pair whose edge (b's hourly
    rate minus a's) is negative."""
    return (pairs["strategy"].to_numpy() == "perp_perp") & (pairs["edge"].to_numpy() < 0)


def orient_pairs(pairs: pd.DataFrame) -> pd.DataFrame:
    """Name the legs long/short: perp_perp is long where the hourly rate is lower.

    Adds ``long_<col>`` / ``short_<col>`` for every leg column and ``basis_zscore_oriented``
    (the a->b basis z-score, sign-flipped when b is the long leg).
    """
    swap = pair_swap(pairs)
    out = pairs[["strategy", "timestamp", "symbol", "spread_cv"]].copy()
    for col in LEG_COLUMNS:
        a = pairs[f"a_{col}"].to_numpy()
        b = pairs[f"b_{col}"].to_numpy()
        out[f"long_{col}"] = np.where(swap, b, a)
        out[f"short_{col}"] = np.where(swap, a, b)
    z = pairs["basis_z_ab"].to_numpy()
    out["basis_zscore_oriented"] = np.where(swap, -z, z)
    return out.reset_index(drop=True)


def _group_cumsums(values: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, ...]:
    """Inclusive running (count, sum, sum of squares) per group, and each row's centre.

    Each group is summed on its own, centred on its first finite value, so a row's sums depend
    only on earlier rows of its group (bit for bit: later data cannot change them) and the
    variance does not lose precision to cancellation.
    """
    cnt = np.zeros(len(values))
    s1 = np.zeros(len(values))
    s2 = np.zeros(len(values))
    centre = np.zeros(len(values))
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        seg = values[lo:hi]
        finite = np.isfinite(seg)
        first = seg[finite][0] if finite.any() else 0.0
        v = np.where(finite, seg - first, 0.0)
        cnt[lo:hi] = np.cumsum(finite)
        s1[lo:hi] = np.cumsum(v)
        s2[lo:hi] = np.cumsum(v * v)
        centre[lo:hi] = first
    return cnt, s1, s2, centre


class GroupWindows:
    """Rows sorted by (group, time) once, for trailing-window sums and lags inside each group.

    Each row's window start is one ``searchsorted`` on a (group, time) key, so a window never
    crosses into another group; sums come from per-group running sums (one numpy pass per
    group, not per row). Every result is returned in frame order.
    """

    def __init__(self, frame: pd.DataFrame, keys: list[str]) -> None:
        group = frame.groupby(keys, sort=False).ngroup().to_numpy(np.int64)
        t = frame["timestamp"].astype("datetime64[ms, UTC]").astype("int64").to_numpy()
        self.order = np.lexsort((t, group))
        g_sorted = group[self.order]
        self.t_sorted = t[self.order]
        # a group offset far larger than any time span keeps windows inside their group
        self.key = g_sorted * (1 << 42) + (self.t_sorted - (t.min() if len(t) else 0))
        self.bounds = np.append(np.flatnonzero(np.diff(g_sorted, prepend=-1)), len(self.key))
        rows = np.arange(len(self.key))
        self.group_start = self.bounds[np.searchsorted(self.bounds, rows, side="right") - 1]

    def sorted(self, values: np.ndarray) -> np.ndarray:
        return np.asarray(values, dtype=np.float64)[self.order]

    def unsorted(self, values: np.ndarray) -> np.ndarray:
        out = np.empty(len(values), dtype=np.float64)
        out[self.order] = values
        return out

    def lag_index(self, lag_ms: int) -> tuple[np.ndarray, np.ndarray]:
        """(sorted position of each row's last row at or before t - lag in its group, whether
        there is one), both in sorted order."""
        idx = np.searchsorted(self.key, self.key - lag_ms, side="right") - 1
        ok = idx >= self.group_start
        return np.maximum(idx, 0), ok

    def stats(
        self, values: np.ndarray, window_ms: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(count, mean, sample std) of the finite sorted ``values`` over (t - window, t] per
        row, in sorted order (NaN mean with no value, NaN std with fewer than 2)."""
        before, has_before = self.lag_index(window_ms)  # the last row before the window
        cnt, s1, s2, centre = _group_cumsums(values, self.bounds)

        def window(cum: np.ndarray) -> np.ndarray:
            return cum - np.where(has_before, cum[before], 0.0)

        c, a, b = window(cnt), window(s1), window(s2)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_c = a / c
            var = (b - c * mean_c**2) / (c - 1)
            std = np.where(c >= 2, np.sqrt(np.maximum(var, 0.0)), np.nan)
        return c, mean_c + centre, std


def rolling_group_stats(
    frame: pd.DataFrame, keys: list[str], columns: list[str], window_ms: int, min_count: int = 3
) -> dict[str, np.ndarray]:
    """Trailing mean and std of ``columns`` per group over (t - window, t], in frame order
    (:class:`GroupWindows`); fewer than ``min_count`` values -> NaN."""
    groups = GroupWindows(frame, keys)
    out: dict[str, np.ndarray] = {}
    for col in columns:
        c, mean, std = groups.stats(groups.sorted(frame[col].to_numpy(np.float64)), window_ms)
        ok = c >= min_count
        out[f"{col}_mean"] = groups.unsorted(np.where(ok, mean, np.nan))
        out[f"{col}_std"] = groups.unsorted(np.where(ok, std, np.nan))
    return out
