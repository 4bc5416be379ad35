"""Turning (X, Targets) into training arrays: time split, standardisation, targets, Platt.

Kept apart from the family so each step is a small pure function with its own test:
- :func:`time_split`: the last ``val_fraction`` of rows by entry time is the validation slice;
  training rows end ``purge_hours`` before it (their label windows would reach into it).
- :func:`fit_standardiser`: centre/scale from the training rows only (standard or robust).
- :func:`duration_mask`: 1 on one row per opportunity (``first_row_per_opportunity``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arbscore.data_tools.targets import Targets, first_row_per_opportunity
from arbscore.mlx_models.config import MLXConfig
from arbscore.schema import MAX_HOLD_HOURS

HOUR_MS = 3_600_000


@dataclass(frozen=True)
class TimeSplit:
    train: np.ndarray  # row indices used for gradient steps
    val: np.ndarray  # row indices of the validation slice (may be empty)
    purge_hours: float  # the gap actually used (may shrink, see MLXConfig.min_train_fraction)


def time_split(timestamp_ms: np.ndarray, config: MLXConfig) -> TimeSplit:
    """Time-ordered train / purge / validation split of the fit rows (never random)."""
    ts = np.asarray(timestamp_ms, dtype=np.int64)
    n = len(ts)
    all_rows = np.arange(n)
    n_val_target = int(round(n * config.val_fraction))
    if n_val_target < max(config.min_val_rows, 1):
        return TimeSplit(all_rows, all_rows[:0], 0.0)
    ordered = np.sort(ts)
    cutoff = ordered[n - n_val_target]
    val = all_rows[ts >= cutoff]
    if len(val) < max(config.min_val_rows, 1) or len(val) == n:
        return TimeSplit(all_rows, all_rows[:0], 0.0)
    purge_ms = int(round(config.purge_hours * HOUR_MS))
    need = int(np.ceil(config.min_train_fraction * n))
    n_before = int(np.sum(ts < cutoff))
    need = min(need, n_before)
    if np.sum(ts < cutoff - purge_ms) < need:
        # the full purge would leave too little to train on: keep the `need` earliest rows
        purge_ms = max(int(cutoff - ordered[need - 1]) - 1, 0)
    train = all_rows[ts < cutoff - purge_ms]
    return TimeSplit(train, val, purge_ms / HOUR_MS)


def fit_standardiser(
    x: np.ndarray, scaling: str = "standard", passthrough: tuple[int, ...] = ()
) -> tuple[np.ndarray, np.ndarray]:
    """(centre, scale) per column in float32, from the training rows only.

    "standard": mean and std. "robust" (RealMLP's habit): median and IQR / 1.349 (the std of a
    normal), falling back to the std where the IQR is 0 (a column mostly one value).
    Constant columns get scale 1; ``passthrough`` columns (one-hot) get (0, 1), kept 0/1.
    """
    x64 = np.asarray(x, dtype=np.float64)
    std = x64.std(axis=0) if len(x64) else np.ones(x64.shape[1])
    if scaling == "robust" and len(x64):
        q25, centre, q75 = np.quantile(x64, [0.25, 0.5, 0.75], axis=0)
        iqr = (q75 - q25) / 1.349
        spread = np.where(iqr > 1e-12, iqr, std)
    else:
        centre = x64.mean(axis=0) if len(x64) else np.zeros(x64.shape[1])
        spread = std
    scale = np.where(spread > 1e-12, spread, 1.0)
    idx = list(passthrough)
    centre[idx], scale[idx] = 0.0, 1.0
    return centre.astype(np.float32), scale.astype(np.float32)


def standardise(
    x: np.ndarray, mean: np.ndarray, scale: np.ndarray, clip: float, smooth: float = 0.0
) -> np.ndarray:
    """(x - mean) / scale in float32, clipped to [-clip, clip] when clip > 0, then smoothly
    clipped, v / sqrt(1 + (v / smooth)^2), when smooth > 0 (see the model docstring)."""
    out = (np.asarray(x, dtype=np.float32) - mean) / scale
    if clip > 0:
        np.clip(out, -clip, clip, out=out)
    if smooth > 0:
        out = out / np.sqrt(1.0 + (out / np.float32(smooth)) ** 2)
    return out.astype(np.float32, copy=False)


def duration_mask(targets: Targets) -> np.ndarray:
    """1.0 on the first row of each opportunity with a finite duration label, else 0.0."""
    mask = np.zeros(len(targets.profit), dtype=np.float32)
    mask[first_row_per_opportunity(np.asarray(targets.opportunity_id))] = 1.0
    mask[~np.isfinite(np.asarray(targets.duration, dtype=np.float64))] = 0.0
    return mask


def duration_target(duration_hours: np.ndarray) -> np.ndarray:
    """log1p of the optimal hold, clipped to [0, MAX_HOLD_HOURS]; NaN becomes 0 (masked out)."""
    d = np.nan_to_num(np.asarray(duration_hours, dtype=np.float64), nan=0.0)
    return np.log1p(np.clip(d, 0.0, MAX_HOLD_HOURS)).astype(np.float32)


def check_targets(targets: Targets) -> None:
    """Fail loudly on labels the losses cannot use."""
    profit = np.asarray(targets.profit, dtype=np.float64)
    if not np.all(np.isfinite(profit)):
        bad = int(np.sum(~np.isfinite(profit)))
        raise ValueError(f"Targets.profit has {bad} non-finite values; drop or fill those rows")
    success = np.asarray(targets.success, dtype=np.float64)
    if not np.all(np.isin(success, (0.0, 1.0))):
        raise ValueError("Targets.success must be 0/1, got other values")
    duration = np.asarray(targets.duration, dtype=np.float64)
    if np.any(duration[np.isfinite(duration)] < 0):
        raise ValueError("Targets.duration must be >= 0 hours")
