"""The report as a small document model (sections of text, tables and figures).

The HTML and the Markdown are two renderings of the same document, so they cannot disagree;
every table cell that shows a metric keeps the exact value it came from (``Cell.value``), which
the HTML writes into ``data-*`` attributes so a test can check them against metrics.json.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Cell:
    text: str
    value: float | None = None  # the exact number shown (mean), for data-value
    key: tuple[str, str, str] | None = None  # (strategy, head, metric)
    title: str | None = None  # hover text, e.g. per-fold values


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[Cell]]
    name: str  # stable id, e.g. "metrics-profit"
    caption: str = ""


@dataclass(frozen=True)
class Figure:
    png: bytes
    name: str  # file stem, e.g. "equity"
    alt: str


@dataclass
class Section:
    title: str
    anchor: str
    blocks: list[str | Table | Figure] = field(default_factory=list)  # str = paragraph


@dataclass
class Document:
    title: str
    banner: str | None  # shown prominently (SYNTHETIC data)
    subtitle: str
    sections: list[Section]


def fmt(v: float | int | None) -> str:
    """Numbers as a person reads them: 4 significant digits, thousands separators, '-' for none."""
    if v is None:
        return "–"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if not math.isfinite(v):
        return "–"
    if v != 0 and (abs(v) >= 1e9 or abs(v) < 1e-3):
        return f"{v:.3e}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.4g}"


def text(s: str) -> Cell:
    return Cell(s)
