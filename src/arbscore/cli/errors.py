"""How the CLI reports bad user input: one line naming the field and the problem, exit 2."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.markup import escape

from arbscore.cli.console import CliConsole
from arbscore.errors import UserInputError

err_console = CliConsole(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])
__all__ = ["UserInputError", "err_console", "fail", "user_errors"]


def fail(message: str) -> typer.Exit:
    """Print ``message`` as an error and return the exit-2 exception to raise."""
    # escaped: "pip install 'arbscore[mlflow]'" is text, not rich markup; soft-wrapped: a pipe
    # or a CI log gets the whole line
    err_console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    return typer.Exit(code=2)


def user_errors(func: F) -> F:
    """Turn ``UserInputError``/``ValueError``/``FileNotFoundError`` into exit code 2 + message."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (UserInputError, ValueError, FileNotFoundError) as exc:
            raise fail(str(exc)) from exc

    return wrapper  # type: ignore[return-value]
