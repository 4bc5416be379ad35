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
    first dropped entry time (ISO, None when none was dropped); ``reason`` in words."""

    entries: int
    detected: int
    after: str | None
    max_hold_hours: float
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)


def dropped_entries(
    opportunities: pd.DataFrame,
    frame: pd.DataFrame,
    max_hold_hours: float,
    entries: tuple[pd.Timestamp | None, pd.Timestamp | None] = (None, None),
) -> Dropped:
    """How many of ``opportunities`` the labelled ``frame`` lacks, and why; ``entries``: only
    opportunities with ``start <= timestamp < end`` count (the entries a window asks for)."""
    when = pd.to_datetime(opportunities["timestamp"], utc=True)
    inside = pd.Series(True, index=opportunities.index)
    if entries[0] is not None:
        inside &= when >= entries[0]
    if entries[1] is not None:
        inside &= when < entries[1]
    opportunities = opportunities[inside]
    # the detector's ids as the simulator writes them (int64, names hashed: simulate_output)
    ids = pd.Series(opportunity_ids(opportunities), index=opportunities.index)
    kept = set(frame["opportunity_id"]) if len(frame) else set()
    detected = set(ids)
    lost = opportunities[~ids.isin(kept)]
    after = None
    if len(lost):
        after = pd.Timestamp(pd.to_datetime(lost["timestamp"], utc=True).min()).isoformat()
    reason = (
        f"their longest hold ({max_hold_hours:g} h) runs past the end of the data, so their "
        "paths cannot be labelled"
        if len(lost)
        else "none dropped"
    )
    return Dropped(len(lost), len(detected), after, float(max_hold_hours), reason)


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
    dropped = dropped_entries(opportunities, frame, max(config.simulation.holds_hours), entries)
    return frame, marks, dropped
