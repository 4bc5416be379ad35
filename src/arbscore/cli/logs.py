"""Logging for the ``arbscore`` command: ``--log-level`` / ``ARBSCORE_LOG_LEVEL``.

The CLI is the only place that configures output. Library modules only call
``logging.getLogger(__name__)`` (store opens, bundle loads and reloads, stage timings, retrain
decisions) and never add handlers, so an application embedding arbscore keeps its own logging
setup. Here: one stderr handler on the root logger, the chosen level on the ``arbscore``
loggers, and other libraries held at WARNING or above (``--log-level DEBUG`` shows arbscore's
diagnostics, not every dependency's). The user-facing rich tables and progress bars are not
logging and are not affected.
"""

from __future__ import annotations

import logging
import sys

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
DEFAULT_LEVEL = "WARNING"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _ArbscoreHandler(logging.StreamHandler):
    """The CLI's stderr handler: writes to ``sys.stderr`` as it is at each record (not as it
    was when configured: typer's CliRunner swaps it per invocation), and is told apart from
    anyone else's handlers when the CLI runs again in-process."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:  # StreamHandler.setStream: always the current stderr
        pass


def configure_logging(level: str = DEFAULT_LEVEL) -> None:
    """Set up stderr logging at ``level`` (one of LEVELS, any case); ValueError otherwise.

    Idempotent: a second call (typer's CliRunner invokes the app many times in one process)
    replaces the handler it added before instead of adding another.
    """
    name = str(level).strip().upper()
    if name not in LEVELS:
        raise ValueError(f"--log-level {level!r}: expected one of {', '.join(LEVELS)}")
    number = logging.getLevelName(name)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _ArbscoreHandler)]:
        root.removeHandler(old)
    handler = _ArbscoreHandler()
    handler.setFormatter(logging.Formatter(FORMAT))
    # a library that sets its own logger's level (Dask's "distributed" logs INFO) still only
    # reaches this handler at WARNING or above
    handler.addFilter(
        lambda r: r.levelno >= (number if r.name.split(".")[0] == "arbscore" else logging.WARNING)
    )
    root.addHandler(handler)
    root.setLevel(max(number, logging.WARNING))
    logging.getLogger("arbscore").setLevel(number)
