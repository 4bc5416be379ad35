"""Time-ordered inner slices of one training set: [train] purge [valid] purge [calibration].

Early stopping looks at ``valid``; the success head is calibrated on ``calibration``, which is
later than anything the trees or the stopping rule saw. The purge gap (the longest hold, so a
training label window cannot reach into validation time) separates the slices. Never random.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MS_PER_HOUR = 3_600_000


@dataclass(frozen=True)
class SliceBounds:
    """Boundaries in epoch ms; a row at time t is train if t < valid_start - purge_ms, valid if
    valid_start <= t < calibration_start - purge_ms, calibration if t >= calibration_start."""

    valid_start: int
    calibration_start: int
    purge_ms: int

    def masks(self, timestamp_ms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ts = np.asarray(timestamp_ms, dtype=np.int64)
        train = ts < self.valid_start - self.purge_ms
        valid = (ts >= self.valid_start) & (ts < self.calibration_start - self.purge_ms)
        calib = ts >= self.calibration_start
        return train, valid, calib

    def to_dict(self) -> dict:
        return {
            "valid_start_ms": int(self.valid_start),
            "calibration_start_ms": int(self.calibration_start),
            "purge_hours": self.purge_ms / MS_PER_HOUR,
        }


def inner_slices(
    timestamp_ms: np.ndarray,
    *,
    valid_fraction: float,
    calibration_fraction: float,
    purge_hours: float,
    max_purge_fraction: float,
) -> SliceBounds:
    """Cut points by row count in time order (the last ``calibration_fraction`` of rows is the
    calibration slice, the ``valid_fraction`` before it validation).

    The purge is ``purge_hours`` but at most ``max_purge_fraction`` of the time span, so a
    short training window still yields three non-empty slices.
    Raises ValueError when the rows cannot be cut into three non-empty time slices.
    """
    ts = np.sort(np.asarray(timestamp_ms, dtype=np.int64))
    n = ts.size
    if n < 3:
        raise ValueError(f"targets.timestamp_ms: need at least 3 rows to cut slices, got {n}")
    span = int(ts[-1] - ts[0])
    purge_ms = int(min(purge_hours * MS_PER_HOUR, max_purge_fraction * span))
    valid_start = int(ts[min(n - 1, int(n * (1.0 - valid_fraction - calibration_fraction)))])
    calib_start = int(ts[min(n - 1, int(n * (1.0 - calibration_fraction)))])
    bounds = SliceBounds(valid_start, calib_start, purge_ms)
    train, valid, calib = bounds.masks(ts)
    counts = {"train": int(train.sum()), "valid": int(valid.sum()), "calibration": int(calib.sum())}
    if min(counts.values()) == 0:
        raise ValueError(
            "targets.timestamp_ms: cannot cut time-ordered train/valid/calibration slices "
            f"(rows per slice {counts}, span {span / MS_PER_HOUR:.1f} h, purge "
            f"{purge_ms / MS_PER_HOUR:.1f} h); give more distinct entry times"
        )
    return bounds
