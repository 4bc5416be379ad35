"""Report sections on trading value: the answer, the pooled portfolio backtest, costs, trades,
splits by strategy kind and symbol. Every number comes from metrics.json's ``backtest`` block
(or the trades file the harness wrote beside it)."""

from __future__ import annotations

from arbscore.evaluation.verdict import verdict_sentence
from arbscore.report import plots
from arbscore.report.document import (
    Cell,
    Figure,
    Section,
    Table,
    fmt,
    fmt_ci,
    fmt_pct,
    fmt_ratio,
    fmt_ratio_ci,
    fmt_share_pct,
    text,
)
from arbscore.report.inputs import ReportInputs

#: the verdict of a metrics.json older than #24 (``vs_rule`` only), as the answer says it
VERDICT_WORDS = {
    "edge": "evidence of an edge over the rule",
    "worse than the rule": "it does worse than the rule",
    "no evidence of an edge": "no evidence of an edge",
}


def backtest_block(inp: ReportInputs) -> dict | None:
    bt = inp.metrics.raw.get("backtest")
    return bt if isinstance(bt, dict) and isinstance(bt.get("pooled"), dict) else None


def _day(iso: object) -> str:
    return str(iso)[:10] if iso else "?"


def answer_sentence(bt: dict) -> str | None:
    """One sentence with the numbers: strategy, annual return on capital with its interval,
    the rule, the difference with its interval, and the verdict in words."""
    fam = bt.get("recommended_family")
    pooled = bt["pooled"]
    if not fam or fam not in pooled:
        return None
    p = pooled[fam]
    span = bt.get("span") or {}
    made = "made" if p.get("trades") else "stayed flat (no trade passed its entry rule) and made"
    head = (
        f"{fam} {made} {fmt_pct(p.get('annual_return_pct'))} a year on capital "
        f"(95 % CI {fmt_ci(p.get('annual_return_ci95'))}) out of sample from "
        f"{_day(span.get('start'))} to {_day(span.get('end'))}"
    )
    rule = bt.get("rule")
    vs = (bt.get("vs_rule") or {}).get(fam)
    if not rule or not vs or rule not in pooled:
        return head + "; no rule baseline to compare it with."
    r = pooled[rule]
    if bt.get("versus"):  # the verdict itself is verdict_sentence's, as on the console
        return (
            f"{head}, against {fmt_pct(r.get('annual_return_pct'))} "
            f"(95 % CI {fmt_ci(r.get('annual_return_ci95'))}) for {rule}, the best rule."
        )
    return (
        f"{head}, against {fmt_pct(r.get('annual_return_pct'))} "
        f"(95 % CI {fmt_ci(r.get('annual_return_ci95'))}) for {rule}, the best rule: "
        f"a difference of {fmt_pct(vs.get('diff_annual_return_pct'))} a year "
        f"(95 % CI {fmt_ci(vs.get('diff_ci95'))}), "
        f"{VERDICT_WORDS.get(vs.get('verdict'), vs.get('verdict'))}."
    )


def absolute_note(bt: dict) -> str | None:
    """The second half of the answer: whether the recommended strategy's OWN return is told
    apart from zero (beating a losing rule is not making money)."""
    fam = bt.get("recommended_family")
    p = (bt.get("pooled") or {}).get(fam) or {}
    ci = p.get("annual_return_ci95")
    if not fam or not isinstance(ci, list | tuple) or len(ci) != 2 or None in ci:
        return None
    lo, hi = float(ci[0]), float(ci[1])
    if lo > 0:
        return f"On its own, {fam}'s return is above zero: its 95 % interval lies above 0."
    if hi < 0:
        return f"On its own, {fam} loses money: its 95 % interval lies below 0."
    return (
        f"On its own, {fam}'s return is not distinguishable from zero: its 95 % interval "
        "holds 0, so there is no evidence that it makes money."
    )


def answer(inp: ReportInputs) -> Section:
    sec = Section("The answer: will it make money, and how sure are we?", "answer")
    bt = backtest_block(inp)
    sentence = answer_sentence(bt) if bt else None
    if sentence is None:
        sec.blocks.append(
            "metrics.json has no pooled portfolio backtest (a harness older than issue 12): "
            "no statement about trading value can be made from it."
        )
        return sec
    sec.blocks.append(sentence)
    fam = bt.get("recommended_family")
    families = [fam] + [f for f in (bt.get("versus") or {}) if f != fam]
    for f in families:
        said = verdict_sentence(bt, f)
        if said:
            sec.blocks.append(said)
    note = absolute_note(bt)
    if note:
        sec.blocks.append(note)
    boot = bt.get("bootstrap") or {}
    block = boot.get("block_days", "?")
    block = f"blocks of {block} days" if isinstance(block, int | float) else f"mean block: {block}"
    sec.blocks.append(
        f"Intervals: {boot.get('method', 'block bootstrap')}, {block}, "
        f"{boot.get('samples', '?')} draws (seed "
        f"{boot.get('seed', '?')}); the difference resamples the same days for both. "
        "An interval that holds 0 means the data cannot tell the strategy from nothing"
        + (
            f"; fewer than {bt['min_trades']} trades is not enough evidence either."
            if bt.get("min_trades")
            else "."
        )
    )
    return sec


POOLED_COLUMNS = (
    ("annual_return_pct", "return, % of capital/yr", "pct"),
    ("annual_return_ci95", "95 % CI", "ci"),
    ("annual_return_on_deployed_pct", "on capital in use, %/yr", "pct"),
    ("capital_in_use_pct", "capital in use %", "pct_u"),
    ("sharpe", "Sharpe", "ratio"),
    ("sharpe_ci95", "Sharpe 95 % CI", "ratio_ci"),
    ("sortino", "Sortino", "ratio"),
    ("volatility_pct", "vol, % of capital/yr", "pct_u"),
    ("max_drawdown_pct", "max DD, % of capital", "pct"),
    ("calmar", "Calmar", "ratio"),
    ("trades", "trades", "num"),
    ("win_rate", "win rate %", "share"),
    ("avg_hold_hours", "avg hold h", "num"),
    ("turnover_per_year", "turnover x/yr", "num"),
    ("liquidations", "liquidations", "num"),
    ("bootstrap_block_days", "block days", "num"),
)


def pooled_cell(strategy: str, metric: str, value: object, kind: str) -> Cell:
    key = (strategy, "pooled", metric)
    if kind == "ci":
        return Cell(fmt_ci(value, unit=False), None, key)
    if kind == "ratio_ci":
        return Cell(fmt_ratio_ci(value), None, key)
    v = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if kind == "share":
        return Cell(fmt_share_pct(v), float(v) if v is not None else None, key, scale=100.0)
    shown = {
        "pct": lambda: fmt_pct(v, unit=False),
        "pct_u": lambda: fmt_pct(v, signed=False, unit=False),
        "ratio": lambda: fmt_ratio(v),
        "num": lambda: fmt(v),
    }[kind]()
    return Cell(shown, float(v) if v is not None else None, key)


def _kind(inp: ReportInputs, name: str) -> str:
    return "family" if name in inp.metrics.families else "baseline"


def portfolio(inp: ReportInputs) -> Section:
    sec = Section("Portfolio backtest, pooled over the out-of-sample span", "backtest")
    bt = backtest_block(inp)
    if bt is None:
        sec.blocks.append("metrics.json has no pooled backtest.")
        return sec
    cfg = inp.metrics.raw.get("config") if isinstance(inp.metrics.raw.get("config"), dict) else {}
    span = bt.get("span") or {}
    sec.blocks.append(
        f"One book of {fmt(cfg.get('capital_usd'))} USD from {_day(span.get('start'))} to "
        f"{_day(span.get('end'))} ({span.get('days', '?')} days): each fold's models trade "
        f"their fold's test window and positions run to their own exit across fold "
        f"boundaries. Positions of {fmt(cfg.get('position_usd'))} USD per leg tie up both "
        f"legs' margin; at most {cfg.get('top_k', '?')} entries per snapshot, "
        f"{cfg.get('max_positions_per_symbol', '?')} per symbol and "
        f"{cfg.get('max_positions_per_venue', '?')} per venue. Equity is marked to market "
        "daily (open positions at their marks); every figure comes from those daily returns. "
        "Returns are % of capital a year; families exit by their predicted hold "
        f"({cfg.get('model_exit', 'predicted_hold')}), carry_rule and fund_apr_rank by the "
        "signal exit, persistence by its expected hold. hindsight_oracle knows every outcome "
        "but is greedy under the same limits: a reference, not a strict upper bound. "
        "always_on holds the majors' same-venue cash-and-carry "
        f"({', '.join(cfg.get('always_on_symbols') or ['BTCUSDT', 'ETHUSDT'])}) whenever it can; "
        "cash stays flat."
    )
    names = list(bt["pooled"])
    rows = [
        [text(s), text(_kind(inp, s))]
        + [pooled_cell(s, m, bt["pooled"][s].get(m), k) for m, _, k in POOLED_COLUMNS]
        for s in names
    ]
    sec.blocks.append(
        Table(["strategy", "kind"] + [h for _, h, _ in POOLED_COLUMNS], rows, "pooled")
    )
    sec.blocks.extend(book_notes(bt, cfg))
    vtable = versus_table(bt)
    if vtable is not None:
        sec.blocks.append(vtable)
    if inp.equity is not None and len(inp.equity):
        sec.blocks.append(
            Figure(
                plots.equity_drawdown(inp.equity, list(inp.metrics.families)),
                "equity",
                "Daily marked-to-market equity and drawdown of every strategy",
            )
        )
    else:
        sec.blocks.append("No equity curves (evaluation/backtest_equity.parquet missing).")
    sec.blocks.append(
        "Per fold (the pooled curve cut at each fold's test window), mean ± spread across "
        "folds; hover for the per-fold values:"
    )
    sec.blocks.append(_per_fold_table(inp))
    return sec


def book_notes(bt: dict, cfg: dict) -> list[str]:
    """What the book assumed: the span, continuation, idle capital, the marks."""
    out = []
    span, cont = bt.get("span") or {}, bt.get("continuation") or {}
    if span.get("test_end"):
        out.append(
            f"Every strategy is measured over the same span: the out-of-sample window to "
            f"{_day(span.get('test_end'))} plus a tail of {fmt(span.get('tail_hours'))} h for "
            "positions still open, whichever strategies are booked beside it; a position open "
            "at the span's end is valued at its mark."
        )
    if cont:
        out.append(
            f"Carry without a clock: {'on' if cont.get('enabled') else 'off'}. A position "
            f"whose exit falls at the label boundary ({fmt(cont.get('boundary_hours'))} h) "
            "continues into the same legs' opportunity at that time without paying the round "
            "trip there, for as long as its exit rule says stay."
        )
    if "idle_rate_pct" in bt:
        out.append(
            f"Idle capital earns {fmt(bt.get('idle_rate_pct'))} % a year (idle_rate_pct); "
            "'capital in use' is the average margin open, 'on deployed' the return on it."
        )
    marks = bt.get("marks") or {}
    if marks.get("given"):
        frac = marks.get("matched_fraction")
        shown = fmt_pct(frac * 100.0, signed=False) if isinstance(frac, int | float) else "n/a"
        out.append(
            f"Daily marks: {fmt(marks.get('rows'))} rows given; they mark {shown} of the booked "
            "positions open past a day (the rest are valued linearly between their hold rows)."
        )
    elif "marks" in bt:
        out.append("No daily marks: open positions are valued linearly between their hold rows.")
    return out


def _diff_key(metric: str, against: str, rule: str | None) -> str:
    """The cell key of a difference: the bare metric against the rule, suffixed otherwise."""
    return metric if against == rule else f"{metric}:{against}"


def versus_table(bt: dict) -> Table | None:
    """Each family against each baseline it was compared with (``versus``; ``vs_rule`` for a
    metrics.json older than #24): difference, paired interval, verdict."""
    rule = bt.get("rule")
    versus = bt.get("versus") or {
        f: {v.get("rule", rule): v} for f, v in (bt.get("vs_rule") or {}).items()
    }
    rows = [
        [
            text(f),
            text(b),
            pooled_cell(
                f,
                _diff_key("diff_annual_return_pct", b, rule),
                v.get("diff_annual_return_pct"),
                "pct",
            ),
            pooled_cell(f, _diff_key("diff_ci95", b, rule), v.get("diff_ci95"), "ci"),
            text(v.get("verdict", "–")),
        ]
        for f, block in versus.items()
        for b, v in block.items()
    ]
    if not rows:
        return None
    return Table(
        ["family", "against", "difference, % of capital/yr", "95 % CI", "verdict"],
        rows,
        "vs-rule",
        caption=f"Each family against the best rule ({bt.get('rule')}), always_on and cash, "
        "paired days",
    )


def _per_fold_table(inp: ReportInputs) -> Table:
    from arbscore.report.sections import SHARE_METRICS, _metric_names, stat_cell

    strategies = {**inp.metrics.families, **inp.metrics.baselines}
    names = _metric_names(strategies, "backtest")
    rows = [
        [text(s), text(_kind(inp, s))]
        + [stat_cell(sm.heads.get("backtest", {}).get(k), (s, "backtest", k)) for k in names]
        for s, sm in strategies.items()
    ]
    headers = [f"{k} %" if k in SHARE_METRICS else k for k in names]
    return Table(["strategy", "kind"] + headers, rows, "backtest")


COST_COLUMNS = (
    ("funding_pct", "funding earned"),
    ("fees_pct", "fees paid"),
    ("slippage_pct", "slippage paid"),
    ("basis_pct", "basis (the rest)"),
    ("annual_return_pct", "net"),
)


def costs(inp: ReportInputs) -> Section:
    sec = Section("Where the money went: cost breakdown", "costs")
    bt = backtest_block(inp)
    if bt is None:
        sec.blocks.append("metrics.json has no pooled backtest.")
        return sec
    sec.blocks.append(
        "Annualised, % of capital: net = funding - fees - slippage + basis, each read at the "
        "position's exit from the simulator; basis is the price PnL of the two legs (with a "
        "liquidation's loss). A training set older than issue 24 has no parts at a signal "
        "exit: there basis holds the whole net. A position still open at the span's end "
        "counts here in full and in the net at its mark."
    )
    rows = [
        [text(s)] + [pooled_cell(s, m, p.get(m), "pct") for m, _ in COST_COLUMNS]
        for s, p in bt["pooled"].items()
    ]
    sec.blocks.append(Table(["strategy"] + [h for _, h in COST_COLUMNS], rows, "costs"))
    return sec
