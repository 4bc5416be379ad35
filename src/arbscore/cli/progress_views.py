"""Rich views of :class:`arbscore.progress.Progress` calls (only the CLI prints).

In a terminal a stage shows a rich progress bar with its elapsed time and ETA; outside one (a
pipe, a CI log, ``nohup``) a live bar shows nothing until it ends, so :class:`LineProgress`
prints one timestamped line per step instead (a step under a second after the last line
prints none) (``12:00:03 walk-forward fold 2/4: 2/8 (25 %),
0:00:41 elapsed, ETA 0:02:03``), at most :data:`LINES_PER_TASK` lines for a task of many steps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress as RichProgress
from rich.progress import ProgressColumn, TimeElapsedColumn, TimeRemainingColumn

from arbscore.progress import Progress

#: a task of more steps than this prints a line per 1/LINES_PER_TASK of its total
LINES_PER_TASK = 20
#: steps closer together than this print no line of their own (the first and last always do)
MIN_LINE_GAP_S = 1.0


def clock(seconds: float) -> str:
    """``H:MM:SS`` as rich's elapsed column shows it."""
    s = int(round(max(seconds, 0.0)))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


@dataclass
class LineTask:
    """What :class:`LineProgress` knows of one task (the fields rich's ``Task`` has)."""

    description: str
    total: float | None = None
    completed: float = 0.0
    fields: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    shown: tuple = ()
    shown_at: float = float("-inf")


class LineProgress:
    """The part of ``rich.progress.Progress`` the CLI uses, printing one line per step."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.tasks: list[LineTask] = []

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def add_task(self, description: str, total: float | None = None, **fields: Any) -> int:
        self.tasks.append(LineTask(description, total, 0.0, dict(fields)))
        return len(self.tasks) - 1

    def update(
        self,
        task_id: int,
        *,
        description: str | None = None,
        total: float | None = None,
        completed: float | None = None,
        advance: float | None = None,
        **fields: Any,
    ) -> None:
        task = self.tasks[task_id]
        if description is not None:
            task.description = description
        if total is not None:
            task.total = total
        if completed is not None:
            task.completed = completed
        if advance is not None:
            task.completed += advance
        task.fields.update(fields)
        self._maybe_print(task)

    def _maybe_print(self, task: LineTask) -> None:
        total = task.total or 0
        step = task.completed
        if total > LINES_PER_TASK and step < total:  # many steps: a line per 1/20 of them
            step = int(step * LINES_PER_TASK // total)
        key = (task.description, task.fields.get("note"), step, total)
        if key == task.shown:
            return
        now = time.monotonic()
        same_text = key[:2] == task.shown[:2]
        if same_text and 0 < task.completed < total and now - task.shown_at < MIN_LINE_GAP_S:
            return  # a fast inner step: the next slow one or the last says it
        task.shown, task.shown_at = key, now
        self.console.print(self.line(task), soft_wrap=True, highlight=False, markup=False)

    @staticmethod
    def line(task: LineTask) -> str:
        """``HH:MM:SS description: done/total (pct %), elapsed, ETA``."""
        text = f"{time.strftime('%H:%M:%S')} {task.description}"
        if task.fields.get("note"):
            text += f" {task.fields['note']}"
        total = task.total or 0
        if total:
            done = task.completed
            elapsed = time.monotonic() - task.started
            text += f": {done:,.0f}/{total:,.0f} ({100 * done / total:.0f} %), "
            text += f"{clock(elapsed)} elapsed"
            if 0 < done < total:
                text += f", ETA {clock(elapsed / done * (total - done))}"
        return text


def progress_bar(
    console: Console, *columns: ProgressColumn | str, tail: tuple[ProgressColumn, ...] = ()
) -> RichProgress | LineProgress:
    """In a terminal a rich bar: ``columns``, elapsed time, ETA, then ``tail``; else a
    :class:`LineProgress` printing one line per step."""
    if not console.is_terminal:
        return LineProgress(console)
    times = (TimeElapsedColumn(), TimeRemainingColumn())
    return RichProgress(*columns, *times, *tail, console=console)


def status_line(status: Any) -> Progress:
    """A Progress that rewrites a ``console.status(...)`` spinner's text: ``message (i/n)``;
    outside a terminal (where the spinner shows nothing) it prints each new text as a line."""
    lines = LineProgress(status.console)
    tasks: dict[str, int] = {}

    def progress(message: str, completed: int | None = None, total: int | None = None) -> None:
        counted = f" ({completed}/{total})" if completed is not None and total else ""
        status.update(escape(f"{message}{counted}"))
        if not lines.console.is_terminal:
            if message not in tasks:
                tasks[message] = lines.add_task(message)
            lines.update(tasks[message], total=total, completed=completed)

    return progress
