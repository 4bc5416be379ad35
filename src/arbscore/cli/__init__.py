"""The ``arbscore`` command: thin typer commands that call library functions.

Each area registers its verbs from its own module so the command files stay small:
data (backfill, live, import, data status), pipeline (snapshots, simulate), models (train,
evaluate, export), serving (serve, size), run (run, benchmark), ops (drift, retrain, paper),
scale-out (score; ``--cluster``).
Bad user input exits with code 2 and a message naming the field (see ``errors.py``).
"""

from __future__ import annotations

import typer

from arbscore.cli import (
    backtest_cmds,
    data_cmds,
    model_cmds,
    ops_cmds,
    pipeline_cmds,
    run_cmds,
    scale_cmds,
    serve_cmds,
)


def _print_version(value: bool) -> None:
    if value:
        from arbscore import __version__

        typer.echo(f"arbscore {__version__}")
        raise typer.Exit()


app = typer.Typer(
    name="arbscore",
    help="Train, compare and serve models that score funding-rate arbitrage opportunities.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # click's own help layout: booleans as --flag/--no-flag (rich panels print "<bool>"),
    # option names never cut at 80 columns
    rich_markup_mode=None,
)


def _set_log_level(value: str) -> str:
    from arbscore.cli.logs import configure_logging

    try:
        configure_logging(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    return value


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version."
    ),
    log_level: str = typer.Option(
        "WARNING",
        "--log-level",
        envvar="ARBSCORE_LOG_LEVEL",
        callback=_set_log_level,
        help="Diagnostics on stderr: DEBUG, INFO, WARNING or ERROR.",
    ),
) -> None:
    """Train, compare and serve models that score funding-rate arbitrage opportunities."""


@app.command()
def version() -> None:
    """Print the arbscore version."""
    from arbscore import __version__

    typer.echo(__version__)


for _module in (
    data_cmds,
    pipeline_cmds,
    model_cmds,
    serve_cmds,
    run_cmds,
    backtest_cmds,
    ops_cmds,
    scale_cmds,
):
    _module.register(app)


def main() -> None:
    """Console-script entry point."""
    from arbscore.mlx_models.blas import ensure_fast_blas

    ensure_fast_blas()  # on Linux: re-exec with OpenBLAS preloaded (MLX ~10x faster); no mlx yet
    app()
