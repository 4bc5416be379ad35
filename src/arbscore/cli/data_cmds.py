"""CLI verbs of the data area: backfill, live, import, data status/export/load.

Thin wrappers: parse flags into the collectors' frozen configs, open the store, show rich
progress, print a summary. ``--api-base`` (or ``ARBSCORE_CCXT_URL_OVERRIDE``) points ccxt at
another host, e.g. the offline replay server in ``tests/support/replay_exchange.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from arbscore.cli.console import CliConsole
from arbscore.cli.errors import err_console, user_errors
from arbscore.errors import UserInputError

console = CliConsole()

DB_HELP = (
    "DuckDB file or postgresql:// URL (default: $ARBSCORE_DB or ./arbscore_data/market.duckdb)"
)
API_HELP = "Base URL replacing https:// in ccxt's API URLs (tests: the replay server)"
# typer reads these at import; module-level so the defaults are not calls (ruff B008)
_PATHS_ARG = typer.Argument(..., help="CSV or Parquet files")
_EXPORT_ARG = typer.Argument(..., help="Parquet file to write")
_LOAD_ARG = typer.Argument(..., help="Parquet file written by `data export`")
# options several commands share, written once
DbOpt = Annotated[str | None, typer.Option(help=DB_HELP)]
ApiBaseOpt = Annotated[str | None, typer.Option("--api-base", help=API_HELP)]
TableArg = Annotated[
    str,
    typer.Argument(help="funding_events, klines, live_snapshots, premium_index_klines, ingest_log"),
]


def _symbols(text: str) -> tuple[str, ...]:
    return tuple(s.strip().upper() for s in text.split(",") if s.strip())


def _timestamp(text: str, flag: str):
    import pandas as pd

    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{flag}: {text!r} is not a date such as 2025-01-01") from exc
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _names(values: list[str] | None, default: str = "") -> tuple[str, ...]:
    """A list option given repeated and/or comma-separated, lowercased, in order, once each."""
    items = [v for value in (values or [default]) for v in value.split(",")]
    return tuple(dict.fromkeys(v.strip().lower() for v in items if v.strip()))


_BACKFILL_EXCHANGE = typer.Option(
    ..., help="binance, bybit, okx, hyperliquid (repeat or comma-separate)"
)
_LIVE_EXCHANGE = typer.Option(["binance,bybit,okx"], help="exchanges (repeat or comma-separate)")


def backfill(
    exchange: list[str] = _BACKFILL_EXCHANGE,
    symbols: str = typer.Option(
        ..., help="comma-separated canonical symbols, e.g. BTCUSDT,ETHUSDT"
    ),
    start: str = typer.Option(..., help="first day (UTC), e.g. 2025-01-01"),
    end: str = typer.Option(..., help="end (exclusive, UTC), e.g. 2025-02-01"),
    interval: str = typer.Option("5m", help="kline interval"),
    markets: str = typer.Option("perp,spot", help="kline markets to fetch"),
    db: DbOpt = None,
    api_base: ApiBaseOpt = None,
    max_retries: int = typer.Option(5, help="retries per request on 429/5xx/timeouts"),
) -> None:
    """Fetch funding history and perp + spot klines through ccxt into the market store."""
    from rich.progress import BarColumn, TextColumn

    from arbscore.cli.progress_views import progress_bar
    from arbscore.data_tools.collect.backfill import BackfillConfig
    from arbscore.data_tools.collect.backfill import backfill as run_backfill
    from arbscore.data_tools.collect.exchange import RetryPolicy, make_exchange
    from arbscore.data_tools.store import open_store

    exchanges = _names(exchange)
    if not exchanges:
        raise UserInputError("--exchange: no exchange named")
    configs = [
        BackfillConfig(
            exchange=name,
            symbols=_symbols(symbols),
            start=_timestamp(start, "--start"),
            end=_timestamp(end, "--end"),
            interval=interval,
            markets=tuple(m.strip() for m in markets.split(",") if m.strip()),
            retry=RetryPolicy(max_retries=max_retries),
        )
        for name in exchanges
    ]
    clients = {c.exchange: make_exchange(c.exchange, api_base) for c in configs}
    tasks: dict[str, int] = {}
    results = []
    with (
        open_store(db) as store,
        progress_bar(
            console,
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
        ) as bar,
    ):
        for config in configs:

            def progress(
                message: str,
                completed: int | None = None,
                total: int | None = None,
                _venue: str = config.exchange,
            ) -> None:
                key = f"{_venue} {message}"
                if key not in tasks:
                    tasks[key] = bar.add_task(key, total=total)
                bar.update(tasks[key], completed=completed, total=total)

            try:
                got = run_backfill(store, clients[config.exchange], config, progress=progress)
            except Exception as exc:
                _exchange_failure(exc)
            results += [(config.exchange, r) for r in got]
        location = store.location
    table = Table(title=f"backfill {', '.join(exchanges)} -> {location}")
    for column in ("venue", "symbol", "dataset", "market", "rows", "requests", "resumed from"):
        table.add_column(column)
    for venue, r in results:
        table.add_row(
            venue,
            r.symbol,
            r.dataset,
            r.market,
            str(r.rows),
            str(r.requests),
            f"{r.resumed_from:%Y-%m-%d %H:%M}" if r.resumed_from is not None else "-",
        )
    console.print(table)


def _exchange_failure(exc: Exception) -> None:
    """ccxt errors that survived the retries: say so (exit 1); what was stored stays stored."""
    import ccxt

    from arbscore.cli.errors import err_console

    if not isinstance(exc, ccxt.BaseError):
        raise exc
    err_console.print(f"[bold red]exchange error:[/] {type(exc).__name__}: {str(exc)[:300]}")
    err_console.print("pages stored so far are kept; run the same command again to resume")
    raise typer.Exit(code=1) from exc


def live(
    exchange: list[str] = _LIVE_EXCHANGE,
    symbols: str = typer.Option("BTCUSDT,ETHUSDT", help="comma-separated canonical symbols"),
    interval: str = typer.Option("5m", help="snapshot interval"),
    depth_band: float = typer.Option(0.5, help="order-book depth band, +/- percent of mid"),
    once: bool = typer.Option(False, "--once", help="take one snapshot and exit"),
    rounds: int = typer.Option(None, help="stop after this many snapshots"),
    db: DbOpt = None,
    api_base: ApiBaseOpt = None,
) -> None:
    """Every interval, store funding/premium index, tickers and order-book top as live rows."""
    from rich.markup import escape

    from arbscore.data_tools.collect.exchange import make_exchange
    from arbscore.data_tools.collect.live import LiveConfig, run_live
    from arbscore.data_tools.store import open_store

    config = LiveConfig(
        exchanges=_names(exchange),
        symbols=_symbols(symbols),
        interval=interval,
        depth_band_pct=depth_band,
    )
    clients = {name: make_exchange(name, api_base) for name in config.exchanges}

    def report(result) -> None:
        line = f"{result.snapshot_time:%Y-%m-%d %H:%M:%S} UTC: {result.rows} rows"
        console.print(
            line + "".join(f"  [red]{e} failed: {escape(m)}[/]" for e, m in result.errors.items()),
            soft_wrap=True,
        )

    taken = []
    with open_store(db) as store:
        console.print(f"live snapshots every {interval} -> {store.location} (Ctrl-C stops)")
        try:
            taken = run_live(
                store, clients, config, max_rounds=1 if once else rounds, on_round=report
            )
        except KeyboardInterrupt:
            console.print("stopped")
    _live_exit(taken, config)


def _live_exit(rounds: list, config: Any) -> None:
    """A round in which every exchange failed exits 1; one in which no exchange lists any of
    the markets asked for (nothing stored, nothing failed) is bad input, exit 2."""
    for r in rounds:
        when = f"{r.snapshot_time:%Y-%m-%d %H:%M} UTC"
        if r.rows == 0 and r.errors and len(r.errors) == len(config.exchanges):
            err_console.print(
                f"[bold red]error:[/] every exchange failed in the round at {when}; nothing "
                "stored (see the lines above)",
                soft_wrap=True,
            )
            raise typer.Exit(code=1)
        if r.rows == 0 and not r.errors:
            raise UserInputError(
                f"--symbols: none of {list(config.symbols)} ({', '.join(config.markets)}) is "
                f"listed on {', '.join(config.exchanges)}; nothing stored at {when}"
            )


def import_cmd(
    paths: list[Path] = _PATHS_ARG,
    exchange: str = typer.Option(None, help="exchange, for files that do not say (Binance bulk)"),
    symbol: str = typer.Option(None, help="symbol, when the file name does not carry it"),
    market: str = typer.Option(None, help="spot or perp, when the path does not say"),
    interval: str = typer.Option(None, help="kline interval, when the file name does not say"),
    db: DbOpt = None,
) -> None:
    """Import funding events and klines (own layout or the exchanges' bulk CSVs), validated."""
    from arbscore.data_tools.collect.importer import ImportOptions, import_files
    from arbscore.data_tools.store import open_store

    options = ImportOptions(
        exchange=exchange,
        symbol=symbol.upper() if symbol else None,
        market=market,
        interval=interval,
    )
    with open_store(db) as store:
        results = import_files(store, list(paths), options)
    empty = [str(r.path) for r in results if r.rows == 0]
    if len(empty) == len(results):  # every file was a header without rows
        raise UserInputError(f"stored nothing: {', '.join(empty)} has a header but no data rows")
    table = Table(title="imported")
    for column in ("file", "layout", "table", "rows"):
        table.add_column(column)
    for r in results:
        table.add_row(str(r.path), r.layout, r.table, str(r.rows))
    console.print(table)
    for name in empty:
        err_console.print(
            f"[bold yellow]warning:[/] {name} has a header but no data rows: stored nothing from it"
        )


data_app = typer.Typer(
    help="Inspect and move the market store.", no_args_is_help=True, rich_markup_mode=None
)


@data_app.command("status")
@user_errors
def status(db: DbOpt = None) -> None:
    """Ranges, row counts and gaps per exchange, symbol and market."""
    from arbscore.data_tools.store import open_store

    with open_store(db, must_exist=True) as store:
        frame = store.status()
        location = store.location
    if frame.empty:
        console.print(f"market store {location} is empty")
    else:
        console.print(status_table(frame, location))


def status_table(frame: Any, location: str) -> Table:
    """``data status`` as a table that fits 80 columns: one ``venue symbol market`` column,
    times to the minute only where a series does not start or end at midnight."""
    table = Table(
        title=f"market store {location}",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    for column, justify in (
        ("data", "left"),
        ("series", "left"),
        ("every", "left"),
        ("first", "left"),
        ("last", "left"),
        ("rows", "right"),
        ("gaps", "right"),
    ):
        table.add_column(column, justify=justify, no_wrap=column != "series")
    for row in frame.itertuples(index=False):
        gaps = f"[red]{row.gaps}[/]" if row.gaps else "0"
        table.add_row(
            str(row.dataset).replace("_klines", "").replace("_", " "),
            f"{row.exchange} {row.symbol} {row.market}",
            str(row.interval),
            _when(row.first),
            _when(row.last),
            f"{int(row.rows):,}",
            gaps,
        )
    return table


def _when(t: Any) -> str:
    return f"{t:%Y-%m-%d}" if (t.hour, t.minute) == (0, 0) else f"{t:%Y-%m-%d %H:%M}"


@data_app.command("export")
@user_errors
def export(
    table: TableArg,
    path: Path = _EXPORT_ARG,
    db: DbOpt = None,
) -> None:
    """Write one store table to a Parquet file."""
    from arbscore.data_tools.store import open_store

    with open_store(db, must_exist=True) as store:
        rows = store.export_parquet(table, path)
    console.print(f"{rows} rows -> {path}")


@data_app.command("load")
@user_errors
def load(
    table: TableArg,
    path: Path = _LOAD_ARG,
    db: DbOpt = None,
) -> None:
    """Upsert a Parquet file written by `arbscore data export` into the store."""
    from arbscore.data_tools.store import open_store

    with open_store(db) as store:
        rows = store.import_parquet(table, path)
    console.print(f"{rows} rows <- {path}")


def register(app: typer.Typer) -> None:
    """Add this area's commands to app."""
    app.command("backfill")(user_errors(backfill))
    app.command("live")(user_errors(live))
    app.command("import")(user_errors(import_cmd))
    app.add_typer(data_app, name="data")
