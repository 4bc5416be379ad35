"""Build the report document from the run's inputs: one function per section."""

from __future__ import annotations

import json
import math

from arbscore.evaluation.performance import VERDICT_EDGE
from arbscore.report import plots
from arbscore.report.document import Cell, Figure, Section, Table, fmt, fmt_ci, fmt_pct, text
from arbscore.report.inputs import DEFAULT_WINNER_METRIC, FamilyMetrics, ReportInputs, Stat
from arbscore.schema import HEADS

SYNTHETIC_BANNER = (
    "SYNTHETIC DATA: this run used generated market data, not real exchange history. "
    "Its numbers show that the pipeline works; they are not evidence about real markets."
)


#: metrics stored as fractions (0..1) that every table shows as percent (x 100)
SHARE_METRICS = frozenset({"win_rate"})


def stat_cell(stat: Stat | None, key: tuple[str, str, str]) -> Cell:
    if stat is None:
        return Cell("–", None, key)
    scale = 100.0 if key[2] in SHARE_METRICS else 1.0
    if not _finite(stat.mean):
        spread = ""
    else:
        spread = f" ± {fmt(stat.std * scale)}" if len(stat.folds) > 1 and _finite(stat.std) else ""
    folds = ", ".join(fmt(v * scale) for v in stat.folds)
    return Cell(
        f"{fmt(stat.mean * scale)}{spread}",
        stat.mean,
        key,
        title=f"per fold: {folds}" if folds else None,
        scale=scale,
    )


def _finite(v: object) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)


def _when(value: object) -> str:
    """ISO times as '2025-01-21 12:31' (UTC); anything else as it is."""
    if isinstance(value, str) and len(value) >= 16 and value[4] == "-" and value[10] in "T ":
        return value[:10] + " " + value[11:16]
    return fmt(value) if isinstance(value, (int, float)) else str(value)


def _metric_names(strategies: dict[str, FamilyMetrics], head: str) -> list[str]:
    names: list[str] = []
    for m in strategies.values():
        names += [k for k in m.heads.get(head, {}) if k not in names]
    return names


WINNER_HEADERS = [
    "head",
    "winner",
    "judged by (out of sample, mean of folds)",
    "winner value",
    "runner-up",
    "runner-up value",
    "margin",
    "note",
]


def winner_note(w, short: bool = False) -> str:
    """Why the winner won: by how much, or a tie settled by the declared tie-break."""
    tol = f"{w.tie_tolerance:.0%}" if w.tie_tolerance is not None else ""
    if w.tied:
        if short:
            return f"tie (<{tol}): faster won"
        return f"tie within {tol}; decided by {w.tie_break or 'the tie-break'}"
    if w.margin is not None and w.runner_up_value:
        rel = abs(w.margin / w.runner_up_value)
        return f"{rel:.1%} better" + ("" if short else " than the runner-up")
    return ""


def headline(inp: ReportInputs) -> Section:
    sec = Section("Which family won each head", "winners")
    rows = []
    for w in inp.metrics.winners:
        better = "higher" if w.higher_is_better else "lower"
        rows.append(
            [
                text(w.head),
                text(w.family),
                text(f"{w.metric} ({better} is better)"),
                Cell(fmt(w.value), w.value, (w.family, w.head, w.metric)),
                text(w.runner_up or "–"),
                Cell(
                    fmt(w.runner_up_value),
                    w.runner_up_value,
                    (w.runner_up, w.head, w.metric) if w.runner_up else None,
                ),
                Cell(fmt(w.margin), w.margin),
                text(winner_note(w)),
            ]
        )
    declared = {w.head for w in inp.metrics.winners}
    missing = [h for h in HEADS if h not in declared]
    if rows:
        sec.blocks.append(Table(WINNER_HEADERS, rows, "winners"))
    if missing:
        sec.blocks.append(f"No winner for {', '.join(missing)} (no family has a finite value).")
    rec = inp.metrics.raw.get("recommended_family")
    if isinstance(rec, dict) and rec.get("family"):
        fam = rec["family"]
        differs = rec.get("differs_from_head_winners") or []
        line = (
            f"Recommended for trading: {fam}, the family with the best pooled annual return on "
            "capital (see the portfolio backtest)."
        )
        if differs:
            winners = ", ".join(
                f"{w.head} ({w.family})" for w in inp.metrics.winners if w.head in differs
            )
            line += (
                f" It differs from the per-head winner of {winners}: heads are judged by "
                "their error, trading value by the pooled backtest, and they disagree here."
            )
        else:
            line += " It is also every head's winner."
        sec.blocks.append(line)
    return sec


def data_used(inp: ReportInputs) -> Section:
    d = inp.data
    sec = Section("Data used", "data")
    kind = {
        True: "SYNTHETIC (generated)",
        False: "real exchange history",
        None: "unknown (no market.json / data_source column)",
    }[d.synthetic]
    sec.blocks.append(f"Kind: {kind}. Source: {d.source}.")
    rows = [
        ("kind", kind),
        ("source", d.source),
        ("rows (opportunity x hold)", fmt(d.rows)),
        ("opportunities", fmt(d.opportunities)),
        ("first entry", d.start or "–"),
        ("last entry", d.end or "–"),
        ("symbols", ", ".join(d.symbols) or "–"),
        ("exchanges", ", ".join(d.exchanges) or "–"),
        ("strategies", ", ".join(d.strategies) or "–"),
        ("holds (h)", ", ".join(map(str, d.holds)) or "–"),
        ("share of rows profitable", fmt(d.profitable_share)),
    ]
    sec.blocks.append(Table(["", ""], [[text(a), text(b)] for a, b in rows], "data"))
    return sec


def scheme(inp: ReportInputs) -> Section:
    m = inp.metrics
    sec = Section("Evaluation scheme", "scheme")
    purge = m.raw.get("purge_rule") or "training rows whose label window reaches the test start"
    embargo = m.raw.get("embargo_rule") or "training rows too close before the test start"
    sec.blocks.append(
        f"Scheme: {m.scheme}, {len(m.folds)} consecutive test windows. Purge "
        f"{fmt(m.purge_hours)} h ({purge}); embargo {fmt(m.embargo_hours)} h ({embargo}). "
        "Every number below is out of sample; there is no random split."
    )
    if m.folds:
        keys: list[str] = []
        for f in m.folds:
            keys += [
                k for k in f if k not in keys and k != "fold" and not isinstance(f[k], (dict, list))
            ]
        rows = [
            [text(str(i + 1))] + [text(_when(f.get(k, "–"))) for k in keys]
            for i, f in enumerate(m.folds)
        ]
        sec.blocks.append(Table(["fold"] + keys, rows, "folds", caption="Folds (times in UTC)"))
    return sec


def head_metrics(inp: ReportInputs) -> Section:
    m = inp.metrics
    sec = Section("Out-of-sample metrics per head", "metrics")
    sec.blocks.append(
        "Each cell: mean across folds ± standard deviation across folds "
        "(hover for the per-fold values)."
    )
    panels = []
    for head in HEADS:
        names = _metric_names(m.families, head)
        if not names:
            continue
        rows = [
            [text(f)] + [stat_cell(fm.heads.get(head, {}).get(k), (f, head, k)) for k in names]
            for f, fm in m.families.items()
        ]
        sec.blocks.append(Table(["family"] + names, rows, f"metrics-{head}", caption=head))
        metric = next(
            (w.metric for w in m.winners if w.head == head), DEFAULT_WINNER_METRIC[head][0]
        )
        if metric in names:
            panels.append((head, metric))
            n = max(
                len(fm.heads.get(head, {}).get(metric, Stat(0)).folds) for fm in m.families.values()
            )
            if n > 1:
                per = [
                    [text(f)]
                    + [
                        Cell(fmt(s.folds[i]), s.folds[i], None)
                        if s and i < len(s.folds)
                        else text("–")
                        for i in range(n)
                    ]
                    for f, fm in m.families.items()
                    for s in [fm.heads.get(head, {}).get(metric)]
                ]
                sec.blocks.append(
                    Table(
                        ["family"] + [f"fold {i + 1}" for i in range(n)],
                        per,
                        f"folds-{head}",
                        caption=f"{head}: {metric} per fold",
                    )
                )
    if panels:
        sec.blocks.append(
            Figure(
                plots.metric_bars(m, panels),
                "metrics",
                "Winner metric per head: mean per family, fold range",
            )
        )
    return sec


def shipped_heads(manifest: dict) -> dict[str, object]:
    """head -> family of a bundle's manifest (its ``strategy.heads``, else each head's entry)."""
    strategy = manifest.get("strategy") or {}
    heads = manifest.get("heads") or {}
    return strategy.get("heads") or {h: e.get("family") for h, e in heads.items()}


def shipped_name(manifest: dict) -> str:
    """The strategy a bundle ships: its ``strategy.name``, else its heads' families joined
    (a bundle older than the shipped-strategy terms)."""
    by_head = shipped_heads(manifest)
    return (manifest.get("strategy") or {}).get("name") or "+".join(
        str(by_head.get(h)) for h in HEADS
    )


def shipped(inp: ReportInputs) -> Section | None:
    """The report's first sentence: the strategy the run's bundle ships and its backtest
    verdict (from ``bundle/manifest.json``'s ``strategy``); None without a bundle."""
    path = inp.workdir / "bundle" / "manifest.json"
    if not path.is_file():
        return None
    manifest = json.loads(path.read_text(encoding="utf-8"))
    strategy = manifest.get("strategy") or {}
    by_head = shipped_heads(manifest)
    name = shipped_name(manifest)
    parts = ", ".join(f"{h}: {by_head.get(h)}" for h in HEADS)
    verdict = strategy.get("verdict")
    sec = Section("What this run ships", "shipped")
    if verdict is None:
        sec.blocks.append(
            f"This run ships {name} ({parts}), a strategy no book in this run traded: there is "
            "not enough evidence to trade it."
        )
        return sec
    line = (
        f"This run ships {name} ({parts}), backtested as one strategy: against "
        f"{strategy.get('rule')}, "
        f'the best rule, its verdict is "{verdict}"'
    )
    vs = strategy.get("vs_rule") or {}
    if vs.get("diff_ci95"):
        line += (
            f" (difference {fmt_pct(vs.get('diff_annual_return_pct'))} a year, 95 % CI "
            f"{fmt_ci(vs.get('diff_ci95'))})"
        )
    edge = verdict == VERDICT_EDGE
    line += "." if edge else "; there is not enough evidence to trade it."
    sec.blocks.append(line)
    if strategy.get("sentence"):
        sec.blocks.append(strategy["sentence"])
    return sec
