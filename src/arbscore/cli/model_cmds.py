"""CLI verbs of this area: ``arbscore train`` and ``arbscore evaluate`` (export: serve_cmds).

Thin commands: resolve flags into an ``EvaluationConfig`` once, call the library, show rich
progress and a summary table. Bad input (unknown family, missing columns) exits 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn
from rich.table import Table

from arbscore.cli.aliases import hidden, renamed
from arbscore.cli.console import CliConsole
from arbscore.cli.errors import err_console, user_errors
from arbscore.cli.mlflow_opt import MlflowOpt, check_mlflow, log_to_mlflow
from arbscore.cli.progress_views import progress_bar
from arbscore.cli.scale_cmds import ClusterOpt, cluster_context
from arbscore.cli.summary_tables import summary_tables, verdict_lines
from arbscore.cli.window_opts import EndOpt, StartOpt, TestStartOpt
from arbscore.errors import UserInputError
from arbscore.progress import Progress as ProgressFn

console = CliConsole()

DataOpt = Annotated[
    Path, typer.Option("--data", help="training set: our simulate output or the guide's CSV")
]
OutOpt = Annotated[Path, typer.Option("--out", help="run directory to write")]
FamiliesOpt = Annotated[
    list[str] | None,
    typer.Option("--family", "-f", help="families (repeat or comma-separate); default: all"),
]
OldFamiliesOpt = Annotated[list[str] | None, hidden("--families")]
FoldsOpt = Annotated[int, typer.Option("--folds", help="walk-forward folds")]
SpanOpt = Annotated[
    float | None, typer.Option("--test-span-hours", help="test window per fold (default: auto)")
]
TopKOpt = Annotated[int, typer.Option("--top-k", help="backtest: entries per snapshot")]


def _progress():
    return progress_bar(
        console, TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()
    )


def _ticker(progress, title: str) -> ProgressFn:
    task = progress.add_task(title, total=None)

    def tick(description: str, done: int | None = None, total: int | None = None) -> None:
        progress.update(task, description=description, completed=done, total=total)

    return tick


def _device_text(device: dict | None) -> str:
    """'cpu, openblas (preloaded)' for a family that reports where it ran; 'cpu' otherwise."""
    if not device:
        return "cpu"
    return ", ".join(str(device[k]) for k in ("device", "blas") if device.get(k))


def _config(
    folds: int | None,
    test_span_hours: float | None,
    top_k: int | None,
    test_start: str | None = None,
    config: Path | None = None,
):
    """The evaluation config: defaults < the ``--config`` file's [evaluation] < given flags."""
    import dataclasses

    from arbscore.cli.run_cmds import load_stage_configs
    from arbscore.evaluation import EvaluationConfig

    base = load_stage_configs(config).get("evaluation") or EvaluationConfig()
    flags = {
        "n_folds": folds,
        "test_span_hours": test_span_hours,
        "top_k": top_k,
        "test_start": test_start,
    }
    return dataclasses.replace(base, **{k: v for k, v in flags.items() if v is not None})


def _window(frame, start: str | None, end: str | None):
    """The rows entered in ``[start, end)`` (UTC dates; a date-only end is exclusive)."""
    import pandas as pd

    if start is None and end is None:
        return frame
    ts = pd.to_datetime(frame["timestamp"], utc=True)
    keep = pd.Series(True, index=frame.index)
    for text, flag, cmp in ((start, "--start", ts.ge), (end, "--end", ts.lt)):
        if text is not None:
            try:
                when = pd.Timestamp(text)
            except ValueError as exc:
                raise UserInputError(
                    f"{flag} {text!r}: expected a date such as 2025-10-01"
                ) from exc
            keep &= cmp(when.tz_localize("UTC") if when.tzinfo is None else when)
    if not keep.any():
        raise UserInputError(f"no rows entered between --start {start} and --end {end}")
    return frame[keep.to_numpy()].reset_index(drop=True)


def _families(values: list[str] | None) -> tuple[str, ...]:
    from arbscore.registry import get_family, parse_family_list

    names = parse_family_list(values)
    for name in names:  # fail before any work when a library is missing
        try:
            get_family(name)
        except ImportError as exc:
            raise UserInputError(f"--family: {exc}") from exc
    return names


def load_data(data: Path):
    """The training set at ``data``, its notes (values kept, rows dropped) printed as warnings;
    refused values raise ``UserInputError`` (exit 2) before any work."""
    from arbscore.data_tools.dataset_files import load_training_data

    notes: list[str] = []
    frame = load_training_data(data, notes=notes)
    for note in notes:
        err_console.print(f"[bold yellow]warning:[/] {data}: {note}")
    return frame


def _run_evaluate(frame, data: Path, out: Path, names, cfg, cluster: str | None = None) -> dict:
    from arbscore.data_tools.training_set import load_marks, marks_path
    from arbscore.evaluation import evaluate

    console.print(f"[bold]{len(frame):,}[/] rows from {data}")
    marks = load_marks(data)
    if marks is not None:
        console.print(f"daily marks from {marks_path(data)} ({len(marks):,} rows)")
    with cluster_context(cluster) as where, _progress() as progress:
        result = evaluate(
            frame,
            names,
            cfg,
            progress=_ticker(progress, "walk-forward"),
            marks=marks,
            mapper=where.map,
        )
    result.write(out)
    for table in summary_tables(result.metrics):
        console.print(table)
    for line in verdict_lines(result.metrics):
        console.print(line, soft_wrap=True, markup=False)
    rules = result.metrics.get("winner_metrics", {})
    by = ", ".join(f"{h} {(r or {}).get('name')}" for h, r in rules.items())
    winners = ", ".join(f"{h} {w}" for h, w in result.metrics["winner"].items())
    console.print(
        f"winner per head (*): {winners}; by {by} on the test folds (declared in "
        "metrics.json winner_metrics); near-ties go to the faster predict"
    )
    console.print(f"wrote {out / 'metrics.json'} and {out / 'evaluation'}/")
    return result.metrics


def export_hook(run_dir: Path) -> Path | None:
    """Bundle the run's winners with ``arbscore.export.export_bundle`` (the export engineer's);
    returns the bundle directory, or None when the export stage is not installed."""
    try:
        from arbscore.export.bundle import ExportConfig, export_bundle
    except ImportError as exc:
        console.print(f"[yellow]export skipped:[/] {exc}")
        return None
    bundle = Path(run_dir) / "bundle"
    export_bundle(Path(run_dir), bundle, ExportConfig())
    return bundle


def register(app: typer.Typer) -> None:
    """Add ``train`` and ``evaluate``."""

    @app.command()
    @user_errors
    def evaluate(
        data: DataOpt,
        out: OutOpt,
        families: FamiliesOpt = None,
        old_families: OldFamiliesOpt = None,
        folds: Annotated[
            int | None, typer.Option("--folds", help="walk-forward folds (default 4)")
        ] = None,
        test_span_hours: SpanOpt = None,
        top_k: Annotated[
            int | None, typer.Option("--top-k", help="backtest: entries per snapshot (default 3)")
        ] = None,
        cluster: ClusterOpt = None,
        mlflow: MlflowOpt = None,
        test_start: TestStartOpt = None,
        start: StartOpt = None,
        end: EndOpt = None,
        config: Annotated[
            Path | None,
            typer.Option(help="TOML or JSON config; its [evaluation] section (flags win)"),
        ] = None,
    ) -> None:
        """Walk-forward evaluation of each family beside the baselines -> OUT/metrics.json
        (with --cluster: one task per (fold, family) on Dask)."""
        families = renamed(families, old_families, "--family", "--families")
        names = _families(families)
        cfg = _config(folds, test_span_hours, top_k, test_start, config)
        cluster_context(cluster)  # a malformed --cluster exits 2 before any work
        tracking = check_mlflow(mlflow)
        frame = _window(load_data(data), start, end)
        _run_evaluate(frame, data, out, names, cfg, cluster)
        log_to_mlflow(tracking, "log_evaluation", out, data, names)

    @app.command()
    @user_errors
    def train(
        data: DataOpt,
        out: OutOpt,
        families: FamiliesOpt = None,
        old_families: OldFamiliesOpt = None,
        with_evaluate: Annotated[
            bool, typer.Option("--evaluate/--no-evaluate", help="also run the evaluation")
        ] = False,
        export: Annotated[
            bool | None,
            typer.Option(
                "--export/--no-export",
                help="bundle the winners for `arbscore serve` (default: when they are known: "
                "one family, or --evaluate)",
            ),
        ] = None,
        folds: FoldsOpt = 4,
        test_span_hours: SpanOpt = None,
        top_k: TopKOpt = 3,
    ) -> None:
        """Fit each family on all rows -> OUT/models/<family>/ and OUT/models/feature_spec.json."""
        from arbscore.final_fit import train_final

        families = renamed(families, old_families, "--family", "--families")
        names = _families(families)
        cfg = _config(folds, test_span_hours, top_k)
        frame = load_data(data)
        if with_evaluate:
            _run_evaluate(frame, data, out, names, cfg)
        with _progress() as progress:
            result = train_final(frame, names, out, progress=_ticker(progress, "training"))
        table = Table(title=f"Final models ({result.rows:,} rows)")
        table.add_column("family")
        table.add_column("train s", justify="right")
        table.add_column("device")
        table.add_column("saved to")
        for name, seconds in result.train_seconds.items():
            table.add_row(
                name,
                f"{seconds:.2f}",
                _device_text(result.devices.get(name)),
                str(result.model_dirs[name]),
            )
        console.print(table)
        winners_known = (out / "metrics.json").exists() or len(names) == 1
        if export and not winners_known:
            raise UserInputError("--export needs the winners: add --evaluate")
        if export is None and not winners_known:
            console.print(
                "no bundle: several families and no evaluation to pick the winners "
                "(add --evaluate, or --family NAME)"
            )
        elif export is not False:
            try:
                bundle = export_hook(out)
            except (UserInputError, ValueError) as exc:
                if export:  # asked for: the error stands
                    raise
                console.print(f"no bundle: {exc}")  # the default: the models stand
                bundle = None
            if bundle:
                console.print(f"bundle written to {bundle}; serve it with:")
                console.print(f"  arbscore serve --bundle {bundle}", highlight=False)
