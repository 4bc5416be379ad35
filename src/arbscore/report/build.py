"""``build_report(workdir)``: read the run directory, write report.html and report.md."""

from __future__ import annotations

from pathlib import Path

from arbscore.report.document import Figure
from arbscore.report.inputs import load_inputs
from arbscore.report.render import to_html, to_markdown
from arbscore.report.sections import build_document


def build_report(workdir: Path | str, out_dir: Path | str | None = None) -> tuple[Path, Path]:
    """Write ``<workdir>/report/report.html`` (self-contained) and ``report.md``.

    The Markdown links the same figures, written as PNG files under ``report/figures/``.
    Returns ``(html_path, md_path)``. Raises ``FileNotFoundError`` when metrics.json is absent.
    """
    workdir = Path(workdir)
    out = Path(out_dir) if out_dir is not None else workdir / "report"
    doc = build_document(load_inputs(workdir))
    figures = out / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    for section in doc.sections:
        for block in section.blocks:
            if isinstance(block, Figure):
                (figures / f"{block.name}.png").write_bytes(block.png)
    html_path, md_path = out / "report.html", out / "report.md"
    html_path.write_text(to_html(doc), encoding="utf-8")
    md_path.write_text(to_markdown(doc), encoding="utf-8")
    return html_path, md_path
