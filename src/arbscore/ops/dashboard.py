"""The ``/dashboard`` page: live opportunities and their scores, accuracy over time, drift, and
the paper A/B equity curves. One self-contained HTML document (inline CSS, SVG and a few lines of
JS for sorting and auto-refresh): no CDN, nothing fetched, so it works on an offline box.

``render_dashboard(data)`` is pure (dict in, HTML out); ``ops.service`` gathers the data.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e")
LEVEL_COLOUR = {"ok": "#2ca02c", "warn": "#e6a100", "alert": "#d62728", "n/a": "#888"}
#: the paper A/B metrics that ``evaluation.backtest`` gives as fractions of 1
PAPER_FRACTIONS = ("net_return", "win_rate", "max_drawdown")


LEFT_COLUMNS = ("symbol", "strategy", "legs", "feature", "head", "level", "model", "period")
HOUR_MS = 3_600_000

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;
  background:#f6f7f9;color:#1d232b}
header{background:#1d232b;color:#fff;padding:12px 24px;display:flex;gap:24px;
  align-items:baseline}
header h1{font-size:20px;margin:0} header span{opacity:.8;font-size:13px}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:16px;
  padding:16px 24px}
section{background:#fff;border-radius:8px;padding:12px 16px;
  box-shadow:0 1px 3px rgba(0,0,0,.12)}
section h2{font-size:16px;margin:4px 0 10px}
table{border-collapse:collapse;width:100%;font-size:12.5px}
th,td{padding:4px 6px;border-bottom:1px solid #e4e7eb;text-align:right;white-space:nowrap}
th{cursor:pointer;background:#f0f2f5;position:sticky;top:0} td.l,th.l{text-align:left}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px}
.muted{color:#6b7480;font-size:12.5px} .statement{font-weight:600;margin:8px 0}
.scroll{max-height:360px;overflow:auto} #live{grid-column:1/-1}
"""

JS = """
document.querySelectorAll('table.sortable th').forEach(function(th, i){
  th.addEventListener('click', function(){
    var tb = th.closest('table').tBodies[0], rows = Array.from(tb.rows);
    var asc = th.dataset.asc !== '1'; th.dataset.asc = asc ? '1' : '0';
    var key = function(r){ return r.cells[i].dataset.v || r.cells[i].textContent; };
    rows.sort(function(a, b){
      var x = key(a), y = key(b), nx = parseFloat(x), ny = parseFloat(y);
      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
      return asc ? c : -c;
    });
    rows.forEach(function(r){ tb.appendChild(r); });
  });
});
var box = document.getElementById('autorefresh');
if (box) { box.checked = location.hash === '#auto';
  box.addEventListener('change', function(){ location.hash = box.checked ? 'auto' : ''; });
  setInterval(function(){ if (box.checked) location.reload(); }, 60000); }
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


def _num(value: Any, fmt: str = "{:.3f}") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return fmt.format(value)


def _section(sid: str, title: str, body: str, badge: str | None = None) -> str:
    tag = ""
    if badge is not None:
        colour = LEVEL_COLOUR.get(badge, "#888")
        tag = f' <span class="badge" style="background:{colour}">{_e(badge)}</span>'
    return f'<section id="{sid}"><h2>{_e(title)}{tag}</h2>{body}</section>'


def _note(text: str) -> str:
    return f'<p class="muted">{text}</p>'


def line_chart(
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    *,
    width: int = 540,
    height: int = 220,
    y_label: str = "",
    x_is_time: bool = True,
) -> str:
    """An inline SVG line chart; x in epoch ms when ``x_is_time``. Empty series -> a note."""
    pts = {k: (np.asarray(x, float), np.asarray(y, float)) for k, (x, y) in series.items()}
    pts = {k: (x[np.isfinite(y)], y[np.isfinite(y)]) for k, (x, y) in pts.items()}
    pts = {k: v for k, v in pts.items() if v[0].size}
    if not pts:
        return '<p class="muted">no data yet</p>'
    xs = np.concatenate([x for x, _ in pts.values()])
    ys = np.concatenate([y for _, y in pts.values()])
    x0, x1 = float(xs.min()), float(xs.max())
    y0, y1 = float(ys.min()), float(ys.max())
    if x1 == x0:  # one point: an hour either side (or one unit)
        half = HOUR_MS if x_is_time else 1.0
        x0, x1 = x0 - half, x1 + half
    pad = (y1 - y0) * 0.08 or abs(y1) * 0.05 or 1.0
    y0, y1 = y0 - pad, y1 + pad
    L, R, T, B = 58, 10, 10, 28
    sx = lambda v: L + (v - x0) / (x1 - x0) * (width - L - R)  # noqa: E731
    sy = lambda v: T + (y1 - v) / (y1 - y0) * (height - T - B)  # noqa: E731
    out = [
        f'<svg role="img" aria-label="{_e(y_label)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for k in range(5):
        v = y0 + (y1 - y0) * k / 4
        y = sy(v)
        out.append(f'<line x1="{L}" x2="{width - R}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e4e7eb"/>')
        out.append(f'<text x="{L - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">')
        out.append(f"{v:.4g}</text>")
    for k in range(4):
        v = x0 + (x1 - x0) * k / 3
        label = (
            np.datetime_as_string(np.datetime64(int(v), "ms"), unit="m").replace("T", " ")[5:]
            if x_is_time
            else f"{v:.4g}"
        )
        anchor = ("start", "middle", "middle", "end")[k]  # keep the end labels inside
        out.append(f'<text x="{sx(v):.1f}" y="{height - 8}" font-size="10" text-anchor="{anchor}">')
        out.append(f"{label}</text>")
    for i, (name, (x, y)) in enumerate(pts.items()):
        colour = COLOURS[i % len(COLOURS)]
        path = " ".join(f"{sx(a):.1f},{sy(b):.1f}" for a, b in zip(x, y, strict=True))
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}">')
        out.append(f"<title>{_e(name)}</title></polyline>")
        if x.size == 1:
            out.append(f'<circle cx="{sx(x[0]):.1f}" cy="{sy(y[0]):.1f}" r="3" fill="{colour}"/>')
        out.append(
            f'<rect x="{L + 8 + 150 * i}" y="{T + 2}" width="12" height="4" fill="{colour}"/>'
            f'<text x="{L + 24 + 150 * i}" y="{T + 8}" font-size="11">{_e(name)}</text>'
        )
    mid = f"{height / 2:.0f}"
    out.append(f'<text x="12" y="{mid}" font-size="10" transform="rotate(-90 12 {mid})" ')
    out.append(f'text-anchor="middle">{_e(y_label)}</text></svg>')
    return "".join(out)


def _table(
    columns: Sequence[tuple[str, str]], rows: Sequence[Mapping[str, Any]], cls: str = ""
) -> str:
    head = "".join(
        f'<th class="{"l" if c in LEFT_COLUMNS else ""}">{_e(t)}</th>' for c, t in columns
    )
    body = []
    for row in rows:
        cells = []
        for c, _ in columns:
            v = row.get(c)
            if isinstance(v, float):
                cells.append(f'<td data-v="{v if math.isfinite(v) else ""}">{_num(v)}</td>')
            elif c == "level":
                colour = LEVEL_COLOUR.get(str(v), "#888")
                badge = f'<span class="badge" style="background:{colour}">{_e(v)}</span>'
                cells.append(f'<td class="l">{badge}</td>')
            else:
                cells.append(f'<td class="l">{_e("" if v is None else v)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table class="sortable {cls}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _live(data: Mapping[str, Any]) -> str:
    live = data.get("live") or {}
    rows = live.get("rows") or []
    if not rows:
        note = "no live snapshots in the store yet: run <code>arbscore live</code>"
        return _section("live", "Live opportunities", _note(note))
    cols = [
        ("symbol", "symbol"),
        ("strategy", "strategy"),
        ("legs", "legs"),
        ("fund_apr", "APR %"),
        ("break_even_hours", "break-even h"),
        ("predicted_profit_pct", "pred. profit %"),
        ("success_probability", "P(profit)"),
        ("predicted_hold_hours", "hold h"),
        ("composite_score", "score"),
    ]
    info = (
        f"slot {_e(live.get('slot'))} · {live.get('count', len(rows))} candidates · "
        f"model {_e(data.get('model_version'))}"
    )
    body = _note(info) + f'<div class="scroll">{_table(cols, rows)}</div>'
    return _section("live", "Live opportunities", body)


def _accuracy(data: Mapping[str, Any]) -> str:
    acc = data.get("accuracy") or []
    if not acc:
        note = "no realised outcomes yet (hold windows still open)"
        return _section("accuracy", "Accuracy over time", _note(note))
    t = [a["period_ms"] for a in acc]
    charts = "".join(
        f"<h3 class=muted>{title}</h3>"
        + line_chart({title: (t, [a[key] for a in acc])}, height=150, y_label=unit)
        for key, title, unit in (
            ("profit_mae", "profit MAE", "% pts"),
            ("success_brier", "success Brier", "Brier"),
            ("duration_mae_hours", "duration MAE", "hours"),
        )
    )
    cols = [
        ("period", "period"),
        ("model", "model"),
        ("predictions", "predictions"),
        ("realised", "realised"),
        ("profit_mae", "profit MAE"),
        ("success_brier", "Brier"),
        ("success_accuracy", "accuracy"),
        ("duration_mae_hours", "duration MAE h"),
    ]
    rows = [
        {**a, "predictions": str(a["predictions"]), "realised": str(a["realised"])} for a in acc
    ]
    body = charts + f'<div class="scroll">{_table(cols, rows)}</div>'
    return _section("accuracy", "Accuracy over time", body)


def _drift(data: Mapping[str, Any]) -> str:
    drift = data.get("drift")
    if not drift:
        note = data.get("drift_note") or "not enough scored rows yet"
        return _section("drift", "Drift", _note(_e(note)))
    th = drift["thresholds"]
    rows = [
        {"feature": k, "psi": v, "level": drift["levels"][k]} for k, v in drift["features"].items()
    ]
    rows.sort(key=lambda r: -(r["psi"] if r["psi"] is not None else -1))
    preds = [
        {"head": k, "psi": v, "level": drift["levels"].get(f"head:{k}", "n/a")}
        for k, v in drift["predictions"].items()
    ]
    info = (
        f"PSI vs the bundle's training reference over the last {drift['rows']} scored rows; "
        f"warn ≥ {th['warn_psi']}, alert ≥ {th['alert_psi']}"
    )
    level = [("psi", "PSI"), ("level", "level")]
    body = (
        _note(_e(info))
        + _table([("head", "prediction"), *level], preds)
        + f'<div class="scroll">{_table([("feature", "feature"), *level], rows)}</div>'
    )
    return _section("drift", "Drift", body, badge=drift["status"])


def _paper(data: Mapping[str, Any]) -> str:
    paper = data.get("paper")
    if not paper:
        note = data.get("paper_note") or "not enough live data yet"
        return _section("paper", "Paper trading A/B", _note(_e(note)))
    names = {"ml": "ML scorer", "rule_based": "rule-based"}
    chart = line_chart(
        {names[k]: (c["time_ms"], c["equity"]) for k, c in paper["equity"].items()},
        y_label="equity (x capital)",
    )
    rows = [
        {"strategy": names[k], **{m: m_v for m, m_v in v.items()}}
        for k, v in paper["strategies"].items()
    ]
    for r in rows:
        r["trades"] = str(int(r.get("trades") or 0))
        for k in PAPER_FRACTIONS:  # fractions shown as percent, like every other table
            if isinstance(r.get(k), float):
                r[k] = r[k] * 100.0
    cols = [
        ("strategy", "strategy"),
        ("net_return", "net return, % of capital"),
        ("win_rate", "win rate %"),
        ("sharpe", "Sharpe"),
        ("max_drawdown", "max drawdown, % of capital"),
        ("trades", "trades"),
    ]
    d = paper["difference"]
    info = (
        f"{_e(paper['start'])} → {_e(paper['end'])} · same capital and rules · "
        f"{paper['candidates']} candidates"
    )
    body = _note(info) + chart + _table(cols, rows)
    body += f'<p class="statement">{_e(d["statement"])}</p>'
    return _section("paper", "Paper trading A/B", body)


def render_dashboard(data: Mapping[str, Any]) -> str:
    """The whole page from the dict ``ops.service.OpsService.dashboard_data`` builds."""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>arbscore dashboard</title><style>{CSS}</style></head><body>"
        f"<header><h1>arbscore operations</h1><span>model {_e(data.get('model_version'))}</span>"
        f"<span>generated {_e(data.get('generated_at'))}</span>"
        "<label><input type=checkbox id=autorefresh> auto-refresh</label></header><main>"
        f"{_live(data)}{_paper(data)}{_accuracy(data)}{_drift(data)}</main><script>{JS}</script></body></html>"
    )
