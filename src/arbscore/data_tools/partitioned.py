"""The training set as a partitioned Parquet dataset, built and read one partition at a time.

A partition is a group of symbols (one symbol by default). Every stage that builds the set
(snapshots -> opportunities -> simulation, ``training_set.build_training_set``'s stages) is
independent across symbols except one feature: the BTC context (``btc_price``,
``market_regime``, from ``OpportunityConfig.regime_symbol``) that every symbol's rows carry.
So the context is computed once, from the regime symbol's snapshots
(:func:`~arbscore.data_tools.opportunities.regime_context`: one small frame of time, price and
regime), and each partition is built from its own symbols' market data and that frame. One
more thing is pinned from the whole market so a partition sees the same clock as the
single-frame build: the snapshot grid
(its start is the warm-up after the *universe's* first closed candle) and nothing else -- the
simulator's path tables are cumulated over each series' own history, so a partition's
simulation window does not change a label. The result, concatenated and stably sorted by
:data:`ROW_ORDER`, equals ``build_training_set`` on the whole market row for row.

Layout of a dataset directory::

    DIR/partitions.json                  keys, symbols, rows per partition
    DIR/part-<key>.parquet               the partition's rows (the set's columns)
    DIR/marks/part-<key>.parquet         its daily marks (schema.MARK_COLUMNS)

Peak memory of a build follows the largest partition (plus the market it is cut from), not
the universe: :func:`build_partitioned` writes each partition and keeps only its row count.
``mapper`` runs the partition tasks: the builtin ``map`` (one after another, this process) or
a cluster's map (``arbscore.scale.cluster``); each task gets only its own slice of the market.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from arbscore.data_tools.market import MarketData
from arbscore.data_tools.opportunities import detect_opportunities, regime_context
from arbscore.data_tools.simulate import simulate_executions
from arbscore.data_tools.snapshots import build_snapshots, snapshot_times
from arbscore.data_tools.training_set import TrainingSetConfig
from arbscore.progress import Progress
from arbscore.schema import HOLD_COLUMN, MARK_COLUMNS

#: the single-frame build's row order (opportunities by time and candidate, holds ascending)
ROW_ORDER: tuple[str, ...] = (
    "timestamp",
    "strategy",
    "symbol",
    "long_exchange",
    "short_exchange",
    HOLD_COLUMN,
)
MANIFEST = "partitions.json"
MARKS_DIR = "marks"
Mapper = Callable[[Callable, Iterable], Iterable]


@dataclass(frozen=True)
class PartitionTask:
    """One partition's work: its symbols, the market slice it needs, where to write."""

    key: str
    symbols: tuple[str, ...]
    market: MarketData
    config: TrainingSetConfig
    out_dir: str
    context: pd.DataFrame | None = None  # the universe's BTC context (regime_context)


@dataclass(frozen=True)
class PartitionResult:
    key: str
    symbols: tuple[str, ...]
    rows: int
    mark_rows: int


def partition_key(symbols: tuple[str, ...]) -> str:
    """File-name-safe key of a symbol group (its first symbol, and the count when more)."""
    key = re.sub(r"[^A-Za-z0-9_.-]", "_", symbols[0])
    return key if len(symbols) == 1 else f"{key}+{len(symbols) - 1}"


def symbol_groups(market: MarketData, per_partition: int = 1) -> list[tuple[str, ...]]:
    """The market's symbols (sorted) in groups of ``per_partition``."""
    if per_partition < 1:
        raise ValueError(f"per_partition is {per_partition}; expected >= 1")
    symbols = sorted(market.klines["symbol"].astype(str).unique())
    return [tuple(symbols[i : i + per_partition]) for i in range(0, len(symbols), per_partition)]


def market_slice(market: MarketData, symbols: Iterable[str]) -> MarketData:
    """The funding and klines of ``symbols`` only (same source, flags and details)."""
    wanted = set(symbols)
    return MarketData(
        funding=market.funding[market.funding["symbol"].isin(wanted)].reset_index(drop=True),
        klines=market.klines[market.klines["symbol"].isin(wanted)].reset_index(drop=True),
        source=market.source,
        synthetic=market.synthetic,
        details=market.details,
    )


def pinned_config(market: MarketData, config: TrainingSetConfig) -> TrainingSetConfig:
    """``config`` with the snapshot grid's start and end fixed from the whole ``market``."""
    times = snapshot_times(market, config.snapshots)
    snaps = dataclasses.replace(
        config.snapshots,
        start=pd.Timestamp(int(times[0]), unit="ms", tz="UTC"),
        end=pd.Timestamp(int(times[-1]), unit="ms", tz="UTC"),
    )
    return dataclasses.replace(config, snapshots=snaps)


def partition_tasks(
    market: MarketData, config: TrainingSetConfig, out_dir: str | Path, per_partition: int = 1
) -> Iterator[PartitionTask]:
    """The tasks of a build, lazily (each cuts its market slice when it is drawn); the BTC
    context is computed here, once, from the regime symbol's snapshots."""
    pinned = pinned_config(market, config)
    context = universe_context(market, pinned)
    for symbols in symbol_groups(market, per_partition):
        yield PartitionTask(
            key=partition_key(symbols),
            symbols=symbols,
            market=market_slice(market, symbols),
            config=pinned,
            out_dir=str(out_dir),
            context=context,
        )


def universe_context(market: MarketData, pinned: TrainingSetConfig) -> pd.DataFrame | None:
    """The BTC context of the whole ``market`` (``pinned``: :func:`pinned_config`), from the
    regime symbol's slice alone (its snapshots do not depend on the other symbols'); None
    when the market lacks the regime symbol (every row's regime is then neutral, as in the
    single-frame build)."""
    regime = market_slice(market, {pinned.opportunities.regime_symbol})
    if regime.klines.empty:
        return None
    return regime_context(build_snapshots(regime, pinned.snapshots), pinned.opportunities)


def build_partition(
    market: MarketData,
    symbols: tuple[str, ...],
    config: TrainingSetConfig,
    context: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows (and daily marks) of ``symbols``; ``config`` is :func:`pinned_config` of the
    whole market, ``context`` its :func:`universe_context` (None: ``market`` must then hold
    the regime symbol too, and the context comes from it)."""
    snapshots = build_snapshots(market, config.snapshots)
    opportunities = detect_opportunities(snapshots, config.opportunities, context)
    mine = opportunities["symbol"].isin(set(symbols)).to_numpy()
    opportunities = opportunities[mine].reset_index(drop=True)
    return simulate_executions(opportunities, market, config.simulation, marks=True)


def run_partition_task(task: PartitionTask) -> PartitionResult:
    """Build one partition and write it (and its marks) under ``task.out_dir``."""
    frame, marks = build_partition(task.market, task.symbols, task.config, task.context)
    out = Path(task.out_dir)
    (out / MARKS_DIR).mkdir(parents=True, exist_ok=True)
    frame.to_parquet(out / f"part-{task.key}.parquet", index=False)
    marks.to_parquet(out / MARKS_DIR / f"part-{task.key}.parquet", index=False)
    return PartitionResult(task.key, task.symbols, len(frame), len(marks))


def build_partitioned(
    market: MarketData,
    config: TrainingSetConfig,
    out_dir: str | Path,
    *,
    per_partition: int = 1,
    mapper: Mapper = map,
    progress: Progress | None = None,
) -> list[PartitionResult]:
    """Build the set partition by partition into ``out_dir`` (see the module docstring)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for old in (*out.glob("part-*.parquet"), *out.glob(f"{MARKS_DIR}/part-*.parquet")):
        old.unlink()  # a stale partition of an earlier build would be read back
    total = len(symbol_groups(market, per_partition))
    results: list[PartitionResult] = []
    for result in mapper(run_partition_task, partition_tasks(market, config, out, per_partition)):
        results.append(result)
        if progress is not None:
            progress("partitions", len(results), total)
    manifest = {
        "partition_by": "symbol",
        "row_order": list(ROW_ORDER),
        "synthetic": bool(market.synthetic),
        "source": market.source,
        "partitions": [dataclasses.asdict(r) for r in results],
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return results


def is_partitioned(path: str | Path) -> bool:
    """True when ``path`` is a dataset directory written by :func:`build_partitioned`."""
    return (Path(path) / MANIFEST).is_file()


def partition_files(path: str | Path) -> list[Path]:
    """The partition files of the dataset at ``path``, in the manifest's order."""
    path = Path(path)
    if not is_partitioned(path):
        raise ValueError(f"{path}: not a partitioned training set (no {MANIFEST})")
    manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    files = [path / f"part-{p['key']}.parquet" for p in manifest["partitions"]]
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        raise ValueError(f"{path}: partition files {missing} listed in {MANIFEST} are missing")
    return files


def iter_partitions(path: str | Path) -> Iterator[pd.DataFrame]:
    """Each partition's rows, one frame at a time (the streaming read)."""
    for file in partition_files(path):
        yield pd.read_parquet(file)


def sort_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` stably sorted by :data:`ROW_ORDER` (the single-frame build's order)."""
    return frame.sort_values(list(ROW_ORDER), kind="stable").reset_index(drop=True)


def read_partitioned(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The whole set and its marks in the single-frame build's order (for the harness)."""
    frames = list(iter_partitions(path))
    frame = sort_rows(pd.concat(frames, ignore_index=True))
    marks_files = [f.parent / MARKS_DIR / f.name for f in partition_files(path)]
    marks = pd.concat([pd.read_parquet(f) for f in marks_files], ignore_index=True)
    return frame, sort_marks(marks, frame)


def sort_marks(marks: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """Marks ordered like the simulator writes them: by the opportunity's first row, then day."""
    first = pd.Series(np.arange(len(frame)), index=frame["opportunity_id"].to_numpy())
    first = first[~first.index.duplicated()]
    rank = first.reindex(marks["opportunity_id"].to_numpy()).to_numpy()
    order = np.lexsort((marks["day"].to_numpy(), rank))
    return marks.iloc[order][list(MARK_COLUMNS)].reset_index(drop=True)


def build_via_partitions(
    market: MarketData,
    config: TrainingSetConfig,
    out_dir: str | Path,
    *,
    mapper: Mapper = map,
    progress: Progress | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`build_partitioned` into ``out_dir``, read back as one frame and its marks: the
    drop-in for ``build_training_set(..., marks=True)`` when the stages run on a cluster."""
    build_partitioned(market, config, out_dir, mapper=mapper, progress=progress)
    return read_partitioned(out_dir)
