"""Build the report document from the run's inputs: one function per section."""

from __future__ import annotations

import math

import pandas as pd

from arbscore.report import plots
from arbscore.report.document import Cell, Figure, Section, Table, fmt, text
from arbscore.report.inputs import DEFAULT_WINNER_METRIC, FamilyMetrics, ReportInputs, Stat
from arbscore.schema import HEADS

SYNTHETIC_BANNER = (
    "SYNTHETIC DATA: this run used generated market data, not real exchange history. "
    "Its numbers show that the pipeline works; they are not evidence about real markets."
)


def stat_cell(stat: Stat | None, key: tuple[str, str, str]) -> Cell:
    if stat is None:
        return Cell("–", None, key)
    if not _finite(stat.mean):
        spread = ""
    else:
        spread = f" ± {fmt(stat.std)}" if len(stat.folds) > 1 and _finite(stat.std) else ""
    folds = ", ".join(fmt(v) for v in stat.folds)
    return Cell(
        f"{fmt(stat.mean)}{spread}", stat.mean, key, title=f"per fold: {folds}" if folds else None
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
    best = _best_backtest(inp)
    if best:
        sec.blocks.append(best)
    return sec


def _net(m: FamilyMetrics) -> float | None:
    s = m.heads.get("backtest", {}).get("net_return")
    return s.mean if s is not None and _finite(s.mean) else None


def _flat(strategies: dict[str, FamilyMetrics]) -> list[str]:
    """Strategies that took no trade in any fold (they stayed flat)."""
    out = []
    for name, m in strategies.items():
        trades = m.heads.get("backtest", {}).get("trades")
        if trades is not None and _finite(trades.mean) and trades.mean == 0:
            out.append(name)
    return out


def _best_backtest(inp: ReportInputs) -> str | None:
    fams = [(f, _net(m)) for f, m in inp.metrics.families.items() if _net(m) is not None]
    if not fams:
        return None
    parts = [f"{b} {fmt(_net(m))}" for b, m in inp.metrics.baselines.items() if _net(m) is not None]
    base = f"baselines' net return: {', '.join(parts) or 'none reported'}."
    flat = _flat(inp.metrics.families)
    if len(flat) == len(inp.metrics.families):
        return (
            "Trading backtest: no family took a trade on the out-of-sample folds (their entry "
            f"rule kept every one flat); {base}"
        )
    fam, value = max(fams, key=lambda t: t[1])
    note = f" Stayed flat: {', '.join(flat)}." if flat else ""
    return f"Trading backtest: the best family by net return is {fam} ({fmt(value)}); {base}{note}"


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


def _last_test_end(folds: list[dict]) -> object:
    ends = [f.get("test_end") for f in folds if isinstance(f.get("test_end"), str)]
    try:
        return max(pd.Timestamp(e) for e in ends) if ends else None
    except ValueError:
        return None


def backtest(inp: ReportInputs) -> Section:
    m = inp.metrics
    sec = Section("Trading backtest against the baselines", "backtest")
    cfg = m.raw.get("config") if isinstance(m.raw.get("config"), dict) else {}
    rule = (
        f"top {cfg['top_k']} per snapshot, capital {fmt(cfg.get('capital_usd'))} USD in "
        f"positions of {fmt(cfg.get('position_usd'))} USD, "
        if "top_k" in cfg
        else "top-k per snapshot within a capital limit, "
    )
    sec.blocks.append(
        f"On each fold's test window: {rule}one position per symbol, held as predicted and "
        "realised with the simulated PnL; net_return is a fraction of capital. Baselines: "
        "rule_based (rank by fund_apr), persistence (fund_profit_3d_proj net of costs), oracle "
        "(best realised hold, an upper bound no model can reach). Staying flat is allowed."
    )
    strategies = {**m.families, **m.baselines}
    flat = _flat(strategies)
    if flat:
        sec.blocks.append(f"Took no trade in any fold: {', '.join(flat)}.")
    names = _metric_names(strategies, "backtest")
    if names:
        rows = [
            [text(s), text("baseline" if s in m.baselines else "family")]
            + [stat_cell(sm.heads.get("backtest", {}).get(k), (s, "backtest", k)) for k in names]
            for s, sm in strategies.items()
        ]
        sec.blocks.append(Table(["strategy", "kind"] + names, rows, "backtest"))
    if inp.equity is not None and len(inp.equity):
        sec.blocks.append(
            Figure(
                plots.equity_curves(
                    inp.equity, list(m.families), list(m.baselines), _last_test_end(m.folds)
                ),
                "equity",
                "Backtest equity curves of each family and the baselines",
            )
        )
    else:
        sec.blocks.append("No equity curves (evaluation/backtest_equity.parquet missing).")
    return sec
