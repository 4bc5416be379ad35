"""Walk-forward folds with purge and embargo: the only way arbscore ever splits data.

Rows 5 minutes apart are near-duplicates whose label windows overlap, so a random split would
let a model read its test answers from its training rows. Fold k (SPEC.md, "Evaluation rules"):

- test rows: entry time in ``[T_k, T_k + span)``; the windows are cut from the data's end, or
  from ``EvaluationConfig.test_start`` (``--test-start DATE``: ``n_folds`` equal windows from
  that date to the end, so an out-of-time test needs no span arithmetic);
- training rows: entry time in ``[start, T_k)``, then
  - purge: drop every row whose label window ``[entry, entry + hold_hours]`` reaches past
    ``T_k`` (its profit/success label would be read from the test period);
  - embargo: drop every row that entered within ``embargo_hours`` (default the largest hold)
    before ``T_k``. Walk-forward never trains on rows after its test window, so this gap is
    where the embargo acts: it also covers labels whose window is longer than the row's hold
    (``optimal_hold_hours`` / ``best_profit_pct`` look 168 h down the path) and the serial
    correlation of the features.

A row exactly at the edge (label end == ``T_k``, or entry == ``T_k - embargo``) is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arbscore.evaluation.config import EvaluationConfig, test_start_ms

HOUR_MS = 3_600_000
SNAPSHOT_MS = 5 * 60 * 1000


@dataclass(frozen=True)
class Fold:
    """One walk-forward fold: row indices and its time boundaries (epoch ms)."""

    index: int
    train_idx: np.ndarray
    test_idx: np.ndarray
    train_start_ms: int
    train_end_ms: int  # T: training rows entered before it (before purge and embargo)
    test_start_ms: int  # == train_end_ms
    test_end_ms: int
    purged_rows: int
    embargoed_rows: int

    def describe(self) -> dict:
        iso = _iso
        return {
            "fold": self.index,
            "train_start": iso(self.train_start_ms),
            "train_end": iso(self.train_end_ms),
            "test_start": iso(self.test_start_ms),
            "test_end": iso(self.test_end_ms),
            "train_rows": int(self.train_idx.size),
            "test_rows": int(self.test_idx.size),
            "purged_rows": self.purged_rows,
            "embargoed_rows": self.embargoed_rows,
        }


def _iso(ms: int) -> str:
    return np.datetime_as_string(np.datetime64(int(ms), "ms"), unit="s") + "Z"


def walk_forward_folds(
    timestamp_ms: np.ndarray, hold_hours: np.ndarray, config: EvaluationConfig
) -> list[Fold]:
    """The folds for rows entered at ``timestamp_ms`` holding ``hold_hours``.

    Raises ``ValueError`` saying what to change when the data is too short for the folds.
    """
    ts = np.asarray(timestamp_ms, dtype=np.int64)
    hold_ms = np.asarray(hold_hours, dtype=np.float64) * HOUR_MS
    if ts.size == 0:
        raise ValueError("no rows to evaluate")
    start, end = int(ts.min()), int(ts.max()) + SNAPSHOT_MS
    embargo_hours = config.embargo_for(np.unique(np.asarray(hold_hours, dtype=np.float64)))
    embargo_ms = embargo_hours * HOUR_MS
    days = (end - start) / (24 * HOUR_MS)
    if config.test_start is not None:
        first = test_start_ms(config.test_start)
        if not start < first < end:
            raise ValueError(
                f"--test-start {config.test_start}: the data's entries run from "
                f"{_iso(start)} to {_iso(end)}; give a date inside them"
            )
        span = (end - first) / config.n_folds
    elif config.test_span_hours is None:
        span = (end - start - embargo_ms) / (config.n_folds + 1)
    else:
        span = config.test_span_hours * HOUR_MS
    if span <= 0 or end - config.n_folds * span - embargo_ms <= start:
        raise ValueError(
            f"data spans {days:.1f} days, too short for {config.n_folds} folds of "
            f"{span / HOUR_MS:.1f} h after a {embargo_hours:g} h embargo; "
            "use fewer --folds, a shorter test span, or more data"
        )
    bounds = [int(round(end - (config.n_folds - k) * span)) for k in range(config.n_folds)]
    bounds.append(end)
    folds = []
    for k in range(config.n_folds):
        t, t_end = bounds[k], bounds[k + 1]
        before = ts < t
        purged = before & (ts + hold_ms > t)
        embargoed = before & ~purged & (ts + embargo_ms > t)
        train = np.flatnonzero(before & ~purged & ~embargoed)
        test = np.flatnonzero((ts >= t) & (ts < t_end))
        if train.size < config.min_train_rows:
            raise ValueError(
                f"fold {k} has {train.size} training rows (< min_train_rows="
                f"{config.min_train_rows}) for data spanning {days:.1f} days; "
                "use fewer --folds or more data"
            )
        if test.size == 0:
            raise ValueError(f"fold {k} has no test rows; use fewer --folds")
        folds.append(
            Fold(
                index=k,
                train_idx=train,
                test_idx=test,
                train_start_ms=start,
                train_end_ms=t,
                test_start_ms=t,
                test_end_ms=t_end,
                purged_rows=int(purged.sum()),
                embargoed_rows=int(embargoed.sum()),
            )
        )
    return folds
