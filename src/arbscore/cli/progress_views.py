"""Rich views of :class:`arbscore.progress.Progress` calls (only the CLI prints)."""

from __future__ import annotations

from typing import Any

from arbscore.progress import Progress


def status_line(status: Any) -> Progress:
    """A Progress that rewrites a ``console.status(...)`` spinner's text: ``message (i/n)``."""

    def progress(message: str, completed: int | None = None, total: int | None = None) -> None:
        counted = f" ({completed}/{total})" if completed is not None and total else ""
        status.update(f"{message}{counted}")

    return progress
