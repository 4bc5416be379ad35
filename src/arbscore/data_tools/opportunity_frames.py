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
    "cost_rate",
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


def orient_pairs(pairs: pd.DataFrame) -> pd.DataFrame:
    """Name the legs long/short: perp_perp is long where the hourly rate is lower.

    Adds ``long_<col>`` / ``short_<col>`` for every leg column and ``basis_zscore_oriented``
    (the a->b basis z-score, sign-flipped when b is the long leg).
    """
    swap = (pairs["strategy"].to_numpy() == "perp_perp") & (pairs["edge"].to_numpy() < 0)
    out = pairs[["strategy", "timestamp", "symbol", "spread_cv"]].copy()
    for col in LEG_COLUMNS:
        a = pairs[f"a_{col}"].to_numpy()
        b = pairs[f"b_{col}"].to_numpy()
        out[f"long_{col}"] = np.where(swap, b, a)
        out[f"short_{col}"] = np.where(swap, a, b)
    z = pairs["basis_z_ab"].to_numpy()
    out["basis_zscore_oriented"] = np.where(swap, -z, z)
    return out.reset_index(drop=True)


def rolling_group_stats(
    frame: pd.DataFrame, keys: list[str], columns: list[str], window_ms: int, min_count: int = 3
) -> dict[str, np.ndarray]:
    """Trailing mean and std of ``columns`` per group over (t - window, t], in frame order.

    Vectorised with cumulative sums: rows are sorted by (group, time) and each row's window
    start is found with one ``searchsorted`` on a (group, time) key, so the window never
    crosses into another group. Fewer than ``min_count`` rows -> NaN.
    """
    group = frame.groupby(keys, sort=False).ngroup().to_numpy(np.int64)
    t = frame["timestamp"].astype("datetime64[ms, UTC]").astype("int64").to_numpy()
    order = np.lexsort((t, group))
    # a group offset far larger than any time span keeps windows inside their group
    key = group[order] * (1 << 42) + (t[order] - t.min())
    start = np.searchsorted(key, key - window_ms, side="right")
    end = np.arange(1, len(key) + 1)
    out: dict[str, np.ndarray] = {}
    for col in columns:
        values = frame[col].to_numpy(np.float64)[order]
        finite = np.isfinite(values)
        v = np.where(finite, values, 0.0)
        cnt = np.concatenate([[0.0], np.cumsum(finite)])
        s1 = np.concatenate([[0.0], np.cumsum(v)])
        s2 = np.concatenate([[0.0], np.cumsum(v * v)])
        c = cnt[end] - cnt[start]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = (s1[end] - s1[start]) / c
            var = ((s2[end] - s2[start]) - c * mean**2) / (c - 1)
        std = np.sqrt(np.maximum(var, 0.0))
        ok = c >= min_count
        mean_out = np.empty_like(mean)
        std_out = np.empty_like(std)
        mean_out[order] = np.where(ok, mean, np.nan)
        std_out[order] = np.where(ok, std, np.nan)
        out[f"{col}_mean"] = mean_out
        out[f"{col}_std"] = std_out
    return out
