"""The CLI's rich console: in a terminal, rich's own; in a pipe or a CI log, no line is cut.

Outside a terminal rich lays tables out for 80 columns (or ``$COLUMNS``) and cuts what does not
fit with an ellipsis (``dat… 343,464 rows``). A log has no width, so :class:`CliConsole`
renders for :data:`PIPE_WIDTH` columns there: tables keep their natural width (rich never pads
them to the console's width) and every cell is whole.
"""

from __future__ import annotations

from rich.console import Console, ConsoleDimensions

#: the width a pipe / CI log is rendered for: wider than any table the CLI prints
PIPE_WIDTH = 1000


class CliConsole(Console):
    """``rich.console.Console`` whose width outside a terminal is :data:`PIPE_WIDTH`."""

    @property
    def size(self) -> ConsoleDimensions:
        size = Console.size.fget(self)  # type: ignore[attr-defined]
        if self.is_terminal:
            return size
        return ConsoleDimensions(max(size.width, PIPE_WIDTH), size.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]
