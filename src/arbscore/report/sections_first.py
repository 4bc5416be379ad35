"""The report's first screen, what a trader reads before anything else: the verdict on the
strategy the run ships (with its trade count and interval), a warning when it traded too little
to judge, its equity against ``always_on``, ``cash`` and the best rule, and their key figures.
Then the same strategy month by month, its exposure over time and its fees as maker or taker.

Every figure of the tables comes from metrics.json; the monthly returns, the exposure and the
fee scenarios are read off the book's own daily equity and trades
(``evaluation/backtest_equity.parquet``, ``backtest_trades.parquet``)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from arbscore.evaluation.fee_scenarios import FEE_SCENARIOS, fee_scenarios
from arbscore.evaluation.portfolio import DayGrid, deployed_usd
from arbscore.evaluation.verdict import verdict_sentence
from arbscore.report import plots_trader
from arbscore.report.document import Callout, Cell, Figure, Section, Table, fmt_pct, text
from arbscore.report.inputs import ReportInputs
from arbscore.report.plots import curve, merge_identical
from arbscore.report.sections import shipped_name
from arbscore.report.sections_trading import backtest_block, pooled_cell

#: the key figures of the first screen: (metric, header, kind of cell)
KEY_COLUMNS = (
    ("annual_return_pct", "return, % of capital/yr", "pct"),
    ("annual_return_ci95", "95 % CI", "ci"),
    ("trades", "trades", "num"),
    ("win_rate", "win rate %", "share"),
    ("max_drawdown_pct", "max drawdown %", "pct"),
    ("capital_in_use_pct", "capital in use %", "pct_u"),
    ("annual_return_on_deployed_pct", "return on capital in use, %/yr", "pct"),
)
#: the references the shipped strategy is drawn against, beside the best rule
REFERENCES = ("always_on", "cash")


def shipped_strategy(inp: ReportInputs, bt: dict) -> tuple[str | None, str | None]:
    """(the strategy the first screen is about, a note when it is not the one shipped): the
    bundle's ``strategy.name`` when the book traded it, else the recommended family."""
    path = inp.workdir / "bundle" / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    name = shipped_name(manifest) if manifest is not None else None
    pooled = bt.get("pooled") or {}
    if name in pooled:
        return name, None
    fallback = bt.get("recommended_family")
    if fallback not in pooled:
        return None, None
    if name:
        return fallback, (
            f"The bundle ships {name}, which no book in this run traded; shown instead: "
            f"{fallback}, the recommended family."
        )
    return fallback, f"No bundle in this run: shown is {fallback}, the recommended family."


def compared(bt: dict, name: str) -> list[str]:
    """The shipped strategy, the best rule and the references, each once, in that order."""
    out = [name]
    for s in (bt.get("rule"), *REFERENCES):
        if s and s in (bt.get("pooled") or {}) and s not in out:
            out.append(s)
    return out


def low_trades(bt: dict, name: str) -> Callout | None:
    trades = (bt["pooled"].get(name) or {}).get("trades")
    need = bt.get("min_trades")
    if not isinstance(trades, int | float) or not isinstance(need, int | float) or trades >= need:
        return None
    days = (bt.get("span") or {}).get("days", "?")
    return Callout(
        f"Only {int(trades)} trades in {days} days: fewer than the {int(need)} a verdict needs. "
        "The return and its interval are not evidence either way.",
        "low-trades",
    )


def curve_groups(equity: pd.DataFrame, bt: dict, names: list[str]) -> list[list[str]]:
    """``names`` grouped by identical daily equity, each group joined by every other booked
    strategy with the same curve (carry_rule = fund_apr_rank when they took the same
    positions); the first of each group is one of ``names``."""
    groups = merge_identical(equity, names)
    for s in bt["pooled"]:
        if any(s in g for g in groups):
            continue
        for g in merge_identical(equity, [g[0] for g in groups] + [s]):
            if s in g and len(g) > 1:
                next(m for m in groups if m[0] == g[0]).append(s)
    return groups


def twins_note(groups: list[list[str]]) -> str | None:
    same = [" = ".join(g) for g in groups if len(g) > 1]
    if not same:
        return None
    return (
        "Identical daily equity, drawn as one line: "
        + "; ".join(same)
        + " (the same positions, or none: a flat curve is cash's)."
    )


def first_screen(inp: ReportInputs) -> Section | None:
    """The verdict, the warning, the chart and the key table (module docstring)."""
    bt = backtest_block(inp)
    if bt is None:
        return None
    name, note = shipped_strategy(inp, bt)
    if name is None:
        return None
    sec = Section(f"The verdict on {name}", "verdict")
    sec.blocks.append(verdict_sentence(bt, name) or f"{name}: no comparison in metrics.json.")
    warning = low_trades(bt, name)
    if warning:
        sec.blocks.append(warning)
    if note:
        sec.blocks.append(note)
    names = compared(bt, name)
    if inp.equity is not None and len(inp.equity):
        groups = curve_groups(inp.equity, bt, names)
        sec.blocks.append(
            Figure(
                plots_trader.shipped_equity(inp.equity, groups, name),
                "shipped-equity",
                f"Equity of {name} against {', '.join(names[1:])}",
            )
        )
        twins = twins_note(groups)
        if twins:
            sec.blocks.append(twins)
    rows = [
        [text(s)] + [pooled_cell(s, m, bt["pooled"][s].get(m), k) for m, _, k in KEY_COLUMNS]
        for s in names
    ]
    sec.blocks.append(Table(["strategy"] + [h for _, h, _ in KEY_COLUMNS], rows, "key-figures"))
    return sec


def monthly_returns(equity: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Return per calendar month (UTC), % of the book's starting capital, one column per
    strategy: the change of the daily equity from the previous month's last day."""
    out = {}
    for name in names:
        c = curve(equity, name)
        if c.empty:
            continue
        t = pd.to_datetime(c["time"], utc=True)
        eq = pd.Series(c["equity"].to_numpy(float), index=t.dt.tz_localize(None).to_numpy())
        month_end = eq.groupby(eq.index.to_period("M")).last()
        out[name] = month_end.diff().fillna(month_end.iloc[0] - eq.iloc[0]) * 100.0
    return pd.DataFrame(out)


def capital_in_use_pct(
    equity: pd.DataFrame, trades: pd.DataFrame, name: str, capital_usd: float
) -> tuple[pd.Series, np.ndarray]:
    """(day starts, margin open at each day's start as % of capital), the book's own measure
    (``evaluation.portfolio.deployed_usd``) on the strategy's daily grid."""
    c = curve(equity, name)
    times = pd.to_datetime(c["time"], utc=True)
    grid = DayGrid((times.astype("int64") // 1_000_000).to_numpy(np.int64))
    own = trades[trades["strategy"] == name]
    frame = pd.DataFrame(
        {
            "entry_ms": pd.to_datetime(own["entry_time"], utc=True).astype("int64") // 1_000_000,
            "exit_ms": pd.to_datetime(own["exit_time"], utc=True).astype("int64") // 1_000_000,
            "capital_usd": own["capital_usd"].to_numpy(float),
        }
    )
    return times.iloc[:-1], deployed_usd(frame, grid) / capital_usd * 100.0


def in_detail(inp: ReportInputs) -> Section | None:
    """Monthly returns, exposure over time and the fee scenarios of the first screen's
    strategies."""
    bt = backtest_block(inp)
    name = shipped_strategy(inp, bt)[0] if bt else None
    if name is None or inp.equity is None or not len(inp.equity):
        return None
    names = compared(bt, name)
    sec = Section(f"{name} month by month, its exposure and its fees", "shipped-detail")
    monthly = monthly_returns(inp.equity, names)
    rows = [
        [text(str(month))] + [Cell(fmt_pct(v, unit=False), float(v)) for v in row]
        for month, row in monthly.iterrows()
    ]
    sec.blocks.append(
        Table(
            ["month"] + list(monthly.columns),
            rows,
            "monthly",
            caption="Monthly return, % of the book's starting capital (marked to market daily)",
        )
    )
    cfg = inp.metrics.raw.get("config") if isinstance(inp.metrics.raw.get("config"), dict) else {}
    capital = float(cfg.get("capital_usd") or 0.0)
    if inp.trades is None or capital <= 0:
        sec.blocks.append("No trades file or no book capital: no exposure or fee scenarios.")
        return sec
    used = {s: capital_in_use_pct(inp.equity, inp.trades, s, capital) for s in names}
    times = used[name][0]
    sec.blocks.append(
        Figure(
            plots_trader.exposure(times, {s: u for s, (_, u) in used.items()}, name),
            "exposure",
            "Capital in use over time",
        )
    )
    sec.blocks.extend(fee_blocks(inp, names, capital, cfg))
    return sec


def fee_blocks(inp: ReportInputs, names: list[str], capital: float, cfg: dict) -> list:
    """The fee scenarios: the same booked positions with maker or taker fills."""
    fees = cfg.get("fees") or {}
    if "fees_usd" not in inp.trades.columns:
        return ["No fee scenarios: the trades file has no fees_usd (a run older than issue 24)."]
    table = fee_scenarios(inp.equity, inp.trades, names, fees, capital)
    booked = f"{fees.get('entry_order', 'taker')} in, {fees.get('exit_order', 'taker')} out"
    scenarios = list(FEE_SCENARIOS)
    rows = []
    for s in names:
        own = table[table["strategy"] == s].set_index("scenario")
        if own.empty:
            continue
        rows.append(
            [text(s)]
            + [
                Cell(
                    f"{fmt_pct(own.at[k, 'annual_return_pct'], unit=False)} "
                    f"(fees {fmt_pct(own.at[k, 'fees_pct'], signed=False, unit=False)})",
                    float(own.at[k, "annual_return_pct"]),
                )
                for k in scenarios
            ]
        )
    return [
        f"Fee scenarios: the same positions re-booked with other fills. The run booked "
        f"{booked}. Only each position's fees change (scaled by the venues' maker/taker rates); "
        "entries, exits, funding, slippage and price PnL stay as booked, and a maker order is "
        "assumed to fill at the same time and price, so the maker figures are an upper bound. "
        "With other fees the models might also have chosen other positions; that is not "
        "re-simulated here.",
        Table(
            ["strategy"] + scenarios,
            rows,
            "fee-scenarios",
            caption="Return, % of capital/yr (fees paid, % of capital/yr)",
        ),
    ]
