"""The user-input error every stage raises: the CLI maps it to exit 2, the server to HTTP 4xx.

It lives at the package root (beside :mod:`arbscore.schema`) so data, model and export modules
raise it without importing the CLI (and typer/rich with it).
"""

from __future__ import annotations


class UserInputError(ValueError):
    """Input the user can fix (a bad flag, file or row). The CLI prints it and exits 2."""
