"""A labelled set with its drops counted: the entries the data's end leaves unlabelled.

The simulator keeps only entries whose whole path, the longest hold, fits in the data
(``SimulationConfig.full_horizon_only``): the last ``max hold`` of a window is detected but
cannot be labelled. :func:`labelled_set` builds the set as ``build_training_set`` does and
says how many opportunities were dropped that way and why, so a run or a backtest can report
it instead of silently ending early.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

from arbscore.data_tools.market import MarketData
from arbscore.data_tools.opportunities import detect_opportunities
from arbscore.data_tools.simulate import simulate_executions
from arbscore.data_tools.simulate_output import opportunity_ids
from arbscore.data_tools.snapshots import build_snapshots
from arbscore.data_tools.training_set import TrainingSetConfig
from arbscore.progress import Progress


@dataclass(frozen=True)
class Dropped:
    """Opportunities detected but not labelled: ``entries`` of ``detected``; ``after``: the
    first dropped entry time (ISO, None when none was dropped); ``reason`` in words. Of the
    dropped, ``past_data_end`` entered within the longest hold of the data's end; the rest
    (``series_ended``) have a leg whose own series ends or pauses before that hold (a symbol
    listed later on one venue, a delisting, a gap in the files)."""

    entries: int
    detected: int
    after: str | None
    max_hold_hours: float
    reason: str
    past_data_end: int = 0
    series_ended: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def dropped_entries(
    opportunities: pd.DataFrame,
    frame: pd.DataFrame,
    max_hold_hours: float,
    entries: tuple[pd.Timestamp | None, pd.Timestamp | None] = (None, None),
    data_end: pd.Timestamp | None = None,
) -> Dropped:
    """How many of ``opportunities`` the labelled ``frame`` lacks, and why; ``entries``: only
    opportunities with ``start <= timestamp < end`` count (the entries a window asks for);
    ``data_end``: the market's last time (None: every drop is put down to the data's end)."""
    when = pd.to_datetime(opportunities["timestamp"], utc=True)
    inside = pd.Series(True, index=opportunities.index)
    if entries[0] is not None:
        inside &= when >= entries[0]
    if entries[1] is not None:
        inside &= when < entries[1]
    opportunities, when = opportunities[inside], when[inside]
    # the detector's ids as the simulator writes them (int64, names hashed: simulate_output)
    ids = pd.Series(opportunity_ids(opportunities), index=opportunities.index)
    kept = set(frame["opportunity_id"]) if len(frame) else set()
    lost = ~ids.isin(kept)
    after = None
    if lost.any():
        after = pd.Timestamp(when[lost].min()).isoformat()
    if data_end is None:
        at_end = lost
    else:
        at_end = lost & (when + pd.Timedelta(hours=float(max_hold_hours)) > data_end)
    n_end, n_series = int(at_end.sum()), int((lost & ~at_end).sum())
    parts = []
    if n_end:
        parts.append(
            f"{n_end:,} because their longest hold ({max_hold_hours:g} h) runs past the end of "
            "the data"
        )
    if n_series:
        parts.append(
            f"{n_series:,} because a leg's own price or funding series ends or pauses before "
            "that hold"
        )
    reason = "; ".join(parts) + ", so their paths cannot be labelled" if parts else "none dropped"
    return Dropped(
        int(lost.sum()), int(ids.nunique()), after, float(max_hold_hours), reason, n_end, n_series
    )


def labelled_set(
    market: MarketData,
    config: TrainingSetConfig,
    progress: Progress | None = None,
    *,
    entries: tuple[pd.Timestamp | None, pd.Timestamp | None] = (None, None),
) -> tuple[pd.DataFrame, pd.DataFrame, Dropped]:
    """(frame, daily marks, what was dropped): ``build_training_set(..., marks=True)`` with
    the count of entries (within ``entries``, see :func:`dropped_entries`) the data's end left
    unlabelled."""
    snapshots = build_snapshots(market, config.snapshots, progress)
    opportunities = detect_opportunities(snapshots, config.opportunities)
    frame, marks = simulate_executions(
        opportunities, market, config.simulation, progress, marks=True
    )
    end = None
    if len(market.klines):
        k = market.klines
        end = pd.Timestamp(
            (k["open_time"] + pd.to_timedelta(k["interval_minutes"], "min")).max()
        ).tz_convert("UTC")
    hold = max(config.simulation.holds_hours)
    dropped = dropped_entries(opportunities, frame, hold, entries, end)
    return frame, marks, dropped
