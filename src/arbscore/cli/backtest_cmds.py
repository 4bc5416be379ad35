"""``arbscore backtest``: judge a shipped bundle on data it never saw (``pipeline/backtest.py``).

Thin command: parse the window, read and label the data at the bundle's terms, book the
bundle's decisions beside the baselines, write ``OUT/metrics.json`` and ``OUT/report/``, and
print the pooled table, the comparison with the best rule and what was dropped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from arbscore.cli.errors import user_errors
from arbscore.cli.summary_tables import dropped_line, pooled_table, vs_rule_table

console = Console()


def backtest_cmd(
    bundle: Annotated[Path, typer.Option("--bundle", help="the bundle directory to judge")],
    out: Annotated[Path, typer.Option("--out", "-o", help="directory to write")],
    data: Annotated[
        str,
        typer.Option(
            help="embedded (the shared data; $ARBSCORE_SHARED_DATA honoured), synthetic, or a "
            "labelled training-data file"
        ),
    ] = "embedded",
    start: Annotated[
        str | None, typer.Option(help="first entry booked (date, UTC; default: the data's)")
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(help="last entry booked (a date includes its day); later data is still read"),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(help="JSON/TOML config: its embedded / synthetic sections shape the market"),
    ] = None,
) -> None:
    """Book a shipped bundle's decisions on any data with the same book, baselines and
    intervals as `evaluate`; the bundle's strategy is named `bundle`."""
    from arbscore.cli.run_cmds import load_stage_configs
    from arbscore.export.manifest import read_manifest
    from arbscore.pipeline.backtest import (
        Window,
        backtest_bundle,
        load_labelled,
        write_backtest,
    )
    from arbscore.report import build_report

    window = Window.parse(start, end)
    manifest = read_manifest(bundle)
    stages = load_stage_configs(config) if config else {}
    with console.status("reading and labelling the data at the bundle's terms"):
        frame, marks, dropped, summary = load_labelled(
            data,
            manifest,
            window,
            embedded=stages.get("embedded"),
            synthetic=stages.get("synthetic"),
        )
    line = dropped_line(None if dropped is None else dropped.to_dict())
    if line:
        console.print(f"[yellow]{line}[/]", soft_wrap=True)
    with console.status("booking the bundle and the baselines"):
        result = backtest_bundle(bundle, frame, marks, window, dropped=dropped, data=summary)
        write_backtest(out, result)
        metrics = result.metrics
        html, _ = build_report(out)
    console.print(pooled_table(metrics))
    console.print(vs_rule_table(metrics))
    console.print(f"metrics: {out / 'metrics.json'}  report: {html}", soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("backtest")(user_errors(backtest_cmd))
