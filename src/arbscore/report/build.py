"""``build_report(workdir)``: read the run directory, write report.html and report.md."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from arbscore.report.document import Document, Figure
from arbscore.report.inputs import ReportInputs, load_inputs
from arbscore.report.render import to_html, to_markdown
from arbscore.report.sections import (
    SYNTHETIC_BANNER,
    data_used,
    head_metrics,
    headline,
    scheme,
    shipped,
)
from arbscore.report.sections_detail import (
    benchmarks,
    calibration,
    importance,
    reproduce,
    skill,
    timing,
)
from arbscore.report.sections_first import first_screen, in_detail
from arbscore.report.sections_folds import folds
from arbscore.report.sections_shap import shap_section
from arbscore.report.sections_trades import estimated_pairs, splits, trade_list
from arbscore.report.sections_trading import answer, costs, portfolio


def build_document(inp: ReportInputs) -> Document:
    """All sections in reading order: the answer first, then the evidence."""
    first = shipped(inp)
    verdict, detail = first_screen(inp), in_detail(inp)
    sections = [
        *([verdict] if verdict else []),
        *([first] if first else []),
        answer(inp),
        *([detail] if detail else []),
        headline(inp),
        data_used(inp),
        scheme(inp),
        portfolio(inp),
        costs(inp),
        trade_list(inp),
        splits(inp),
        estimated_pairs(inp),
        skill(inp),
        head_metrics(inp),
        calibration_section := calibration(inp),
        importance(inp),
        shap_section(inp),
        timing(inp),
    ]
    by_fold = folds(inp)
    if by_fold:
        sections.insert(sections.index(calibration_section) + 1, by_fold)
    bench = benchmarks(inp)
    if bench:
        sections.append(bench)
    sections.append(reproduce(inp))
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    fams = ", ".join(inp.metrics.families)
    return Document(
        title="arbscore benchmark report",
        banner=SYNTHETIC_BANNER if inp.data.synthetic else None,
        subtitle=f"families: {fams}; generated {now} from {inp.workdir}",
        sections=sections,
    )


def build_report(workdir: Path | str, out_dir: Path | str | None = None) -> tuple[Path, Path]:
    """Write ``<workdir>/report/report.html`` (self-contained) and ``report.md``.

    The Markdown links the same figures, written as PNG files under ``report/figures/``;
    every strategy's trades go to ``report/trades.csv`` beside them.
    Returns ``(html_path, md_path)``. Raises ``FileNotFoundError`` when metrics.json is absent.
    """
    workdir = Path(workdir)
    out = Path(out_dir) if out_dir is not None else workdir / "report"
    inp = load_inputs(workdir)
    doc = build_document(inp)
    figures = out / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    if inp.trades is not None:
        inp.trades.to_csv(out / "trades.csv", index=False)
    for section in doc.sections:
        for block in section.blocks:
            if isinstance(block, Figure):
                (figures / f"{block.name}.png").write_bytes(block.png)
    html_path, md_path = out / "report.html", out / "report.md"
    html_path.write_text(to_html(doc), encoding="utf-8")
    md_path.write_text(to_markdown(doc), encoding="utf-8")
    return html_path, md_path
