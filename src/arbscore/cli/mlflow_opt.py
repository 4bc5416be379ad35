"""``--mlflow URI`` of ``run``, ``evaluate`` and ``retrain``: the option and the call into
``arbscore.ops.mlflow_log`` once the command's work is done (docs/operations.md, MLflow).

Nothing here imports mlflow: ``check_mlflow`` only looks for it, so a command without the extra
installed refuses ``--mlflow`` (exit 2) before any work, and a command without ``--mlflow``
never loads it. A tracking server that cannot be reached costs seconds, not minutes
(:data:`MLFLOW_HTTP_LIMITS`), and is a warning: the command's results stay on disk, exit 0.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Annotated, Any

import typer

from arbscore.cli.extras import require_extra
from arbscore.errors import UserInputError

#: MLflow's HTTP client settings under ``--mlflow`` unless set in the environment: its own
#: defaults (7 retries, backoff factor 2, 120 s timeout) retry an unreachable server ~4.5 min
MLFLOW_HTTP_LIMITS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "15",
}

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

    for key, value in MLFLOW_HTTP_LIMITS.items():  # the caller's own settings win
        os.environ.setdefault(key, value)
    log: Callable[..., str] = getattr(mlflow_log, name)
    try:
        run_id = log(uri, *args)
    except Exception as exc:  # noqa: BLE001 - the command's own results are on disk already
        reason = (str(exc).strip().splitlines() or [""])[0][:300]
        typer.echo(
            f"warning: mlflow: nothing logged to {uri} ({type(exc).__name__}: {reason}); "
            "the command's results are kept on disk",
            err=True,
        )
        return None
    typer.echo(f"mlflow: logged run {run_id} to {uri}")
    return run_id
