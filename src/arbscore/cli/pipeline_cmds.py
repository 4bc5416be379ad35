"""CLI verbs of the pipeline area: ``arbscore snapshots`` and ``arbscore simulate``.

Thin wrappers: pick the market (embedded default, synthetic generator, or the market store),
turn flags into the stages' frozen configs, show rich progress, write the file, print a summary.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, TaskProgressColumn, TextColumn
from rich.table import Table

from arbscore.cli.aliases import hidden_default, renamed
from arbscore.cli.console import CliConsole
from arbscore.cli.errors import user_errors
from arbscore.cli.progress_views import progress_bar
from arbscore.cli.scale_cmds import CLUSTER_HELP, cluster_context
from arbscore.errors import UserInputError
from arbscore.progress import Progress as ProgressFn
from arbscore.schema import FEES_FILE_NAME

DATA_CHOICES = ("embedded", "synthetic", "store")
DATA_HELP = (
    "embedded: real data under ../shared/data if present, else the synthetic market; "
    "synthetic: the generator; store: the market store (--db)"
)
DB_HELP = "DuckDB file or postgresql:// URL for --data store (default: $ARBSCORE_DB)"


def _symbols(text: str | None) -> tuple[str, ...] | None:
    if not text:
        return None
    return tuple(s.strip().upper() for s in text.split(",") if s.strip())


def load_market(
    data: str,
    *,
    db: str | None = None,
    symbols: str | None = None,
    start: str | None = None,
    end: str | None = None,
    days: float = 30.0,
    seed: int = 0,
    progress=None,
):
    """The MarketData a pipeline command works on (``--data`` and its options)."""
    if data not in DATA_CHOICES:
        raise UserInputError(f"--data {data!r}: expected one of {list(DATA_CHOICES)}")
    wanted = _symbols(symbols)
    if data == "embedded":
        from arbscore.data_tools.sources.embedded import EmbeddedDataConfig, load_embedded_market

        kwargs = {"symbols": wanted} if wanted else {}
        kwargs.update({k: v for k, v in (("start", start), ("end", end)) if v})
        return load_embedded_market(EmbeddedDataConfig(**kwargs), progress=progress)
    if data == "synthetic":
        from arbscore.data_tools.sources.synthetic import (
            SyntheticMarketConfig,
            generate_synthetic_market,
        )

        kwargs = {"symbols": wanted} if wanted else {}
        if start:
            kwargs["start"] = start
        return generate_synthetic_market(SyntheticMarketConfig(days=days, seed=seed, **kwargs))
    from arbscore.data_tools.store import open_store

    with open_store(db, must_exist=True) as store:
        market = store.load_market(symbols=wanted, start=start, end=end)
    if market.klines.empty:
        raise UserInputError(f"--data store: the store at {db or 'default'} has no klines")
    return market


def _progress_bar(console: Console) -> tuple[Any, ProgressFn]:
    bar = progress_bar(
        console, TextColumn("{task.description:<14}"), BarColumn(), TaskProgressColumn()
    )
    tasks: dict[str, int] = {}

    def progress(stage: str, done: int | None = None, total: int | None = None) -> None:
        size = max(total or 0, 1)
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=size)
        if done is not None:
            bar.update(tasks[stage], completed=done, total=size)

    return bar, progress


@dataclass(frozen=True)
class MarketSource:
    """``--data`` and its options as every pipeline command takes them (see ``load_market``)."""

    data: str
    db: str | None
    symbols: str | None
    start: str | None
    end: str | None
    days: float
    seed: int


def _load_and_build(console: Console, source: MarketSource, build: Callable):
    """``load_market`` then ``build(market, progress)`` under one progress bar: (market, frame)."""
    bar, progress = _progress_bar(console)
    with bar:
        market = load_market(
            source.data,
            db=source.db,
            symbols=source.symbols,
            start=source.start,
            end=source.end,
            days=source.days,
            seed=source.seed,
            progress=progress,
        )
        frame = build(market, progress)
    return market, frame


_DATA = typer.Option("embedded", "--data", help=DATA_HELP)
_DB = typer.Option(None, "--db", help=DB_HELP)
_SYMBOLS = typer.Option(None, help="comma-separated symbols, e.g. BTCUSDT,ETHUSDT")
_START = typer.Option(None, help="first day (UTC), e.g. 2025-07-01")
_END = typer.Option(None, help="end (exclusive, UTC)")
_DAYS = typer.Option(30.0, help="--data synthetic: days to generate")
_SIM_DAYS = typer.Option(
    None,
    help="--data synthetic: days to generate [default: enough for the hold grid: warm-up + "
    "the longest hold + 14 days of entries, 47 for the default grid]",
)
_SEED = typer.Option(0, help="--data synthetic: random seed")
_SNAP_OUT = typer.Option(None, "--out", "-o", help="Parquet file [default: snapshots.parquet]")
_SIM_OUT = typer.Option(
    None, "--out", "-o", help="training_data.parquet or .csv [default: training_data.parquet]"
)
_OLD_OUTPUT = hidden_default("--output")


def snapshots(
    out: Path | None = _SNAP_OUT,
    old_output: Path | None = _OLD_OUTPUT,
    data: str = _DATA,
    db: str = _DB,
    symbols: str = _SYMBOLS,
    start: str = _START,
    end: str = _END,
    days: float = _DAYS,
    seed: int = _SEED,
    every_minutes: int = typer.Option(5, help="snapshot step (a multiple of 5 minutes)"),
    warmup_hours: float = typer.Option(72.0, help="history before the first snapshot"),
    to_store: bool = typer.Option(False, help="also upsert them into the store (--db)"),
) -> None:
    """Build 5-minute as-of snapshots of every market (no look-ahead) into Parquet / the store."""
    from arbscore.data_tools.snapshots import SnapshotConfig, build_snapshots, snapshot_table

    output = renamed(out, old_output, "--out", "--output", Path("snapshots.parquet"))
    if output.suffix.lower() != ".parquet":
        raise UserInputError(f"--out {output.name}: expected a .parquet file")
    config = SnapshotConfig(every_minutes=every_minutes, warmup_hours=warmup_hours)
    console = CliConsole()
    began = time.perf_counter()
    source = MarketSource(data, db, symbols, start, end, days, seed)
    market, frame = _load_and_build(
        console, source, lambda market, progress: build_snapshots(market, config, progress)
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(output, index=False)
    if to_store:
        from arbscore.data_tools.store import open_store

        with open_store(db) as store:
            spec = snapshot_table()
            store.register_table(spec)
            store.upsert(spec, frame)
            console.print(f"upserted {len(frame):,} rows into {spec.name} at {store.location}")
    table = Table(title=f"snapshots from {market.source}")
    for column in ("rows", "markets", "first", "last", "seconds", "file"):
        table.add_column(column)
    n_markets = frame[["exchange", "symbol", "market"]].drop_duplicates().shape[0]
    first = f"{frame['timestamp'].min():%Y-%m-%d %H:%M}" if len(frame) else "-"
    last = f"{frame['timestamp'].max():%Y-%m-%d %H:%M}" if len(frame) else "-"
    table.add_row(
        f"{len(frame):,}",
        str(n_markets),
        first,
        last,
        f"{time.perf_counter() - began:.1f}",
        str(output),
    )
    console.print(table)


def simulate(
    out: Path | None = _SIM_OUT,
    old_output: Path | None = _OLD_OUTPUT,
    data: str = _DATA,
    db: str = _DB,
    symbols: str = _SYMBOLS,
    start: str = _START,
    end: str = _END,
    days: float | None = _SIM_DAYS,
    seed: int = _SEED,
    entry_stride_minutes: int = typer.Option(60, help="minutes between entries"),
    position_size_usd: float = typer.Option(10_000.0, help="notional of each leg, USD"),
    entry_order: str = typer.Option("taker", help="taker or maker fees on the two entry fills"),
    exit_order: str = typer.Option("taker", help="taker or maker fees on the two exit fills"),
    bnb_discount: bool = typer.Option(False, help="Binance fees paid in BNB (10 % off perps)"),
    spot_perp_min_edge: float = typer.Option(
        0.0, help="spot_perp: minimum funding edge per 8 h, percent"
    ),
    perp_perp_min_edge: float = typer.Option(
        0.0005, help="perp_perp: minimum funding edge per 8 h, percent"
    ),
    strategies: str = typer.Option("spot_perp,perp_perp", help="comma-separated strategies"),
    full_horizon: bool = typer.Option(
        True, help="keep only entries whose whole path (the largest hold) fits in the data"
    ),
    holds: str = typer.Option(
        None,
        help="comma-separated hold grid in hours (default 1,4,...,720); a short market "
        "needs a shorter grid",
    ),
    cluster: str = typer.Option(None, "--cluster", help=CLUSTER_HELP),
) -> None:
    """Simulate every opportunity x hold (1..720 h) into the labelled training set; the daily
    marks go beside it (training_marks.parquet). With --cluster the set is built one task per
    symbol partition (kept in OUT.parts/, see docs/scaling.md)."""
    from arbscore.data_tools.costs import CostConfig, FeeSchedule
    from arbscore.data_tools.opportunities import OpportunityConfig
    from arbscore.data_tools.snapshots import SnapshotConfig
    from arbscore.data_tools.training_set import (
        TrainingSetConfig,
        build_training_set,
        write_training_set,
    )

    output = renamed(out, old_output, "--out", "--output", Path("training_data.parquet"))
    if not output.name.lower().endswith((".parquet", ".csv", ".csv.gz")):
        raise UserInputError(f"--out {output.name}: expected a .parquet or .csv file name")
    step = 5 if entry_stride_minutes % 60 else 60
    config = TrainingSetConfig(
        snapshots=SnapshotConfig(every_minutes=step),
        opportunities=OpportunityConfig(
            strategies=tuple(s.strip() for s in strategies.split(",") if s.strip()),
            entry_stride_minutes=entry_stride_minutes,
            spot_perp_min_fund_profit_8h_pct=spot_perp_min_edge,
            perp_perp_min_fund_profit_8h_pct=perp_perp_min_edge,
        ),
        simulation=_simulation_config(holds, full_horizon),
        costs=CostConfig(
            position_size_usd=position_size_usd,
            fees=FeeSchedule(
                entry_order=entry_order, exit_order=exit_order, bnb_discount=bnb_discount
            ),
        ),
    )
    console = CliConsole()
    began = time.perf_counter()
    if days is None:  # a generated market long enough for the grid's whole paths
        from arbscore.data_tools.training_set import market_days_for

        days = market_days_for(config)
    source = MarketSource(data, db, symbols, start, end, days, seed)
    with cluster_context(cluster) as where:
        if where.spec is None:
            build = lambda market, progress: build_training_set(  # noqa: E731
                market, config, progress, marks=True
            )
        else:
            from arbscore.data_tools.partitioned import build_via_partitions

            parts = output.parent / f"{output.name}.parts"
            build = lambda market, progress: build_via_partitions(  # noqa: E731
                market, config, parts, mapper=where.map, progress=progress
            )
        market, (frame, marks) = _load_and_build(console, source, build)
    built = time.perf_counter() - began
    if frame.empty:
        raise UserInputError(
            "no (opportunity, hold) fits in the data: use a longer window or lower the edges"
        )
    write_training_set(frame, output, marks=marks)
    # the fee schedule the labels used, beside the set as `run` keeps it in its run directory
    fees_file = output.parent / FEES_FILE_NAME
    fees_file.write_text(json.dumps(config.costs.fees.to_dict(), indent=1) + "\n")
    table = Table(title=f"training set from {market.source}")
    for column in ("strategy", "opportunities", "rows", "profitable %", "mean profit %"):
        table.add_column(column, justify="right")
    for strategy, part in frame.groupby("strategy"):
        table.add_row(
            strategy,
            f"{part['opportunity_id'].nunique():,}",
            f"{len(part):,}",
            f"{100 * part['was_profitable'].mean():.1f}",
            f"{part['actual_profit_pct'].mean():.3f}",
        )
    console.print(table)
    label = "SYNTHETIC data" if market.synthetic else "real data"
    console.print(f"{len(frame):,} rows ({label}) built in {built:.1f} s -> {output}")
    console.print(f"fee schedule of the labels -> {fees_file}")


def _simulation_config(holds: str | None, full_horizon: bool):
    """``--holds`` (hours, comma-separated) -> SimulationConfig; its horizon the largest hold."""
    from arbscore.data_tools.simulate import SimulationConfig

    if not holds:
        return SimulationConfig(full_horizon_only=full_horizon)
    try:
        grid = tuple(sorted(int(h) for h in holds.split(",") if h.strip()))
    except ValueError as err:
        raise UserInputError(f"--holds {holds!r}: expected whole hours, e.g. 1,8,24") from err
    if not grid:
        raise UserInputError("--holds is empty; expected whole hours, e.g. 1,8,24")
    try:
        return SimulationConfig(
            holds_hours=grid, horizon_hours=max(grid), full_horizon_only=full_horizon
        )
    except ValueError as err:
        raise UserInputError(f"--holds {holds!r}: {err}") from err


def register(app: typer.Typer) -> None:
    """Add this area's commands to app."""
    app.command("snapshots")(user_errors(snapshots))
    app.command("simulate")(user_errors(simulate))
