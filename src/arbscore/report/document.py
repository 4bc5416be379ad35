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
    scale: float = 1.0  # the text shows value x scale (a fraction shown as percent: 100)


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


@dataclass(frozen=True)
class Callout:
    """A warning a reader must not miss (e.g. too few trades for a verdict)."""

    text: str
    name: str  # stable id, e.g. "low-trades"


@dataclass
class Section:
    title: str
    anchor: str
    blocks: list[str | Table | Figure | Callout] = field(default_factory=list)  # str: paragraph


@dataclass
class Document:
    title: str
    banner: str | None  # shown prominently (SYNTHETIC data)
    subtitle: str
    sections: list[Section]


def _finite_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def fmt(v: float | int | None) -> str:
    """Numbers as a person reads them: 4 significant digits, thousands separators, never
    scientific notation; '–' for none. The one formatter of every figure (report and CLI)."""
    if v is None:
        return "–"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if not math.isfinite(v):
        return "–"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if v == 0:
        return "0"
    digits = max(0, 3 - math.floor(math.log10(abs(v))))
    if digits > 10:  # below 1e-7: shown as 0 rather than as an exponent
        return "0"
    out = f"{v:.{digits}f}"
    return out.rstrip("0").rstrip(".") if "." in out else out


def pct_decimals(v: float) -> int:
    """Decimals of a percent: 2 below 10 %, 1 below 100 %, none above."""
    a = abs(v)
    return 2 if a < 10 else 1 if a < 100 else 0


def fmt_pct(v: float | None, signed: bool = True, unit: bool = True) -> str:
    """A percent value (already in percent): '+1.23 %', '-45.6 %', '1,234 %'."""
    if not _finite_number(v):
        return "–"
    d = pct_decimals(v)
    body = f"{v:+,.{d}f}" if signed else f"{v:,.{d}f}"
    if body in ("+0.00", "-0.00"):
        body = "0.00"
    return body + (" %" if unit else "")


def fmt_share_pct(fraction: float | None) -> str:
    """A fraction shown as a percent without its sign or unit: 0.8889 -> '88.89'."""
    return fmt_pct(fraction * 100.0, signed=False, unit=False) if _finite_number(fraction) else "–"


def fmt_ci(ci: object, unit: bool = True) -> str:
    """A 95 % interval of percents: '[-0.49, +1.50] %'."""
    if not isinstance(ci, (list, tuple)) or len(ci) != 2:
        return "–"
    lo, hi = (fmt_pct(x, unit=False) for x in ci)
    return f"[{lo}, {hi}]" + (" %" if unit else "")


def fmt_ratio(v: float | None) -> str:
    """Sharpe, Sortino, Calmar: two decimals, signed."""
    return f"{v:+.2f}" if _finite_number(v) else "–"


def fmt_ratio_ci(ci: object) -> str:
    if not isinstance(ci, (list, tuple)) or len(ci) != 2:
        return "–"
    return f"[{fmt_ratio(ci[0])}, {fmt_ratio(ci[1])}]"


def text(s: str) -> Cell:
    return Cell(s)
