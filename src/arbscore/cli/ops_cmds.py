"""CLI verbs of operations: ``drift``, ``retrain`` and ``paper`` (``track``: track_cmds.py).

Thin: resolve flags into the ops config dataclasses, call ``arbscore.ops``, print with rich.
Everything heavy is imported inside the commands (``import arbscore.cli`` stays light).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from arbscore.cli import track_cmds
from arbscore.cli.aliases import hidden, renamed
from arbscore.cli.errors import user_errors
from arbscore.cli.mlflow_opt import MlflowOpt, check_mlflow, log_to_mlflow
from arbscore.cli.track_cmds import DB_HELP, DbOpt  # the --db of every ops command

ReplayOpt = Annotated[
    Path | None,
    typer.Option(
        "--replay",
        help="recorded live snapshots (Parquet/CSV, as `arbscore data export live_snapshots "
        "FILE` writes) instead of the store's; --days counts back from the file's last slot",
    ),
]


def _console():
    from arbscore.cli.console import CliConsole

    return CliConsole()


def _write_json(path: Path | None, payload: dict) -> None:
    if path is not None:
        from arbscore.evaluation.metrics import json_safe

        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(json_safe(payload), indent=2, default=str) + "\n")


def _say(note: str | None) -> None:
    if note:
        from arbscore.cli.errors import err_console

        err_console.print(note, soft_wrap=True, markup=False)


def _live_frame(db: str | None, days: float, replay: Path | None = None):
    """The live snapshots of the last ``days``: from ``--replay FILE``, else the store (its
    server's snapshot while ``arbscore serve --ops-db`` holds a DuckDB file)."""
    import pandas as pd

    from arbscore.data_tools.store import LIVE_SNAPSHOTS
    from arbscore.ops.snapshot import open_for_reading, read_recorded_live

    if days <= 0:
        raise ValueError(f"--days {days}: must be > 0")
    if replay is not None:
        live = read_recorded_live(replay)
    else:
        with open_for_reading(db) as reading:
            _say(reading.note)
            live = reading.store.read(LIVE_SNAPSHOTS)
        if live.empty:
            raise ValueError(
                "--db: no live snapshots in the store; run `arbscore live` first, or replay "
                "recorded ones with --replay FILE"
            )
    t = pd.to_datetime(live["snapshot_time"], utc=True)
    return live[t > t.max() - pd.Timedelta(days=days)]


def drift_cmd(
    bundle: Annotated[
        Path, typer.Option("--bundle", help="bundle dir whose reference to compare with")
    ],
    db: DbOpt = None,
    source: Annotated[
        str, typer.Option(help="tracked (server predictions) | live | auto")
    ] = "auto",
    days: Annotated[float, typer.Option(help="look back this many days")] = 7.0,
    warn_psi: Annotated[float, typer.Option(help="PSI at which a feature is 'warn'")] = 0.1,
    alert_psi: Annotated[float, typer.Option(help="PSI at which a feature is 'alert'")] = 0.25,
    fail_on: Annotated[
        str, typer.Option(help="exit 1 at this level: never | warn | alert")
    ] = "never",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="also write the report as JSON")
    ] = None,
    old_json: Annotated[Path | None, hidden("--json")] = None,
    replay: ReplayOpt = None,
) -> None:
    """Per-feature PSI and prediction drift vs the bundle's training reference."""
    import numpy as np
    import pandas as pd

    json_out = renamed(out, old_json, "--out", "--json")
    from arbscore.ops.drift import DriftConfig, drift_report
    from arbscore.serve.scorer import Scorer

    if source not in ("auto", "tracked", "live") or fail_on not in ("never", "warn", "alert"):
        raise ValueError(f"--source {source!r} / --fail-on {fail_on!r}: see --help for choices")
    config = DriftConfig(warn_psi=warn_psi, alert_psi=alert_psi)
    scorer = Scorer(bundle)
    if replay is not None and source == "tracked":
        raise ValueError("--replay holds live snapshots, not tracked predictions: --source live")
    recs: list[dict] = []
    if source in ("auto", "tracked") and replay is None:
        from arbscore.ops.snapshot import open_for_reading
        from arbscore.ops.tracking import tracked

        with open_for_reading(db) as reading:
            _say(reading.note)
            frame = tracked(reading.store)
        frame = frame[frame["model_version"] == scorer.model_version]
        if len(frame):
            t = pd.to_datetime(frame["opportunity_time"], utc=True)
            frame = frame[t > t.max() - pd.Timedelta(days=days)]
        recs = [json.loads(f) for f in frame["features"]]
        used = "tracked"
    if not recs and source in ("auto", "live"):
        from arbscore.ops.live_opps import live_opportunities, records

        recs = records(live_opportunities(_live_frame(db, days, replay)))
        used = "live" if replay is None else f"replay of {replay}"
    if not recs:
        raise ValueError(f"no rows to compare for model {scorer.model_version} (source {source})")
    X, _ = scorer.features(recs)
    p = scorer.predict_matrix(X)
    preds = {"profit": p.profit_pct, "success": p.success_probability, "duration": p.hold_hours}
    report = drift_report(
        scorer.manifest.get("reference") or {}, X, scorer.spec.feature_names, preds, config
    )
    from rich.table import Table

    console = _console()
    title = f"drift of {scorer.model_version} ({used}, {report.rows} rows)"
    if report.enough_rows:
        table = Table(title=title)
        for col in ("input", "PSI", "level"):
            table.add_column(col)
        items = [(f"head {k}", v) for k, v in report.predictions.items()]
        items += sorted(report.features.items(), key=lambda kv: -np.nan_to_num(kv[1], nan=-1))
        for name, value in items:
            table.add_row(name, f"{value:.4f}", config.level(value))
        console.print(table)
    else:  # PSI on a handful of rows measures the sample, not the population
        console.print(f"{title}: {report.note}; no PSI below {config.min_rows} rows")
    console.print(f"status: [bold]{report.status}[/]")
    _write_json(
        json_out, {"source": used, "model_version": scorer.model_version, **report.to_dict()}
    )
    order = {"ok": 1, "warn": 2, "alert": 3}  # n/a and not enough rows never fail
    if fail_on != "never" and order.get(report.status, 0) >= order[fail_on]:
        raise typer.Exit(code=1)


def paper_cmd(
    bundle: Annotated[Path, typer.Option("--bundle", help="bundle dir (the ML scorer)")],
    db: DbOpt = None,
    days: Annotated[float, typer.Option(help="live data of the last N days")] = 7.0,
    max_hold: Annotated[float, typer.Option(help="cap on either strategy's hold, hours")] = 24.0,
    top_k: Annotated[int, typer.Option(help="entries per slot")] = 3,
    capital: Annotated[float, typer.Option(help="capital, USD (both strategies)")] = 100_000.0,
    position: Annotated[float, typer.Option(help="notional per position, USD")] = 10_000.0,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="also write the summary as JSON")
    ] = None,
    old_json: Annotated[Path | None, hidden("--json")] = None,
    replay: ReplayOpt = None,
) -> None:
    """Paper-trade the ML scorer against the rule-based scorer on live snapshots (the store's,
    or recorded ones with --replay)."""
    json_out = renamed(out, old_json, "--out", "--json")
    from rich.table import Table

    from arbscore.evaluation.config import EvaluationConfig
    from arbscore.ops.paper import PaperConfig, paper_trade
    from arbscore.serve.scorer import Scorer

    rules = EvaluationConfig(top_k=top_k, capital_usd=capital, position_usd=position)
    config = PaperConfig(rules=rules, max_hold_hours=max_hold)
    result = paper_trade(_live_frame(db, days, replay), Scorer(bundle), config)
    summary = result.summary()
    table = Table(title=f"paper A/B {summary['start']} -> {summary['end']}")
    for col in ("strategy", "net return", "win rate", "Sharpe", "max drawdown", "trades"):
        table.add_column(col)
    fmt = lambda v, f: "-" if v is None else f.format(v)  # noqa: E731
    for name, m in summary["strategies"].items():
        table.add_row(
            name,
            fmt(m["net_return"], "{:+.4%}"),
            fmt(m["win_rate"], "{:.1%}"),
            fmt(m["sharpe"], "{:.2f}"),
            fmt(m["max_drawdown"], "{:.4%}"),
            fmt(m["trades"], "{:.0f}"),
        )
    console = _console()
    console.print(table)
    console.print(summary["difference"]["statement"])
    _write_json(json_out, summary)


def retrain_cmd(
    root: Annotated[
        Path, typer.Option("--root", help="bundle root: ROOT/current is what is served")
    ],
    data: Annotated[
        Path | None, typer.Option("--data", help="training set file (else built from --db)")
    ] = None,
    db: Annotated[
        str | None, typer.Option(help=DB_HELP + "; market history to build the training set")
    ] = None,
    days: Annotated[
        float, typer.Option(help="with --db: the last N days of market history")
    ] = 90.0,
    family: Annotated[
        list[str] | None,
        typer.Option(
            "--family",
            "-f",
            help="challenger families, repeated or comma-separated (default: xgboost,lightgbm)",
        ),
    ] = None,
    folds: Annotated[int, typer.Option(help="recent walk-forward folds to compare on")] = 2,
    required_wins: Annotated[int, typer.Option(help="heads the challenger must win")] = 2,
    max_regression: Annotated[float, typer.Option(help="max relative loss on any head")] = 0.05,
    server: Annotated[
        str | None, typer.Option(help="server URL to POST /reload after a promotion")
    ] = None,
    mlflow: MlflowOpt = None,
) -> None:
    """Train a challenger on the latest data; promote it only if it beats the champion."""

    from arbscore.evaluation.config import EvaluationConfig
    from arbscore.ops.retrain import RetrainConfig, retrain
    from arbscore.registry import parse_family_list

    chosen = {"families": parse_family_list(family)} if family else {}  # else the config's
    config = RetrainConfig(
        root=root,
        **chosen,
        server_url=server,
        evaluation=EvaluationConfig(n_folds=folds),
        required_wins=required_wins,
        max_regression=max_regression,
    )
    tracking = check_mlflow(mlflow)
    from arbscore.cli.progress_views import status_line

    console = _console()
    with console.status("loading data") as status:
        if data is not None:
            from arbscore.cli.model_cmds import load_data

            frame = load_data(data)
        else:
            from arbscore.data_tools.store import open_store
            from arbscore.ops.retrain import training_frame_from_store

            with open_store(db, must_exist=True) as store:
                frame = training_frame_from_store(store, days, progress=status_line(status))
        result = retrain(frame, config, progress=status_line(status))
    _print_retrain(console, result)
    settings = {k: v for k, v in vars(config).items() if k != "evaluation"}
    log_to_mlflow(tracking, "log_retrain", result, settings)


def _print_retrain(console, result) -> None:
    """Per head the challenger (and the champion, when there is one), where the folds lie
    relative to the champion's training data, and the decision."""
    import math

    fmt = lambda v: f"{v:.4g}" if isinstance(v, float) and math.isfinite(v) else "-"  # noqa: E731
    for head, c in result.comparison["heads"].items():
        challenger = f"challenger ({c['challenger_family'] or '-'}) {fmt(c['challenger'])}"
        if result.champion_version is None:
            console.print(f"{head:9s} {c['metric']:10s} {challenger}")
        else:
            console.print(
                f"{head:9s} {c['metric']:10s} champion {fmt(c['champion'])}  {challenger}  "
                f"{'WIN' if c['challenger_wins'] else 'loss'}"
            )
    unseen = result.comparison.get("champion_unseen_folds")
    note = result.comparison.get("folds_note", "")
    console.print(f"[yellow]folds: {note}[/]" if unseen is False else f"folds: {note}")
    colour = "green" if result.promoted else "yellow"
    version = result.challenger_version or result.champion_version
    console.print(f"[{colour}]{result.reason}[/]: serving {version}")


def register(app: typer.Typer) -> None:
    """Add this area's commands to app."""
    app.command("drift")(user_errors(drift_cmd))
    app.command("paper")(user_errors(paper_cmd))
    app.command("retrain")(user_errors(retrain_cmd))
    track_cmds.register(app)
