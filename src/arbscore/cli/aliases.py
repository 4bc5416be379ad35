"""Renamed options: the new name shown in ``--help``, the old one kept hidden for one release.

Every verb writes to ``--out`` and takes its families as ``--family`` (repeatable and
comma-separated). The old spellings (``--workdir``, ``--output``, ``--json``, ``--families``)
still work, print one note on stderr, and go in the next release.
"""

from __future__ import annotations

from typing import Any, TypeVar

import typer

from arbscore.cli.errors import err_console
from arbscore.errors import UserInputError

T = TypeVar("T")


def hidden(*names: str) -> Any:
    """A hidden option for an old spelling, for ``Annotated[..., hidden(...)] = None`` (its
    value merged by :func:`renamed`)."""
    return typer.Option(*names, hidden=True)


def hidden_default(*names: str) -> Any:
    """The same as a parameter default (``param: T | None = hidden_default(...)``)."""
    return typer.Option(None, *names, hidden=True)


def renamed(new: T | None, old: T | None, new_name: str, old_name: str, default: Any = None) -> Any:
    """The option's value: ``new``, else the old spelling's (with a note), else ``default``;
    both given is an error (exit 2)."""
    if old is None or old == []:
        return default if new is None else new
    if new is not None and new != [] and new != old:
        raise UserInputError(f"give {new_name} or its old name {old_name}, not both")
    err_console.print(
        f"[yellow]note:[/] {old_name} is now {new_name}; the old name goes in the next release"
    )
    return old
