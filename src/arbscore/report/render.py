"""Render the report document as one self-contained HTML page and as Markdown."""

from __future__ import annotations

import base64
import html

from arbscore.report.document import Callout, Document, Figure, Table

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1320px;
color:#1d2330;padding:0 1em}
h1{margin-bottom:.2em} .sub{color:#667;margin-top:0}
.banner{background:#b3261e;color:#fff;font-weight:700;padding:.8em 1em;border-radius:6px;
margin:1em 0;font-size:1.05em}
nav a{margin-right:1em;font-size:.9em}
section{margin-top:2.2em;border-top:1px solid #dde;padding-top:.6em}
.wide{max-width:100%;overflow-x:auto}
table{border-collapse:collapse;margin:.8em 0;font-size:.85em}
th,td{border:1px solid #d5d9e2;padding:.25em .45em;text-align:left}
th{font-weight:600;vertical-align:bottom}
.warning{background:#fff4d6;border-left:6px solid #c77700;padding:.6em 1em;margin:.8em 0;
font-weight:600}
th{background:#f1f3f8} td.num{text-align:right;font-variant-numeric:tabular-nums}
caption{caption-side:top;text-align:left;font-weight:600;padding:.3em 0}
img{max-width:100%;display:block;margin:.8em 0;border:1px solid #eef}
code{background:#f1f3f8;padding:.1em .3em}
"""


def _table_html(t: Table) -> str:
    out = [
        '<div class="wide">'
        f'<table id="table-{html.escape(t.name)}" data-table="{html.escape(t.name)}">'
    ]
    if t.caption:
        out.append(f"<caption>{html.escape(t.caption)}</caption>")
    out.append(
        "<thead><tr>"
        + "".join(f"<th>{html.escape(h)}</th>" for h in t.headers)
        + "</tr></thead><tbody>"
    )
    for row in t.rows:
        cells = []
        for c in row:
            attrs = ""
            if c.value is not None:
                attrs += f' class="num" data-value="{c.value!r}"'
            if c.key is not None:
                s, h, m = (html.escape(str(x)) for x in c.key)
                attrs += f' data-strategy="{s}" data-head="{h}" data-metric="{m}"'
            if c.title:
                attrs += f' title="{html.escape(c.title)}"'
            if c.scale != 1.0:
                attrs += f' data-scale="{c.scale!r}"'
            cells.append(f"<td{attrs}>{html.escape(c.text)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table></div>")
    return "\n".join(out)


def to_html(doc: Document) -> str:
    """One file, no external resources: figures are inlined as base64 PNG."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(doc.title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(doc.title)}</h1>",
        f'<p class="sub">{html.escape(doc.subtitle)}</p>',
    ]
    if doc.banner:
        parts.append(f'<div class="banner" id="synthetic-banner">{html.escape(doc.banner)}</div>')
    parts.append(
        "<nav>"
        + "".join(f'<a href="#{s.anchor}">{html.escape(s.title)}</a>' for s in doc.sections)
        + "</nav>"
    )
    for s in doc.sections:
        parts.append(f'<section id="{s.anchor}"><h2>{html.escape(s.title)}</h2>')
        for b in s.blocks:
            if isinstance(b, Table):
                parts.append(_table_html(b))
            elif isinstance(b, Callout):
                parts.append(
                    f'<div class="warning" id="{html.escape(b.name)}">{html.escape(b.text)}</div>'
                )
            elif isinstance(b, Figure):
                data = base64.b64encode(b.png).decode("ascii")
                parts.append(
                    f'<img id="fig-{b.name}" alt="{html.escape(b.alt)}" '
                    f'src="data:image/png;base64,{data}">'
                )
            else:
                parts.append(f"<p>{html.escape(b)}</p>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _md_escape(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def _table_md(t: Table) -> str:
    lines = []
    if t.caption:
        lines.append(f"**{_md_escape(t.caption)}**\n")
    headers = [h or " " for h in t.headers]
    lines.append("| " + " | ".join(_md_escape(h) for h in headers) + " |")
    numeric = [
        bool(t.rows)
        and all(
            i < len(r) and r[i].value is not None or i < len(r) and r[i].text == "–" for r in t.rows
        )
        for i in range(len(headers))
    ]
    lines.append("|" + "|".join("--:" if n else ":--" for n in numeric) + "|")
    for row in t.rows:
        lines.append("| " + " | ".join(_md_escape(c.text) for c in row) + " |")
    return "\n".join(lines)


def to_markdown(doc: Document, figure_dir: str = "figures") -> str:
    """Markdown with the same tables; figures linked as PNG files under ``figure_dir``."""
    parts = [f"# {doc.title}", "", f"_{doc.subtitle}_", ""]
    if doc.banner:
        parts += [f"> **{doc.banner}**", ""]
    for s in doc.sections:
        parts += [f"## {s.title}", ""]
        for b in s.blocks:
            if isinstance(b, Table):
                parts += [_table_md(b), ""]
            elif isinstance(b, Callout):
                parts += [f"> **Warning:** {_md_escape(b.text)}", ""]
            elif isinstance(b, Figure):
                parts += [f"![{b.alt}]({figure_dir}/{b.name}.png)", ""]
            else:
                parts += [b, ""]
    return "\n".join(parts)
