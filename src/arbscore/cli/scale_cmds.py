"""``--cluster`` (shared by run, simulate, evaluate) and ``arbscore score``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from arbscore.cli.console import CliConsole
from arbscore.cli.errors import UserInputError, user_errors
from arbscore.cli.extras import require_extra

CLUSTER_HELP = (
    "Run on Dask: local[:N] (a LocalCluster of N worker processes, default 2) or "
    "tcp://HOST:8786 (an existing scheduler); default: ARBSCORE_DASK_SCHEDULER, else this "
    "process. Needs the dask extra of arbscore."
)
ClusterOpt = Annotated[str | None, typer.Option("--cluster", help=CLUSTER_HELP)]


def cluster_context(text: str | None):
    """The ``.map`` context for ``--cluster``; a malformed value, or a cluster asked for
    without Dask installed, is a ``UserInputError`` (exit 2)."""
    from arbscore.scale.cluster import SCHEDULER_ENV, open_cluster, parse_cluster

    try:
        if parse_cluster(text) is not None:
            require_extra("--cluster" if text else SCHEDULER_ENV, "dask", "Dask")
        return open_cluster(text)
    except ValueError as exc:
        raise UserInputError(str(exc)) from exc


def score(
    data: Annotated[
        Path, typer.Option(help="A partitioned set, a directory of .parquet files or a .parquet")
    ],
    bundle: Annotated[Path, typer.Option(help="The ONNX bundle directory (arbscore export)")],
    out: Annotated[Path, typer.Option(help="Output directory: one part-<i>.parquet per input")],
    cluster: ClusterOpt = None,
) -> None:
    """Score every row of DATA with the bundle's four predictions, partition by partition."""
    from arbscore.scale.cluster import ClusterError
    from arbscore.scale.score import score_dataset

    console = CliConsole()
    try:
        with cluster_context(cluster) as where:
            files = score_dataset(data, bundle, out, cluster=where if where.spec else None)
    except ClusterError as exc:
        console.print(f"[bold red]score stopped:[/] {exc}")
        raise typer.Exit(code=1) from exc
    place = where.spec.describe() if where.spec else "this process"
    console.print(f"scored {len(files)} partitions of {data} on {place} -> {out}/")


def register(app: typer.Typer) -> None:
    app.command("score")(user_errors(score))
