"""``arbscore track outcomes|accuracy``: realised outcomes of tracked predictions, and the
heads' accuracy over time. ``accuracy`` reads the server's snapshot while ``arbscore serve
--ops-db`` holds a DuckDB store (``ops.snapshot``)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer

from arbscore.cli.errors import err_console, user_errors

DB_HELP = "store: DuckDB path or postgresql:// URL (default $ARBSCORE_DB)"
DbOpt = Annotated[str | None, typer.Option(help=DB_HELP)]

#: accuracy_over_time's columns -> the table's headers (units named; never cut: they fold)
ACCURACY_HEADERS = {
    "period": "period (UTC)",
    "predictions": "tracked",
    "realised": "with outcome",
    "profit_mae": "profit MAE (pp)",
    "success_brier": "success Brier",
    "success_accuracy": "success accuracy",
    "duration_mae_hours": "optimal hold MAE (h)",
}
NO_VALUE = "–"  # a period without outcomes has no error to show


def cell(value: Any) -> str:
    """One table cell: numbers to 4 decimals, a missing or NaN value as a dash."""
    if value is None:
        return NO_VALUE
    if isinstance(value, float):
        return f"{value:.4f}" if math.isfinite(value) else NO_VALUE
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def accuracy_tables(acc: Any, freq: str) -> list[Any]:
    """``accuracy_over_time`` as one rich table per model version (the version in its title)
    whose headers are never cut: a header's words wrap but none is split (each column at least
    its longest word wide), and a daily period shows its date only."""
    from rich import box
    from rich.table import Table

    periods = acc["period"]
    daily = bool(((periods.dt.hour == 0) & (periods.dt.minute == 0)).all())
    tables = []
    for version, rows in acc.groupby("model_version", sort=False):
        shown = rows.drop(columns="model_version")
        # no vertical rules (as `data status`): the columns fit 80 with every header word whole
        table = Table(
            title=f"accuracy over time (per {freq}) of {version}",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
            collapse_padding=True,
        )
        for col in shown.columns:
            header = ACCURACY_HEADERS.get(col, col)
            widest = 10 if col == "period" else max(len(word) for word in header.split())
            justify = "left" if col == "period" else "right"
            table.add_column(header, justify=justify, min_width=widest, overflow="fold")
        for row in shown.itertuples(index=False):
            values = [cell(v) for v in row]
            table.add_row(values[0][:10] if daily else values[0], *values[1:])
        tables.append(table)
    return tables


def outcomes_cmd(
    db: DbOpt = None,
    bundle: Annotated[
        Path | None,
        typer.Option(help="value outcomes at this bundle's fees and hold grid (its manifest)"),
    ] = None,
) -> None:
    """Attach realised outcomes to tracked predictions whose hold window has passed."""
    from arbscore.data_tools.costs import CostConfig, FeeSchedule
    from arbscore.data_tools.store import open_store
    from arbscore.export.manifest import BundleTerms, read_manifest
    from arbscore.ops.tracking import attach_outcomes

    costs, grid = CostConfig(), None
    if bundle is not None:
        manifest = read_manifest(bundle)
        fees = manifest.get("fees")
        if fees:
            costs = CostConfig(fees=FeeSchedule.from_dict(fees, "manifest.fees"))
        grid = BundleTerms.from_manifest(manifest).hold_grid_hours
    with open_store(db, must_exist=True) as store:
        n = attach_outcomes(store, costs, hold_grid=grid)
    terms = f"bundle {bundle}'s terms" if bundle else "the default fees and hold grid (--bundle)"
    typer.echo(f"{n} outcomes written, valued at {terms}")


def accuracy_cmd(
    db: DbOpt = None,
    freq: Annotated[str, typer.Option(help="period: 1h, 6h, 1D, 7D ...")] = "1D",
    csv: Annotated[Path | None, typer.Option(help="also write the table as CSV")] = None,
) -> None:
    """Accuracy over time per head from tracked predictions with outcomes."""
    from arbscore.cli.console import CliConsole
    from arbscore.ops.snapshot import open_for_reading
    from arbscore.ops.tracking import accuracy_over_time, tracked

    with open_for_reading(db) as reading:
        if reading.note:
            err_console.print(reading.note, soft_wrap=True, markup=False)
        acc = accuracy_over_time(tracked(reading.store), freq)
    console = CliConsole()
    if acc.empty:
        console.print("no tracked predictions in the store yet (serve with --ops-db tracks them)")
    else:
        for table in accuracy_tables(acc, freq):
            console.print(table)
        if not (acc["realised"] > 0).any():
            console.print(
                f"no outcomes yet: the errors show {NO_VALUE} until a prediction's hold window "
                "has passed in the live data and `arbscore track outcomes` (or the server) "
                "attached its outcome"
            )
    if csv is not None:
        acc.to_csv(csv, index=False)


def register(app: typer.Typer) -> None:
    """Add ``track outcomes`` and ``track accuracy``."""
    track = typer.Typer(
        help="prediction tracking: outcomes, accuracy", no_args_is_help=True, rich_markup_mode=None
    )
    track.command("outcomes")(user_errors(outcomes_cmd))
    track.command("accuracy")(user_errors(accuracy_cmd))
    app.add_typer(track, name="track")
