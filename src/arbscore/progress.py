"""The one progress-callback type every long-running function accepts.

A stage reports ``progress(message)`` when it starts something and
``progress(message, completed, total)`` as it counts through it (``completed`` of ``total``
units: partitions, folds, epochs, trials, ...). The callback decides what to show; only the CLI
prints (rich progress bars), the pipeline forwards the calls as its stage events, and a caller
that wants nothing passes ``None`` (or :func:`no_progress`).
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """``progress(message, completed=None, total=None)``: what is happening, and how far."""

    def __call__(
        self, message: str, completed: int | None = None, total: int | None = None
    ) -> None: ...


def no_progress(message: str, completed: int | None = None, total: int | None = None) -> None:
    """A :class:`Progress` that reports nothing (the default where ``None`` is awkward)."""
