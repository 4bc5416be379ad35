"""Paper trading A/B on live snapshots: the ML scorer and the rule-based scorer side by side.

Both strategies see the same candidates (``ops.live_opps``) at the same slots and trade under the
same rules and capital (the harness's ``select_trades``/``backtest``: top-k per slot, one
position per symbol, capital limit); each trade realises its net PnL on the later live rows.
The ML strategy holds its predicted hold and enters when P(profit) and expected profit clear the
thresholds; the rule-based one ranks by fund_apr, holds ``baseline_hold_hours`` and enters when
break-even comes sooner than that. Holds are capped at ``max_hold_hours`` and entries stop that
long before the data ends, so every trade of either strategy is fully realised.

Significance: a paired moving-block bootstrap over per-bucket PnL (ML minus rule) gives an
interval for the difference in net return; "significant" only when it excludes zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from arbscore.evaluation.backtest import BacktestResult, backtest
from arbscore.evaluation.config import EvaluationConfig
from arbscore.ops.live_opps import LiveOpportunityConfig, live_opportunities, realise, records
from arbscore.schema import HOLD_GRID_HOURS

HOUR_MS = 3_600_000


@dataclass(frozen=True)
class PaperConfig:
    """Trading rules shared by both strategies (``rules``) and the A/B settings."""

    rules: EvaluationConfig = field(default_factory=EvaluationConfig)
    max_hold_hours: float = 24.0
    bucket_hours: float = 4.0
    bootstrap: int = 2000
    block_buckets: int = 3
    confidence: float = 0.95
    seed: int = 0
    opportunities: LiveOpportunityConfig = field(default_factory=LiveOpportunityConfig)

    def __post_init__(self) -> None:
        if not min(HOLD_GRID_HOURS) <= self.max_hold_hours:
            raise ValueError(f"max_hold_hours={self.max_hold_hours}: must be >= 1")
        if self.bucket_hours <= 0 or self.bootstrap < 100 or self.block_buckets < 1:
            raise ValueError("bucket_hours > 0, bootstrap >= 100 and block_buckets >= 1 needed")
        if not 0.5 < self.confidence < 1:
            raise ValueError(f"confidence={self.confidence}: must be in (0.5, 1)")


@dataclass(frozen=True)
class PaperResult:
    """Per strategy (``ml``, ``rule_based``): backtest metrics, trades, equity; the difference
    with its bootstrap interval; the window traded."""

    strategies: dict[str, BacktestResult]
    difference: dict[str, Any]
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    candidates: int
    model_version: str

    def summary(self) -> dict[str, Any]:
        clean = lambda v: None if isinstance(v, float) and not math.isfinite(v) else v  # noqa: E731
        return {
            "model_version": self.model_version,
            "start": self.start.isoformat() if self.start is not None else None,
            "end": self.end.isoformat() if self.end is not None else None,
            "candidates": self.candidates,
            "strategies": {
                k: {m: clean(v) for m, v in r.metrics.items()} for k, r in self.strategies.items()
            },
            "difference": {k: clean(v) for k, v in self.difference.items()},
        }


def _ml_candidates(opp: pd.DataFrame, scorer: Any, config: PaperConfig) -> pd.DataFrame:
    X, _ = scorer.features(records(opp))
    first = scorer.predict_matrix(X)
    # snap to the bundle's simulated hold grid (as the harness does) within the cap
    grid = np.array([h for h in scorer.terms.hold_grid_hours if h <= config.max_hold_hours], float)
    if not grid.size:  # the bundle's grid starts above the cap: its shortest hold
        grid = np.array(scorer.terms.hold_grid_hours[:1], float)
    hold = grid[np.argmin(np.abs(first.hold_hours[:, None] - grid[None, :]), axis=1)]
    pred = scorer.predict_matrix(X, hold)  # profit and success at the hold actually used
    rules = config.rules
    enter = (pred.success_probability >= rules.min_success_probability) & (
        pred.profit_pct > rules.min_expected_profit_pct
    )
    return _frame(opp, hold, pred.profit_pct, enter)


def _rule_candidates(opp: pd.DataFrame, config: PaperConfig) -> pd.DataFrame:
    hold = np.full(len(opp), min(config.rules.baseline_hold_hours, config.max_hold_hours))
    apr = opp["fund_apr"].to_numpy(float)
    be = opp["break_even_hours"].to_numpy(float)
    enter = np.isfinite(be) & (be < hold) & (apr > 0)
    return _frame(opp, hold, np.nan_to_num(apr, nan=-np.inf), enter)


def _frame(
    opp: pd.DataFrame, hold: np.ndarray, score: np.ndarray, enter: np.ndarray
) -> pd.DataFrame:
    ts = pd.to_datetime(opp["timestamp"], utc=True).dt.as_unit("ms").astype("int64").to_numpy()
    return pd.DataFrame(
        {
            "timestamp_ms": ts,
            "symbol": opp["symbol"].to_numpy(object),
            "hold_hours": hold,
            "realised_pct": np.nan,
            "score": score,
            "enter": enter,
        }
    )


def _bucket_pnl(result: BacktestResult, start_ms: int, n: int, bucket_ms: int, capital: float):
    out = np.zeros(n)
    t = result.trades
    if len(t):
        idx = np.clip((t["exit_ms"].to_numpy() - start_ms) // bucket_ms, 0, n - 1).astype(int)
        np.add.at(out, idx, t["pnl_usd"].to_numpy() / capital)
    return out


def block_bootstrap(diff: np.ndarray, config: PaperConfig) -> tuple[float, float]:
    """Interval of sum(diff) by a moving-block bootstrap (keeps short-range dependence)."""
    n = diff.size
    if n == 0:
        return math.nan, math.nan
    block = min(config.block_buckets, n)
    rng = np.random.default_rng(config.seed)
    starts = rng.integers(0, n - block + 1, size=(config.bootstrap, math.ceil(n / block)))
    idx = (starts[:, :, None] + np.arange(block)).reshape(config.bootstrap, -1)[:, :n]
    totals = diff[idx].sum(axis=1)
    alpha = (1 - config.confidence) / 2
    return float(np.quantile(totals, alpha)), float(np.quantile(totals, 1 - alpha))


def paper_trade(
    live: pd.DataFrame, scorer: Any, config: PaperConfig = PaperConfig()
) -> PaperResult:
    """Run both strategies on the live rows (see module docstring)."""
    opp = live_opportunities(live, config.opportunities)
    version = str(getattr(scorer, "model_version", "?"))
    if opp.empty:
        raise ValueError("no live opportunities: collect live snapshots first (`arbscore live`)")
    t = pd.to_datetime(opp["timestamp"], utc=True)
    last = pd.to_datetime(live["snapshot_time"], utc=True).max()
    window_end = last - pd.Timedelta(hours=config.max_hold_hours)
    opp = opp[t <= window_end].reset_index(drop=True)
    if opp.empty:
        raise ValueError(
            f"live data spans less than max_hold_hours={config.max_hold_hours:g} h; collect "
            "longer or lower --max-hold"
        )
    start = pd.to_datetime(opp["timestamp"], utc=True).min()
    start_ms, end_ms = int(start.value // 10**6), int(last.value // 10**6)
    cands = {"ml": _ml_candidates(opp, scorer, config), "rule_based": _rule_candidates(opp, config)}
    results = {}
    for name, c in cands.items():
        c["realised_pct"] = realise(
            opp, live, c["hold_hours"].to_numpy(), config.opportunities.costs
        )
        c = c[np.isfinite(c["realised_pct"].to_numpy())]
        results[name] = backtest(c, config.rules, start_ms, end_ms)
    bucket_ms = int(config.bucket_hours * HOUR_MS)
    n = max(1, math.ceil((end_ms - start_ms) / bucket_ms))
    cap = config.rules.capital_usd
    diff = _bucket_pnl(results["ml"], start_ms, n, bucket_ms, cap) - _bucket_pnl(
        results["rule_based"], start_ms, n, bucket_ms, cap
    )
    lo, hi = block_bootstrap(diff, config)
    point = results["ml"].metrics["net_return"] - results["rule_based"].metrics["net_return"]
    significant = bool(np.isfinite(lo) and (lo > 0 or hi < 0))
    level = f"{config.confidence:.0%}"
    interval = f"{level} interval [{lo:+.4%}, {hi:+.4%}]"
    if significant:
        better = "ML" if point > 0 else "rule-based"
        statement = f"{better} ahead: difference {point:+.4%} of capital, {interval} excludes 0"
    else:
        statement = f"no significant difference: {point:+.4%} of capital, {interval} includes 0"
    difference = {
        "net_return_diff": point,
        "ci_low": lo,
        "ci_high": hi,
        "confidence": config.confidence,
        "buckets": n,
        "bucket_hours": config.bucket_hours,
        "significant": significant,
        "statement": statement,
    }
    return PaperResult(results, difference, start, last, len(opp), version)
