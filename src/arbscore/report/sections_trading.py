"""Report sections on trading value: the answer, the pooled portfolio backtest, costs, trades,
splits by strategy kind and symbol. Every number comes from metrics.json's ``backtest`` block
(or the trades file the harness wrote beside it)."""

from __future__ import annotations

import pandas as pd

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
    text,
)
from arbscore.report.inputs import ReportInputs

#: the verdict of metrics.json, as the answer says it
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
    return (
        f"{head}, against {fmt_pct(r.get('annual_return_pct'))} "
        f"(95 % CI {fmt_ci(r.get('annual_return_ci95'))}) for {rule}, the best rule: "
        f"a difference of {fmt_pct(vs.get('diff_annual_return_pct'))} a year "
        f"(95 % CI {fmt_ci(vs.get('diff_ci95'))}), "
        f"{VERDICT_WORDS.get(vs.get('verdict'), vs.get('verdict'))}."
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
    boot = bt.get("bootstrap") or {}
    sec.blocks.append(
        f"Intervals: {boot.get('method', 'block bootstrap')}, blocks of "
        f"{boot.get('block_days', '?')} days, {boot.get('samples', '?')} draws (seed "
        f"{boot.get('seed', '?')}); the difference resamples the same days for both. "
        "An interval that holds 0 means the data cannot tell the strategy from nothing."
    )
    return sec


POOLED_COLUMNS = (
    ("annual_return_pct", "return %/yr", "pct"),
    ("annual_return_ci95", "95 % CI", "ci"),
    ("sharpe", "Sharpe", "ratio"),
    ("sharpe_ci95", "Sharpe 95 % CI", "ratio_ci"),
    ("sortino", "Sortino", "ratio"),
    ("volatility_pct", "vol %/yr", "pct_u"),
    ("max_drawdown_pct", "max DD %", "pct"),
    ("calmar", "Calmar", "ratio"),
    ("trades", "trades", "num"),
    ("win_rate", "win rate", "num"),
    ("avg_hold_hours", "avg hold h", "num"),
    ("turnover_per_year", "turnover x/yr", "num"),
    ("liquidations", "liquidations", "num"),
)


def pooled_cell(strategy: str, metric: str, value: object, kind: str) -> Cell:
    key = (strategy, "pooled", metric)
    if kind == "ci":
        return Cell(fmt_ci(value, unit=False), None, key)
    if kind == "ratio_ci":
        return Cell(fmt_ratio_ci(value), None, key)
    v = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
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
        "but is greedy under the same limits: a reference, not a strict upper bound."
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
    vs = bt.get("vs_rule") or {}
    if vs:
        vrows = [
            [
                text(f),
                text(v.get("rule", "–")),
                pooled_cell(f, "diff_annual_return_pct", v.get("diff_annual_return_pct"), "pct"),
                pooled_cell(f, "diff_ci95", v.get("diff_ci95"), "ci"),
                text(v.get("verdict", "–")),
            ]
            for f, v in vs.items()
        ]
        sec.blocks.append(
            Table(
                ["family", "against rule", "difference %/yr", "95 % CI", "verdict"],
                vrows,
                "vs-rule",
                caption=f"Each family against the best rule ({bt.get('rule')}), paired days",
            )
        )
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


def _per_fold_table(inp: ReportInputs) -> Table:
    from arbscore.report.sections import _metric_names, stat_cell

    strategies = {**inp.metrics.families, **inp.metrics.baselines}
    names = _metric_names(strategies, "backtest")
    rows = [
        [text(s), text(_kind(inp, s))]
        + [stat_cell(sm.heads.get("backtest", {}).get(k), (s, "backtest", k)) for k in names]
        for s, sm in strategies.items()
    ]
    return Table(["strategy", "kind"] + names, rows, "backtest")


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
        "Annualised, % of capital: net = funding - fees - slippage + basis, where basis is "
        "everything else (the moves of the gap between the two legs, liquidations)."
    )
    rows = [
        [text(s)] + [pooled_cell(s, m, p.get(m), "pct") for m, _ in COST_COLUMNS]
        for s, p in bt["pooled"].items()
    ]
    sec.blocks.append(Table(["strategy"] + [h for _, h in COST_COLUMNS], rows, "costs"))
    return sec


TRADE_COLUMNS = (
    "entry_time",
    "exit_time",
    "symbol",
    "kind",
    "long_exchange",
    "short_exchange",
    "exit_hours",
    "exit_rule",
    "realised_pct",
    "pnl_usd",
    "return_on_capital_pct",
    "liquidated",
)


def _trade_row(t: pd.Series) -> list[Cell]:
    out = []
    for c in TRADE_COLUMNS:
        v = t.get(c)
        if c.endswith("_time"):
            out.append(text(str(v)[:16].replace("T", " ")))
        elif c.endswith("_pct"):
            out.append(Cell(fmt_pct(float(v), unit=False), float(v)))
        elif c in ("pnl_usd", "exit_hours"):
            out.append(Cell(fmt(float(v)), float(v)))
        else:
            out.append(text(str(v)))
    return out


def trade_list(inp: ReportInputs, n: int = 10) -> Section:
    sec = Section("Trades", "trades")
    bt = backtest_block(inp)
    if inp.trades is None or bt is None:
        sec.blocks.append("No trade list (evaluation/backtest_trades.parquet missing).")
        return sec
    fam = bt.get("recommended_family") or next(iter(bt["pooled"]), None)
    t = inp.trades[inp.trades["strategy"] == fam].sort_values("pnl_usd", kind="mergesort")
    sec.blocks.append(
        f"Every strategy's trades are in trades.csv beside this report ({len(inp.trades):,} "
        f"rows). Below: the largest winners and losers of {fam} ({len(t):,} trades); PnL in "
        "% of one leg's notional, USD, and % of the margin the position tied up."
    )
    if not len(t):
        sec.blocks.append(f"{fam} took no trade.")
        return sec
    headers = [c.replace("_", " ") for c in TRADE_COLUMNS]
    winners = t[t["pnl_usd"] > 0].iloc[::-1].head(n)
    losers = t[t["pnl_usd"] <= 0].head(n)
    for name, rows, caption in (
        ("trades-winners", winners, f"{fam}: largest winners"),
        ("trades-losers", losers, f"{fam}: largest losers"),
    ):
        if len(rows):
            body = [_trade_row(r) for _, r in rows.iterrows()]
            sec.blocks.append(Table(headers, body, name, caption=caption))
    return sec


def splits(inp: ReportInputs) -> Section:
    sec = Section("Per strategy kind and per symbol", "splits")
    bt = backtest_block(inp)
    sp = (bt or {}).get("splits") or {}
    if not sp:
        sec.blocks.append("metrics.json has no splits.")
        return sec
    sec.blocks.append("PnL over the whole span in % of capital, and trades, by where it came from.")
    for key, label in (("by_kind", "strategy kind"), ("by_symbol", "symbol")):
        values = sorted({v for s in sp.values() for v in (s.get(key) or {})})
        if not values:
            continue
        rows = []
        for v in values:
            row = [text(v)]
            for block in sp.values():
                cell = (block.get(key) or {}).get(v)
                if cell is None:
                    row += [text("–"), text("0")]
                else:
                    row += [
                        Cell(fmt_pct(cell["pnl_pct"], unit=False), cell["pnl_pct"]),
                        Cell(fmt(cell["trades"]), float(cell["trades"])),
                    ]
            rows.append(row)
        headers = [label] + [f"{s} {c}" for s in sp for c in ("PnL %", "trades")]
        sec.blocks.append(Table(headers, rows, f"splits-{key.replace('_', '-')}"))
    return sec
