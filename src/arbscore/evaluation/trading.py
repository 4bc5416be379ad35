"""The trading part of ``evaluate``: every strategy's pooled book, metrics, and the verdict.

``pooled_backtest`` books each strategy's candidates (all folds together), marks every book on
one fixed daily grid (the out-of-sample window plus a tail, the same whichever strategies are
booked beside it), and returns metrics.json's ``backtest`` block:

- ``universe``: the opportunities the headline uses (own prices only) and what was left out,
  why, and the estimated-price pairs (``evaluation.universe``);
- ``pooled.<strategy>``: ``performance.pooled_metrics`` (return on the book and on deployed
  capital, capital in use, with 95 % CI, Sharpe with CI, Sortino, drawdown, Calmar, trades,
  liquidations, costs);
- ``rule``: the best rule baseline (``RULE_BASELINES``) by pooled annual return;
  ``versus.<family>.<baseline>`` for the rule, ``always_on`` and ``cash``: difference, paired
  CI, verdict (``vs_rule.<family>`` repeats the rule's, with ``rule`` named);
- ``recommended_family``: the family with the best pooled annual return on capital;
- ``marks``: whether daily marks were given and ``matched_fraction`` of the booked positions
  open past a day that they mark;
- ``folds.<strategy>``: the pooled curve cut at each fold's test window;
- ``splits.<strategy>``: by strategy kind and by symbol;
- ``span``, ``continuation`` and ``bootstrap``: the grid and the settings.

``backtest_rows`` books one window of scored rows (a family's predictions beside the baselines)
with the same book: the entry point for judging a shipped bundle out of time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from arbscore.evaluation.baselines import (
    BASELINES,
    REFERENCE_BASELINES,
    RULE_BASELINES,
    baseline_candidates,
    model_candidates,
)
from arbscore.evaluation.config import EvaluationConfig
from arbscore.evaluation.continuation import continue_at_boundary
from arbscore.evaluation.performance import fold_metrics, pooled_metrics, splits, versus
from arbscore.evaluation.portfolio import DayGrid, book_trades, daily_equity, deployed_usd
from arbscore.evaluation.positions import align_marks, marks_matched_fraction, position_knots
from arbscore.evaluation.universe import split_universe
from arbscore.families import HeadOutputs

HOUR_MS = 3_600_000


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


def book_strategy(
    candidates: pd.DataFrame, left_out: set, boundary_hours: float, config: EvaluationConfig
) -> pd.DataFrame:
    """One strategy's booked positions: its candidates (all folds) less the opportunities
    ``left_out`` of the headline, continued at ``boundary_hours`` (``continue_at_boundary``)
    when the config says so, taken under the book's limits (``book_trades``)."""
    c = candidates[~candidates["opportunity_id"].isin(left_out)]
    if config.continue_at_boundary:
        c = continue_at_boundary(c, boundary_hours)
    return book_trades(c, config)


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
    marks fallback, the universe and the label boundary; ``marks``: the set's daily marks
    (keyed by the simulator's ids or the loader's); ``families``: which strategies are model
    families.
    """
    left_out, universe = split_universe(rows)
    boundary = float(rows["hold_hours"].max()) if len(rows) else math.nan
    trades = {
        s: book_strategy(pd.concat(c, ignore_index=True), left_out, boundary, config)
        for s, c in candidates.items()
    }
    tail_ms = int(round(config.tail_for(rows["hold_hours"].unique()) * HOUR_MS))
    grid = DayGrid.spanning(windows[0][0], windows[-1][1] + tail_ms)
    aligned = align_marks(marks, rows)
    traded = {o for t in trades.values() for seg in t["segments"] for o, *_ in seg}
    knots = position_knots(rows[rows["opportunity_id"].isin(traded)], aligned, config)
    equity = {s: daily_equity(t, knots, grid, config) for s, t in trades.items()}
    deployed = {s: deployed_usd(t, grid) for s, t in trades.items()}
    pooled = pooled_metrics(equity, trades, config, deployed)
    rules = [b for b in RULE_BASELINES if b in pooled]
    rule = _best(pooled, rules)
    against = [b for b in (rule, *REFERENCE_BASELINES) if b and b in equity]
    compared = {
        fam: {b: versus(equity, trades, fam, b, config) for b in against} for fam in families
    }
    all_trades = pd.concat(list(trades.values()), ignore_index=True) if trades else None
    section = {
        "universe": universe,
        "pooled": pooled,
        "rule": rule,
        "versus": compared,
        "vs_rule": {f: {"rule": rule, **v[rule]} for f, v in compared.items()} if rule else {},
        "recommended_family": _best(pooled, families),
        "marks": {
            "given": marks is not None and len(marks) > 0,
            "rows": int(len(marks)) if marks is not None else 0,
            "matched_rows": int(len(aligned)) if aligned is not None else 0,
            "matched_fraction": marks_matched_fraction(aligned, all_trades)
            if marks is not None and len(marks) and all_trades is not None
            else None,
            "fallback": "linear between the hold rows' values",
        },
        "span": {
            "start": _iso(grid.times_ms[0]),
            "end": _iso(grid.times_ms[-1]),
            "days": grid.n_days,
            "test_end": _iso(windows[-1][1]),
            "tail_hours": tail_ms / HOUR_MS,
            "rule": "the out-of-sample window plus the tail, the same for every strategy; "
            "positions open at its end are valued at their mark",
        },
        "continuation": {
            "enabled": config.continue_at_boundary,
            "boundary_hours": boundary,
            "rule": "a position whose exit falls at the label boundary continues into the same "
            "legs' opportunity at that time; the junction's exit and entry fills are not paid",
        },
        "idle_rate_pct": config.idle_rate_pct,
        "min_trades": config.min_trades,
        "bootstrap": {
            "method": f"arch {config.bootstrap_method} block bootstrap of daily "
            "marked-to-market returns",
            "block_days": config.bootstrap_block_days
            if config.bootstrap_block_days is not None
            else "Politis-White (arch.bootstrap.optimal_block_length), per series",
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
        trade_frames.append(t.drop(columns=["segments"]))
    all_trades = pd.concat(trade_frames, ignore_index=True).rename(
        columns={"strategy": "kind", "strategy_name": "strategy"}
    )
    return TradingResult(
        section=section,
        folds=per_fold,
        trades=all_trades,
        equity=pd.concat(curves, ignore_index=True),
    )


def backtest_rows(
    rows: pd.DataFrame,
    scored: dict[str, HeadOutputs],
    config: EvaluationConfig,
    *,
    marks: pd.DataFrame | None = None,
    train: pd.DataFrame | None = None,
    window: tuple[int, int] | None = None,
) -> TradingResult:
    """Book scored rows on one window with the same book as ``evaluate``: each entry of
    ``scored`` (a strategy name -> its heads' outputs on ``rows``, row for row) beside every
    baseline. ``rows`` is a normalised training frame with ``timestamp_ms``; ``train`` gives
    persistence its expected hold (past labels); ``window`` defaults to the rows' first and
    last entry (end exclusive: one hour past the last)."""
    if window is None:
        ts = rows["timestamp_ms"].to_numpy(np.int64)
        window = (int(ts.min()), int(ts.max()) + HOUR_MS)
    cands: dict[str, list[pd.DataFrame]] = {
        name: [model_candidates(rows, pred, config).assign(fold=0)] for name, pred in scored.items()
    }
    for b in BASELINES:
        cands[b] = [baseline_candidates(b, rows, config, train).assign(fold=0)]
    return pooled_backtest(cands, [window], rows, marks, list(scored), config)
