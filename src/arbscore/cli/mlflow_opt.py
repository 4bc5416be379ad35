"""``--mlflow URI`` of ``run``, ``evaluate`` and ``retrain``: the option and the call into
``arbscore.ops.mlflow_log`` once the command's work is done (docs/operations.md, MLflow).

Nothing here imports mlflow: ``check_mlflow`` only looks for it, so a command without the extra
installed refuses ``--mlflow`` (exit 2) before any work, and a command without ``--mlflow``
never loads it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from arbscore.cli.extras import require_extra
from arbscore.errors import UserInputError

MlflowOpt = Annotated[
    str | None,
    typer.Option(
        "--mlflow",
        help="MLflow tracking URI to log this run to (params, metrics, report, bundle), e.g. "
        "sqlite:///mlruns/mlflow.db; 'env' reads MLFLOW_TRACKING_URI. Needs arbscore[mlflow].",
    ),
]


def check_mlflow(value: str | None) -> str | None:
    """The tracking URI ``--mlflow`` names (None without it); exit 2 when it cannot be used."""
    if value is None:
        return None
    require_extra("--mlflow", "mlflow", "MLflow")
    from arbscore.ops.mlflow_log import resolve_uri

    try:
        return resolve_uri(value)
    except ValueError as exc:
        raise UserInputError(str(exc)) from exc


def log_to_mlflow(uri: str | None, name: str, *args: Any) -> str | None:
    """``arbscore.ops.mlflow_log.<name>(uri, *args)`` when ``--mlflow`` was given; prints and
    returns the MLflow run id."""
    if uri is None:
        return None
    from arbscore.ops import mlflow_log

    log: Callable[..., str] = getattr(mlflow_log, name)
    run_id = log(uri, *args)
    typer.echo(f"mlflow: logged run {run_id} to {uri}")
    return run_id
