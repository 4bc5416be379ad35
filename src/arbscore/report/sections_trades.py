"""Report sections on single trades and where they came from: the largest winners and losers,
the splits by strategy kind and symbol, and the estimated-price pairs the headline left out."""

from __future__ import annotations

import pandas as pd

from arbscore.report.document import Cell, Section, Table, fmt, fmt_pct, text
from arbscore.report.inputs import ReportInputs
from arbscore.report.sections_trading import backtest_block

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

#: the percent columns' headers, with the base each percent is of
TRADE_HEADERS = {
    "realised_pct": "PnL, % of notional",
    "return_on_capital_pct": "PnL, % of capital",
}


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
    headers = [TRADE_HEADERS.get(c, c.replace("_", " ")) for c in TRADE_COLUMNS]
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
    sec.blocks.append(
        "PnL over the whole span in % of capital (trades in brackets), by where it came from; "
        "one column per strategy."
    )
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
                    row.append(text("–"))
                else:
                    shown = f"{fmt_pct(cell['pnl_pct'], unit=False)} ({fmt(cell['trades'])})"
                    row.append(Cell(shown, cell["pnl_pct"]))
            rows.append(row)
        headers = [label] + list(sp)
        sec.blocks.append(Table(headers, rows, f"splits-{key.replace('_', '-')}"))
    return sec


def estimated_pairs(inp: ReportInputs) -> Section:
    """``backtest.universe``: what the headline left out and why, and the estimated-price
    pairs in their own table."""
    sec = Section("Estimated prices: left out of the verdict", "universe")
    uni = (backtest_block(inp) or {}).get("universe")
    if not uni:
        sec.blocks.append("metrics.json says nothing about the universe (older than issue 24).")
        return sec
    left = uni.get("left_out") or {}
    sec.blocks.append(
        f"The headline backtest and the verdict use {fmt(uni.get('headline_opportunities'))} of "
        f"{fmt(uni.get('opportunities'))} out-of-sample opportunities: those whose legs all "
        f"have their own prices ({uni.get('source', '?')}). "
        + (
            "Left out: " + "; ".join(f"{fmt(n)} because {why}" for why, n in left.items()) + "."
            if left
            else "Nothing was left out."
        )
    )
    pairs = uni.get("estimated_pairs") or []
    if pairs:
        keys = [k for k in pairs[0] if k != "opportunities"]
        rows = [
            [text(p.get(k, "–")) for k in keys]
            + [Cell(fmt(p.get("opportunities")), float(p.get("opportunities") or 0))]
            for p in pairs
        ]
        sec.blocks.append(
            Table(
                [k.replace("_", " ") for k in keys] + ["opportunities"],
                rows,
                "estimated-pairs",
                caption="Pairs with a leg priced by another venue's series (estimates)",
            )
        )
    return sec
