"""The trading part of ``evaluate``: every strategy's pooled book, metrics, and the verdict.

``pooled_backtest`` books each strategy's candidates (all folds together), marks every book on
one common daily grid (so strategies can be compared day by day), and returns metrics.json's
``backtest`` block:

- ``pooled.<strategy>``: ``performance.pooled_metrics`` (return with 95 % CI, Sharpe with CI,
  Sortino, drawdown, Calmar, trades, costs);
- ``rule``: the best rule baseline (``RULE_BASELINES``) by pooled annual return, the one every
  family is held against; ``vs_rule.<family>``: difference and paired CI, verdict;
- ``recommended_family``: the family with the best pooled annual return on capital;
- ``folds.<strategy>``: the pooled curve cut at each fold's test window;
- ``splits.<strategy>``: by strategy kind and by symbol;
- ``span`` and ``bootstrap``: the grid and the interval settings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from arbscore.evaluation.baselines import RULE_BASELINES
from arbscore.evaluation.config import EvaluationConfig
from arbscore.evaluation.performance import fold_metrics, pooled_metrics, splits, versus_rule
from arbscore.evaluation.portfolio import DayGrid, book_trades, daily_equity
from arbscore.evaluation.positions import position_knots


@dataclass(frozen=True)
class TradingResult:
    section: dict  # metrics.json "backtest"
    folds: dict[str, list[dict]]  # strategy -> per-fold metrics
    trades: pd.DataFrame  # strategy, fold, entry/exit, symbol, pnl ...
    equity: pd.DataFrame  # strategy, fold, time, equity (x capital), drawdown_pct


def _iso(ms: int) -> str:
    return pd.Timestamp(int(ms), unit="ms", tz="UTC").isoformat()


def _best(pooled: dict[str, dict], names: list[str]) -> str | None:
    scored = [
        (n, pooled[n]["annual_return_pct"])
        for n in names
        if n in pooled and math.isfinite(pooled[n]["annual_return_pct"])
    ]
    return max(scored, key=lambda t: t[1])[0] if scored else None


def pooled_backtest(
    candidates: dict[str, list[pd.DataFrame]],
    windows: list[tuple[int, int]],
    rows: pd.DataFrame,
    marks: pd.DataFrame | None,
    families: list[str],
    config: EvaluationConfig,
) -> TradingResult:
    """Book, mark and score every strategy (see module docstring).

    ``candidates``: strategy -> one candidate frame per fold (with a ``fold`` column);
    ``windows``: each fold's test window (start_ms, end_ms); ``rows``: the test rows, for the
    marks fallback; ``families``: which strategies are model families.
    """
    trades = {
        s: book_trades(pd.concat(c, ignore_index=True), config) for s, c in candidates.items()
    }
    last_exit = max((int(t["exit_ms"].max()) for t in trades.values() if len(t)), default=0)
    grid = DayGrid.spanning(windows[0][0], max(windows[-1][1], last_exit))
    traded = set().union(*(set(t["opportunity_id"]) for t in trades.values()))
    knots = position_knots(rows[rows["opportunity_id"].isin(traded)], marks, config)
    equity = {s: daily_equity(t, knots, grid, config) for s, t in trades.items()}
    pooled = pooled_metrics(equity, trades, config)
    rules = [b for b in RULE_BASELINES if b in pooled]
    rule = _best(pooled, rules)
    section = {
        "pooled": pooled,
        "rule": rule,
        "vs_rule": versus_rule(equity, families, rule, config) if rule else {},
        "recommended_family": _best(pooled, families),
        "span": {
            "start": _iso(grid.times_ms[0]),
            "end": _iso(grid.times_ms[-1]),
            "days": grid.n_days,
        },
        "bootstrap": {
            "method": "circular block bootstrap of daily marked-to-market returns",
            "block_days": config.bootstrap_block_days,
            "samples": config.bootstrap_samples,
            "seed": config.bootstrap_seed,
            "interval": "2.5-97.5 percentile",
        },
        "splits": {s: splits(t, config) for s, t in trades.items()},
    }
    per_fold = {
        s: fold_metrics(equity[s], trades[s], grid.times_ms, windows, config) for s in trades
    }
    section["folds"] = per_fold
    starts = np.array([w[0] for w in windows])
    fold_of_day = np.clip(np.searchsorted(starts, grid.times_ms, side="left") - 1, 0, None)
    curves = []
    for s, eq in equity.items():
        frac = eq / config.capital_usd
        curves.append(
            pd.DataFrame(
                {
                    "strategy": s,
                    "fold": fold_of_day,
                    "time": pd.to_datetime(grid.times_ms, unit="ms", utc=True),
                    "equity": frac,
                    "drawdown_pct": (eq / np.maximum.accumulate(eq) - 1.0) * 100.0,
                }
            )
        )
    trade_frames = []
    for s, t in trades.items():
        t = t.assign(
            entry_time=pd.to_datetime(t["entry_ms"], unit="ms", utc=True),
            exit_time=pd.to_datetime(t["exit_ms"], unit="ms", utc=True),
        )
        t.insert(0, "strategy_name", s)
        trade_frames.append(t)
    all_trades = pd.concat(trade_frames, ignore_index=True).rename(
        columns={"strategy": "kind", "strategy_name": "strategy"}
    )
    return TradingResult(
        section=section,
        folds=per_fold,
        trades=all_trades,
        equity=pd.concat(curves, ignore_index=True),
    )
