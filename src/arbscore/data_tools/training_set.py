"""The labelled training set in one call: snapshots -> opportunities -> simulated executions.

Also the file boundary of the set: :func:`write_training_set` writes Parquet or the guide's
``training_data.csv`` layout (our column names already are the guide's; ``was_profitable`` is
written as true/false, ``timestamp`` as ISO 8601 UTC, floats exactly) so other tools can read it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from arbscore.data_tools.costs import CostConfig, FeeSchedule, LiquidityModel, SlippageConfig
from arbscore.data_tools.exit_rule import SignalExitConfig
from arbscore.data_tools.margin import MarginConfig
from arbscore.data_tools.market import MarketData
from arbscore.data_tools.opportunities import OpportunityConfig, detect_opportunities
from arbscore.data_tools.simulate import SimulationConfig, simulate_executions
from arbscore.data_tools.simulate_output import opportunity_ids
from arbscore.data_tools.snapshots import SnapshotConfig, build_snapshots
from arbscore.progress import Progress
from arbscore.schema import MARK_COLUMNS, MARKS_FILE_NAME


def config_from_dict(cls: type, values: Any, where: str) -> Any:
    """A frozen config from a config file's mapping; unknown keys raise ``ValueError``.

    Nested configs (``costs``, ``fees``, ``margin``, ``signal_exit``, ...) may be mappings
    too; ``fees`` is read by :meth:`FeeSchedule.from_dict` (rates written
    ``{"binance:perp": [[taker, maker], ...]}`` per VIP tier, or one ``[taker, maker]`` pair;
    the older ``order_type`` key still sets both order types); lists become tuples.
    """
    if isinstance(values, cls):
        return values
    if cls is FeeSchedule:
        return FeeSchedule.from_dict(values, where)
    if not isinstance(values, dict):
        raise ValueError(f"{where}: expected a mapping of settings, got {type(values).__name__}")
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - fields)
    if unknown:
        raise ValueError(f"{where}: unknown keys {unknown}; known: {sorted(fields)}")
    kwargs = {}
    for key, value in values.items():
        nested = _NESTED.get((cls, key))
        if nested is not None and value is not None:
            value = config_from_dict(nested, value, f"{where}.{key}")
        elif isinstance(value, list):
            value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
        kwargs[key] = value
    return cls(**kwargs)


_NESTED: dict[tuple[type, str], type] = {
    (CostConfig, "fees"): FeeSchedule,
    (CostConfig, "slippage"): SlippageConfig,
    (CostConfig, "liquidity"): LiquidityModel,
    (SnapshotConfig, "liquidity"): LiquidityModel,
    (OpportunityConfig, "costs"): CostConfig,
    (SimulationConfig, "costs"): CostConfig,
    (SimulationConfig, "margin"): MarginConfig,
    (SimulationConfig, "signal_exit"): SignalExitConfig,
}


@dataclass(frozen=True)
class TrainingSetConfig:
    """The three stages' configs. Snapshots default to the entry stride (60 min): the rolling
    statistics are sampled at the snapshot step and entries are only taken on the stride.

    ``costs``, when given, is used by both detection and simulation (the usual way to set fees,
    slippage or position size); otherwise their own ``costs`` must agree. Sections may be given
    as mappings (``arbscore run --config``); unknown keys are rejected.
    """

    snapshots: SnapshotConfig = field(default_factory=lambda: SnapshotConfig(every_minutes=60))
    opportunities: OpportunityConfig = field(default_factory=OpportunityConfig)
    simulation: SimulationConfig = field(default_factory=SimulationConfig)
    costs: CostConfig | None = None

    def __post_init__(self) -> None:
        for name, cls in (
            ("snapshots", SnapshotConfig),
            ("opportunities", OpportunityConfig),
            ("simulation", SimulationConfig),
            ("costs", CostConfig),
        ):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, config_from_dict(cls, value, f"training_set.{name}"))
        if self.costs is not None:
            object.__setattr__(
                self, "opportunities", dataclasses.replace(self.opportunities, costs=self.costs)
            )
            object.__setattr__(
                self, "simulation", dataclasses.replace(self.simulation, costs=self.costs)
            )
        stride = self.opportunities.entry_stride_minutes
        if stride % self.snapshots.every_minutes:
            raise ValueError(
                f"opportunities.entry_stride_minutes ({stride}) must be a multiple of "
                f"snapshots.every_minutes ({self.snapshots.every_minutes})"
            )
        if self.opportunities.costs != self.simulation.costs:
            raise ValueError(
                "opportunities.costs and simulation.costs differ: break-even hours and labels "
                "must use the same fees, slippage and position size (set training_set.costs)"
            )
        # the snapshots' spread estimate is the costs' liquidity model, one setting
        object.__setattr__(
            self,
            "snapshots",
            dataclasses.replace(self.snapshots, liquidity=self.simulation.costs.liquidity),
        )


#: days of entries a generated market gives beyond its warm-up and the longest path
ENTRY_DAYS = 14


def market_days_for(config: TrainingSetConfig, entry_days: float = ENTRY_DAYS) -> float:
    """The days a generated market must span so that ``entry_days`` of entries have their
    snapshot warm-up before them and their whole path (the simulation's horizon) after them:
    47 for the defaults (3 days of warm-up, 720 h of path, 14 days of entries)."""
    hours = config.snapshots.warmup_hours + config.simulation.horizon_hours + 24 * entry_days
    return hours / 24


def build_training_set(
    market: MarketData,
    config: TrainingSetConfig,
    progress: Progress | None = None,
    *,
    marks: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """One row per (opportunity, hold that fits in the data) with features and labels.

    ``progress(stage, done, total)`` is called as the stages advance (snapshots per market
    series, opportunities once, simulation per chunk). ``marks=True`` returns
    ``(frame, marks)`` with the daily marks (``schema.MARK_COLUMNS``) for the backtest.
    """
    snapshots = build_snapshots(market, config.snapshots, progress)
    if progress is not None:
        progress("opportunities", 0, 1)
    opportunities = detect_opportunities(snapshots, config.opportunities)
    if progress is not None:
        progress("opportunities", 1, 1)
    return simulate_executions(opportunities, market, config.simulation, progress, marks=marks)


def marks_path(path: str | Path) -> Path:
    """Where the daily marks of the set at ``path`` live: ``training_marks.parquet`` beside it."""
    return Path(path).parent / MARKS_FILE_NAME


def load_marks(path: str | Path) -> pd.DataFrame | None:
    """The daily marks beside the set at ``path`` (:func:`marks_path`), or None when absent.
    ``opportunity_id`` is the int64 of ``load_training_data`` (older marks keyed by name are
    hashed the same way)."""
    where = marks_path(path)
    if not where.is_file():
        return None
    marks = pd.read_parquet(where)
    marks["opportunity_id"] = opportunity_ids(marks)
    return marks


def write_training_set(
    frame: pd.DataFrame, path: str | Path, marks: pd.DataFrame | None = None
) -> Path:
    """Write the set as Parquet (``.parquet``) or CSV (``.csv``, the guide's column names);
    ``marks``, when given, go to :func:`marks_path` (Parquet, ``schema.MARK_COLUMNS``)."""
    path = Path(path)
    name = path.name.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if marks is not None:
        missing = [c for c in MARK_COLUMNS if c not in marks]
        if missing:
            raise ValueError(f"marks frame is missing columns {missing}")
        marks[list(MARK_COLUMNS)].to_parquet(marks_path(path), index=False)
    if name.endswith(".parquet"):
        frame.to_parquet(path, index=False)
    elif name.endswith((".csv", ".csv.gz")):
        import pyarrow as pa
        import pyarrow.csv as pacsv

        out = frame.copy()
        out["timestamp"] = out["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        # Arrow's writer is ~10x faster than pandas' and writes floats in shortest round-trip
        # form, so a CSV reads back to the same numbers
        table = pa.Table.from_pandas(out, preserve_index=False)
        if name.endswith(".gz"):
            with pa.CompressedOutputStream(str(path), "gzip") as sink:
                pacsv.write_csv(table, sink, pacsv.WriteOptions(quoting_style="needed"))
        else:
            pacsv.write_csv(table, str(path), pacsv.WriteOptions(quoting_style="needed"))
    else:
        raise ValueError(f"--out {path.name}: expected a .parquet or .csv file name")
    return path
