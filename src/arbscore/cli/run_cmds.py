"""``arbscore run`` (the whole pipeline, the README's first command) and ``arbscore benchmark``."""

from __future__ import annotations

import dataclasses
import importlib
import json
import shlex
import shutil
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, SpinnerColumn, TextColumn
from rich.table import Table

from arbscore.cli.aliases import hidden, renamed
from arbscore.cli.config_types import misfit
from arbscore.cli.console import CliConsole
from arbscore.cli.errors import user_errors
from arbscore.cli.mlflow_opt import MlflowOpt, check_mlflow, log_to_mlflow
from arbscore.cli.progress_views import progress_bar
from arbscore.cli.scale_cmds import ClusterOpt, cluster_context
from arbscore.cli.window_opts import EndOpt, StartOpt, TestStartOpt, apply_window
from arbscore.errors import UserInputError


def _console() -> Console:
    """A console made per command, so the terminal width (COLUMNS) is read when it runs."""
    return CliConsole()


#: sections of a --config file (also RunConfig fields) -> (module, config class)
CONFIG_SECTIONS: dict[str, tuple[str, str]] = {
    "embedded": ("arbscore.data_tools.sources.embedded", "EmbeddedDataConfig"),
    "synthetic": ("arbscore.data_tools.sources.synthetic", "SyntheticMarketConfig"),
    "training_set": ("arbscore.data_tools.training_set", "TrainingSetConfig"),
    "evaluation": ("arbscore.evaluation", "EvaluationConfig"),
    "export": ("arbscore.export.bundle", "ExportConfig"),
}


def _build_config(cls: type, values: dict, where: str) -> Any:
    """A frozen config dataclass from a TOML table / JSON object; unknown keys are an error."""
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise UserInputError(f"{where}: unknown keys {unknown}; known: {sorted(known)}")
    wrong = [f"{k} = {v!r} (expected {t})" for k, v in values.items() if (t := misfit(cls, k, v))]
    if wrong:
        raise UserInputError(f"{where}: wrong types: {'; '.join(wrong)}")
    # TOML and JSON have no tuples: lists become tuples (nested too)
    kwargs = {k: _tuples(v) if isinstance(v, list) else v for k, v in values.items()}
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise UserInputError(f"{where}: {exc}") from exc


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def family_config_class(name: str) -> type:
    """The config dataclass a family's ``__init__(config=...)`` takes (from its annotations)."""
    import typing

    from arbscore.registry import get_family

    cls = get_family(name)
    hint = typing.get_type_hints(cls.__init__).get("config")
    for candidate in (hint, *typing.get_args(hint)):
        if dataclasses.is_dataclass(candidate):
            return candidate
    raise UserInputError(f"--config [families.{name}]: {cls.__name__} takes no config dataclass")


def _family_configs(values: Any) -> tuple[tuple[str, Any], ...]:
    if not isinstance(values, dict):
        raise UserInputError("--config [families]: expected {family: {setting: value}}")
    out = []
    for name, settings in values.items():
        cls = family_config_class(name)
        out.append((name, _build_config(cls, settings, f"--config [families.{name}]")))
    return tuple(out)


CONFIG_SUFFIXES = (".toml", ".json")


def read_config_file(path: Path) -> dict:
    """A ``--config`` file as a dict, parsed by its suffix: ``.toml`` (stdlib ``tomllib``) or
    ``.json``. Any other suffix, a missing file, a parse error (with its line and column) or a
    top level that is not a table/object is a ``UserInputError`` (exit 2) naming the file."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in CONFIG_SUFFIXES:
        raise UserInputError(
            f"--config: {path} is neither .toml nor .json (the suffix picks the parser)"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise UserInputError(f"--config: no such file {path}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise UserInputError(f"--config: cannot read {path} ({exc})") from exc
    if suffix == ".toml":
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - Python 3.10 only
            import tomli as tomllib
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise UserInputError(f"--config: {path} is not valid TOML ({exc})") from exc
    else:
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UserInputError(f"--config: {path} is not valid JSON ({exc})") from exc
        if not isinstance(raw, dict):
            raise UserInputError(f"--config: {path} must hold a JSON object")
    return raw


def load_stage_configs(path: Path | None) -> dict[str, Any]:
    """``--config FILE`` (TOML or JSON, by suffix): optional sections named as in
    CONFIG_SECTIONS, plus ``families``: {family: {its config's fields}} (e.g. TOML
    ``[families.xgboost]`` / ``n_estimators = 200``, JSON {"xgboost": {"n_estimators": 200}})."""
    if path is None:
        return {}
    raw = read_config_file(path)
    unknown = sorted(set(raw) - set(CONFIG_SECTIONS) - {"families"})
    if unknown:
        raise UserInputError(
            f"--config: unknown sections {unknown}; known: {[*CONFIG_SECTIONS, 'families']}"
        )
    out = {}
    for section, values in raw.items():
        if section == "families":
            out["family_configs"] = _family_configs(values)
            continue
        module, name = CONFIG_SECTIONS[section]
        try:
            cls = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as exc:
            raise UserInputError(f"--config [{section}]: {module}.{name} is not available") from exc
        out[section] = _build_config(cls, values, f"--config [{section}]")
    return out


def _keep_config(config: Path | None, workdir: Path) -> Path | None:
    """Copy --config into the run directory so the recorded command still works later."""
    if config is None:
        return None
    kept = workdir / f"config{Path(config).suffix.lower()}"  # config.toml or config.json
    workdir.mkdir(parents=True, exist_ok=True)
    if not (kept.exists() and kept.resolve() == Path(config).resolve()):
        shutil.copyfile(config, kept)
    return kept


def _show(value: Any) -> str:
    from arbscore.report.document import fmt

    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return fmt(value) if is_number else str(value)


def parse_script_args(values: list[str] | None) -> dict[str, tuple[str, ...]]:
    """``--arg "train=--rows 100000"`` (repeatable) -> {"train": ("--rows", "100000")}."""
    out: dict[str, tuple[str, ...]] = {}
    for value in values or []:
        name, sep, rest = value.partition("=")
        if not sep or not name.strip():
            raise UserInputError(f"--arg {value!r}: expected NAME=ARGS, e.g. train=--rows 1000")
        out[name.strip()] = out.get(name.strip(), ()) + tuple(shlex.split(rest))
    return out


class _StageBars:
    """One rich progress row per stage, fed by the pipeline's StageEvents."""

    def __init__(self, progress: Any) -> None:
        self.progress = progress
        self.tasks: dict[str, int] = {}

    def __call__(self, event: Any) -> None:
        p = self.progress
        if not p.console.is_terminal and event.kind != "update":
            # a log file or CI shows no live bars: one line per stage start / end instead
            stamp = time.strftime("%H:%M:%S")
            what = {"start": "started", "done": f"done: {event.message}"}.get(
                event.kind, event.message
            )
            p.console.print(f"{stamp} {event.stage}: {what}", soft_wrap=True, highlight=False)
            return  # the updates: a LineProgress prints one line per step
        if event.stage not in self.tasks:
            self.tasks[event.stage] = p.add_task(event.stage, total=None, note="")
        task = self.tasks[event.stage]
        if event.kind == "reused":
            p.update(task, total=1, completed=1, note="[dim]reused (inputs unchanged)[/]")
        elif event.kind == "done":
            p.update(task, total=1, completed=1, note=f"[green]{event.message}[/]")
        elif event.kind == "update":
            note = event.message or p.tasks[task].fields.get("note", "")
            if event.total:
                p.update(task, total=event.total, completed=event.completed, note=note)
            else:
                p.update(task, note=note)


def _summary(result: Any, console: Console) -> None:
    """Stages, winners per head and the backtest beside the baselines, as rich tables."""
    from arbscore.cli.summary_tables import (
        pooled_table,
        verdict_lines,
        vs_rule_table,
        winners_table,
    )

    stages = Table(title="arbscore run")
    for col in ("stage", "status", "seconds", "result"):
        stages.add_column(col, justify="right" if col == "seconds" else "left")
    for s in result.stages:
        stages.add_row(s.stage, s.status, f"{s.seconds:.1f}", s.detail)
    console.print(stages)

    for table in (
        winners_table(result.metrics),
        pooled_table(result.metrics),
        vs_rule_table(result.metrics),
    ):
        console.print(table)
    for line in verdict_lines(result.metrics):
        console.print(line, soft_wrap=True, markup=False)


DEFAULT_OUT = Path("runs/default")
OutOpt = Annotated[
    Path | None, typer.Option("--out", "-o", help="Run directory (created if needed).")
]
OldWorkdirOpt = Annotated[Path | None, hidden("--workdir", "-w")]


def register(app: typer.Typer) -> None:
    """Add ``run`` and ``benchmark`` to the app."""

    @app.command("run")
    @user_errors
    def run_cmd(
        out: OutOpt = None,
        old_workdir: OldWorkdirOpt = None,
        data: Annotated[
            str,
            typer.Option(
                help="embedded (real data under ../shared/data if present, else synthetic), "
                "synthetic, or a training-data CSV/Parquet path."
            ),
        ] = "embedded",
        families: Annotated[
            list[str] | None,
            typer.Option("--family", "-f", help="Model families, repeated or comma-separated."),
        ] = None,
        old_families: Annotated[list[str] | None, hidden("--families")] = None,
        force: Annotated[
            bool, typer.Option(help="Re-run every stage, even finished ones.")
        ] = False,
        config: Annotated[
            Path | None,
            typer.Option(
                help="TOML or JSON file (by suffix) with stage configs: "
                + ", ".join([*CONFIG_SECTIONS, "families"])
            ),
        ] = None,
        cluster: ClusterOpt = None,
        mlflow: MlflowOpt = None,
        test_start: TestStartOpt = None,
        start: StartOpt = None,
        end: EndOpt = None,
    ) -> None:
        """Run everything: data, training set, evaluation, final models, bundle, report."""
        console = _console()
        from arbscore.pipeline import PipelineError, RunConfig, reproduce_command, run_pipeline
        from arbscore.registry import parse_family_list

        workdir = renamed(out, old_workdir, "--out", "--workdir", DEFAULT_OUT)
        families = renamed(families, old_families, "--family", "--families")
        stage_configs = apply_window(load_stage_configs(config), test_start, start, end)
        names = parse_family_list(families)
        # a config file may configure more families than this run uses
        stage_configs["family_configs"] = tuple(
            (n, c) for n, c in stage_configs.get("family_configs", ()) if n in names
        )
        cluster_context(cluster)  # a malformed --cluster / ARBSCORE_DASK_SCHEDULER: exit 2 now
        tracking = check_mlflow(mlflow)
        window = (("--test-start", test_start), ("--start", start), ("--end", end))
        command = reproduce_command(workdir, data, names, _keep_config(config, workdir), window)
        cfg = RunConfig(
            workdir=workdir,
            data=data,
            families=names,
            force=force,
            command=command,
            cluster=cluster,
            **stage_configs,
        )
        columns = (SpinnerColumn(), TextColumn("[bold]{task.description:<9}"), BarColumn())
        note = (TextColumn("{task.fields[note]}"),)
        try:
            with progress_bar(console, *columns, tail=note) as progress:
                result = run_pipeline(cfg, progress=_StageBars(progress))
        except PipelineError as exc:
            console.print(f"[bold red]arbscore run stopped:[/] {exc}")
            raise typer.Exit(code=1) from exc
        _summary(result, console)
        from arbscore.cli.summary_tables import dropped_line

        if line := dropped_line((result.metrics or {}).get("dropped")):
            console.print(f"[yellow]{line}[/]", soft_wrap=True)
        console.print(f"report: {result.html_path}  (Markdown: {result.md_path})", soft_wrap=True)
        console.print(f"total {result.seconds:.1f} s.")
        from arbscore.cli.summary_tables import shipped_sentence

        console.print(shipped_sentence(result.bundle_dir), soft_wrap=True)
        serve = f"arbscore serve --bundle {result.bundle_dir} --port 5250"
        console.print(f"  {serve}", highlight=False, soft_wrap=True)
        log_to_mlflow(tracking, "log_run", result.workdir)

    @app.command("benchmark")
    @user_errors
    def benchmark_cmd(
        out: OutOpt = None,
        old_workdir: OldWorkdirOpt = None,
        scripts: Annotated[
            list[str] | None,
            typer.Option("--scripts", "-s", help="Which benchmarks/*.py (default: all three)."),
        ] = None,
        timeout: Annotated[float, typer.Option(help="Seconds allowed per script.")] = 1800.0,
        arg: Annotated[
            list[str] | None,
            typer.Option(
                "--arg",
                help='Extra arguments for one script, e.g. --arg "train=--rows 100000".',
            ),
        ] = None,
    ) -> None:
        """Run benchmarks/*.py, store their figures in DIR/benchmarks.json, rebuild the report."""
        workdir = renamed(out, old_workdir, "--out", "--workdir", DEFAULT_OUT)
        console = _console()
        from arbscore.report import build_report
        from arbscore.report.benchmarks import run_benchmarks

        names = tuple(n.strip() for s in (scripts or []) for n in s.split(",") if n.strip())
        with progress_bar(console, SpinnerColumn(), TextColumn("{task.description}")) as progress:
            task = progress.add_task("benchmarks", total=None)

            def tick(name: str, i: int | None = None, n: int | None = None) -> None:
                progress.update(
                    task,
                    description=f"benchmark {name} ({i + 1}/{n})"
                    if name != "done" and i is not None
                    else "benchmarks done",
                )

            out = run_benchmarks(
                workdir,
                scripts=names or None,
                timeout_s=timeout,
                script_args=parse_script_args(arg),
                progress=tick,
            )
        record = json.loads(out.read_text())
        table = Table(title=f"Benchmarks ({out})")
        for col in ("script", "wall s", "figures"):
            table.add_column(col)
        for name, entry in record["scripts"].items():
            figures = entry.get("result")
            text = (
                ", ".join(f"{k}={_show(v)}" for k, v in figures.items())
                if figures
                else (f"[red]{entry.get('error')}[/]")
            )
            table.add_row(name, f"{entry.get('wall_seconds', 0):.1f}", text)
        console.print(table)
        if (workdir / "metrics.json").exists():
            html_path, _ = build_report(workdir)
            console.print(f"report updated: {html_path}")
        else:
            console.print(
                f"no {workdir / 'metrics.json'} yet: run `arbscore run --out "
                f"{workdir}` to get the report"
            )
        if any("error" in e for e in record["scripts"].values()):
            raise typer.Exit(code=1)
