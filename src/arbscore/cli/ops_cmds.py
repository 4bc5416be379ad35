"""CLI verbs of operations: ``drift``, ``retrain``, ``paper`` and ``track outcomes|accuracy``.

Thin: resolve flags into the ops config dataclasses, call ``arbscore.ops``, print with rich.
Everything heavy is imported inside the commands (``import arbscore.cli`` stays light).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from arbscore.cli.aliases import hidden, renamed
from arbscore.cli.errors import user_errors
from arbscore.cli.mlflow_opt import MlflowOpt, check_mlflow, log_to_mlflow

DB_HELP = "store: DuckDB path or postgresql:// URL (default $ARBSCORE_DB)"
DbOpt = Annotated[str | None, typer.Option(help=DB_HELP)]  # the --db of every ops command


def _console():
    from arbscore.cli.console import CliConsole

    return CliConsole()


def _write_json(path: Path | None, payload: dict) -> None:
    if path is not None:
        from arbscore.evaluation.metrics import json_safe

        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(json_safe(payload), indent=2, default=str) + "\n")


def _live_frame(db: str | None, days: float):
    import pandas as pd

    from arbscore.data_tools.store import LIVE_SNAPSHOTS, open_store

    if days <= 0:
        raise ValueError(f"--days {days}: must be > 0")
    with open_store(db, must_exist=True) as store:
        live = store.read(LIVE_SNAPSHOTS)
    if live.empty:
        raise ValueError("--db: no live snapshots in the store; run `arbscore live` first")
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
    recs: list[dict] = []
    if source in ("auto", "tracked"):
        from arbscore.data_tools.store import open_store
        from arbscore.ops.tracking import tracked

        with open_store(db, must_exist=True) as store:
            frame = tracked(store)
        frame = frame[frame["model_version"] == scorer.model_version]
        if len(frame):
            t = pd.to_datetime(frame["opportunity_time"], utc=True)
            frame = frame[t > t.max() - pd.Timedelta(days=days)]
        recs = [json.loads(f) for f in frame["features"]]
        used = "tracked"
    if not recs and source in ("auto", "live"):
        from arbscore.ops.live_opps import live_opportunities, records

        recs = records(live_opportunities(_live_frame(db, days)))
        used = "live"
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
) -> None:
    """Paper-trade the ML scorer against the rule-based scorer on live snapshots."""
    json_out = renamed(out, old_json, "--out", "--json")
    from rich.table import Table

    from arbscore.evaluation.config import EvaluationConfig
    from arbscore.ops.paper import PaperConfig, paper_trade
    from arbscore.serve.scorer import Scorer

    rules = EvaluationConfig(top_k=top_k, capital_usd=capital, position_usd=position)
    config = PaperConfig(rules=rules, max_hold_hours=max_hold)
    result = paper_trade(_live_frame(db, days), Scorer(bundle), config)
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


def outcomes_cmd(db: DbOpt = None) -> None:
    """Attach realised outcomes to tracked predictions whose hold window has passed."""
    from arbscore.data_tools.store import open_store
    from arbscore.ops.tracking import attach_outcomes

    with open_store(db, must_exist=True) as store:
        n = attach_outcomes(store)
    typer.echo(f"{n} outcomes written")


def accuracy_cmd(
    db: DbOpt = None,
    freq: Annotated[str, typer.Option(help="period: 1h, 6h, 1D, 7D ...")] = "1D",
    csv: Annotated[Path | None, typer.Option(help="also write the table as CSV")] = None,
) -> None:
    """Accuracy over time per head from tracked predictions with outcomes."""
    from rich.table import Table

    from arbscore.data_tools.store import open_store
    from arbscore.ops.tracking import accuracy_over_time, tracked

    with open_store(db, must_exist=True) as store:
        acc = accuracy_over_time(tracked(store), freq)
    table = Table(title="accuracy over time")
    for col in acc.columns:
        table.add_column(col)
    for row in acc.itertuples(index=False):
        table.add_row(*[f"{v:.4f}" if isinstance(v, float) else str(v) for v in row])
    _console().print(table)
    if csv is not None:
        acc.to_csv(csv, index=False)


def register(app: typer.Typer) -> None:
    """Add this area's commands to app."""
    app.command("drift")(user_errors(drift_cmd))
    app.command("paper")(user_errors(paper_cmd))
    app.command("retrain")(user_errors(retrain_cmd))
    track = typer.Typer(
        help="prediction tracking: outcomes, accuracy", no_args_is_help=True, rich_markup_mode=None
    )
    track.command("outcomes")(user_errors(outcomes_cmd))
    track.command("accuracy")(user_errors(accuracy_cmd))
    app.add_typer(track, name="track")
