"""Build the report document from the run's inputs: one function per section."""

from __future__ import annotations

import datetime as dt

from arbscore.report import plots
from arbscore.report.document import Cell, Document, Figure, Section, Table, fmt, text
from arbscore.report.inputs import DEFAULT_WINNER_METRIC, FamilyMetrics, ReportInputs, Stat
from arbscore.schema import HEADS

SYNTHETIC_BANNER = (
    "SYNTHETIC DATA: this run used generated market data, not real exchange history. "
    "Its numbers show that the pipeline works; they are not evidence about real markets."
)


def _stat_cell(stat: Stat | None, key: tuple[str, str, str]) -> Cell:
    if stat is None:
        return Cell("–", None, key)
    spread = f" ± {fmt(stat.std)}" if len(stat.folds) > 1 else ""
    folds = ", ".join(fmt(v) for v in stat.folds)
    return Cell(
        f"{fmt(stat.mean)}{spread}", stat.mean, key, title=f"per fold: {folds}" if folds else None
    )


def _metric_names(strategies: dict[str, FamilyMetrics], head: str) -> list[str]:
    names: list[str] = []
    for m in strategies.values():
        names += [k for k in m.heads.get(head, {}) if k not in names]
    return names


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
            ]
        )
    if rows:
        sec.blocks.append(
            Table(
                [
                    "head",
                    "winner",
                    "judged by (out of sample, mean of folds)",
                    "winner value",
                    "runner-up",
                    "runner-up value",
                    "margin",
                ],
                rows,
                "winners",
            )
        )
    else:
        sec.blocks.append("metrics.json declares no winner.")
    best = _best_backtest(inp)
    if best:
        sec.blocks.append(best)
    return sec


def _best_backtest(inp: ReportInputs) -> str | None:
    def net(m: FamilyMetrics) -> float | None:
        s = m.heads.get("backtest", {}).get("net_return")
        return s.mean if s else None

    fams = [(f, net(m)) for f, m in inp.metrics.families.items() if net(m) is not None]
    if not fams:
        return None
    fam, value = max(fams, key=lambda t: t[1])
    parts = [f"{b} {fmt(net(m))}" for b, m in inp.metrics.baselines.items() if net(m) is not None]
    return (
        f"Trading backtest: the best family by net return is {fam} ({fmt(value)}); "
        f"baselines: {', '.join(parts) or 'none reported'}."
    )


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
    sec.blocks.append(
        f"Scheme: {m.scheme}; {len(m.folds)} folds; purge {fmt(m.purge_hours)} h (training rows "
        "whose label window reaches the test start are dropped); "
        f"embargo {fmt(m.embargo_hours)} h. "
        "Every number below is out of sample; there is no random split."
    )
    if m.folds:
        keys: list[str] = []
        for f in m.folds:
            keys += [k for k in f if k not in keys and not isinstance(f[k], (dict, list))]
        rows = [
            [text(str(i + 1))]
            + [
                text(fmt(f.get(k)) if isinstance(f.get(k), (int, float)) else str(f.get(k, "–")))
                for k in keys
            ]
            for i, f in enumerate(m.folds)
        ]
        sec.blocks.append(Table(["fold"] + keys, rows, "folds"))
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
            [text(f)] + [_stat_cell(fm.heads.get(head, {}).get(k), (f, head, k)) for k in names]
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


def backtest(inp: ReportInputs) -> Section:
    m = inp.metrics
    sec = Section("Trading backtest against the baselines", "backtest")
    sec.blocks.append(
        "Top-k opportunities per snapshot (one per symbol, capital limit), held as "
        "predicted, realised with the simulated PnL. Baselines: rule-based (rank by "
        "fund_apr), persistence (fund_profit_3d_proj net of costs), oracle (best "
        "realised, an upper bound)."
    )
    strategies = {**m.families, **m.baselines}
    names = _metric_names(strategies, "backtest")
    if names:
        rows = [
            [text(s), text("baseline" if s in m.baselines else "family")]
            + [_stat_cell(sm.heads.get("backtest", {}).get(k), (s, "backtest", k)) for k in names]
            for s, sm in strategies.items()
        ]
        sec.blocks.append(Table(["strategy", "kind"] + names, rows, "backtest"))
    if inp.equity is not None and len(inp.equity):
        sec.blocks.append(
            Figure(
                plots.equity_curves(inp.equity, list(m.families), list(m.baselines)),
                "equity",
                "Backtest equity curves of each family and the baselines",
            )
        )
    else:
        sec.blocks.append("No equity curves (evaluation/backtest_equity.parquet missing).")
    return sec


def calibration(inp: ReportInputs) -> Section:
    sec = Section("Calibration of the success probability", "calibration")
    fams = {f: fm for f, fm in inp.metrics.families.items() if fm.calibration is not None}
    if not fams:
        sec.blocks.append("metrics.json holds no calibration table.")
        return sec
    sec.blocks.append(
        Figure(plots.calibration(fams), "calibration", "Reliability diagram of the success head")
    )
    n_bins = max(len(fm.calibration.predicted) for fm in fams.values())
    headers = ["bin"] + [f"{f} {c}" for f in fams for c in ("predicted", "observed", "rows")]
    rows = []
    for i in range(n_bins):
        row = [text(str(i + 1))]
        for f, fm in fams.items():
            cal = fm.calibration
            if i < len(cal.predicted):
                row += [
                    Cell(fmt(cal.predicted[i]), cal.predicted[i], (f, "calibration", "predicted")),
                    Cell(fmt(cal.observed[i]), cal.observed[i], (f, "calibration", "observed")),
                    Cell(fmt(int(cal.count[i])), cal.count[i], (f, "calibration", "rows")),
                ]
            else:
                row += [text("–")] * 3
        rows.append(row)
    sec.blocks.append(
        Table(
            headers,
            rows,
            "calibration",
            caption="Reliability table (mean predicted vs observed share, per bin)",
        )
    )
    return sec


def importance(inp: ReportInputs) -> Section:
    sec = Section("Feature importance", "importance")
    if not inp.importance:
        sec.blocks.append("No feature importance (evaluation/feature_importance.json missing).")
        return sec
    sec.blocks.append("Top features per family and head, normalised to sum to 1 per panel.")
    sec.blocks.append(
        Figure(
            plots.feature_importance(inp.importance),
            "importance",
            "Feature importance per family and head",
        )
    )
    return sec


def _timing_key(keys: list[str], words: tuple[str, ...]) -> str | None:
    return next((k for k in keys if any(w in k for w in words)), None)


def timing(inp: ReportInputs) -> Section:
    sec = Section("Training time and inference latency", "timing")
    fams = inp.metrics.families
    keys: list[str] = []
    for fm in fams.values():
        keys += [k for k in fm.timing if k not in keys]
    if not keys:
        sec.blocks.append("metrics.json holds no timings.")
        return sec
    rows = [
        [text(f)] + [Cell(fmt(fm.timing.get(k)), fm.timing.get(k), (f, "timing", k)) for k in keys]
        for f, fm in fams.items()
    ]
    sec.blocks.append(Table(["family"] + keys, rows, "timing"))
    tk = _timing_key(keys, ("train", "fit"))
    lk = _timing_key(keys, ("latency", "predict", "inference"))
    if tk and lk:
        sec.blocks.append(
            Figure(
                plots.timing_bars(
                    [(f, fm.timing.get(tk), fm.timing.get(lk)) for f, fm in fams.items()], tk, lk
                ),
                "timing",
                "Training time and inference latency per family",
            )
        )
    return sec


def benchmarks(inp: ReportInputs) -> Section | None:
    b = inp.benchmarks
    if not b:
        return None
    sec = Section("Benchmarks", "benchmarks")
    machine = b.get("machine")
    if machine:
        sec.blocks.append("Machine: " + ", ".join(f"{k} {v}" for k, v in machine.items()) + ".")
    for name, entry in (b.get("scripts") or {}).items():
        result = entry.get("result") or {}
        cmd = entry.get("command", name)
        if entry.get("error"):
            sec.blocks.append(f"{name}: failed ({entry['error']}); command: {cmd}")
            continue
        rows = [
            [
                text(k),
                Cell(
                    fmt(v) if isinstance(v, (int, float)) else str(v),
                    v if isinstance(v, (int, float)) else None,
                    (name, "benchmark", k),
                ),
            ]
            for k, v in result.items()
        ]
        wall = entry.get("wall_seconds")
        caption = f"{name}: `{cmd}`" + (f" ({fmt(wall)} s wall)" if wall is not None else "")
        sec.blocks.append(Table(["figure", "value"], rows, f"benchmark-{name}", caption=caption))
    return sec


def reproduce(inp: ReportInputs) -> Section:
    sec = Section("Reproduce", "reproduce")
    cmd = inp.command or f"arbscore run --workdir {inp.workdir}"
    sec.blocks.append(Table(["command"], [[text(cmd)]], "command"))
    if inp.missing:
        sec.blocks.append(
            "Artefacts not found in the run directory: " + ", ".join(inp.missing) + "."
        )
    return sec


def build_document(inp: ReportInputs) -> Document:
    """All sections in reading order: the answer first, then the evidence."""
    sections = [
        headline(inp),
        data_used(inp),
        scheme(inp),
        head_metrics(inp),
        backtest(inp),
        calibration(inp),
        importance(inp),
        timing(inp),
    ]
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
