"""Pooled trading metrics from daily marked-to-market returns, with block-bootstrap intervals.

Daily return ``r_d`` = equity change on day d / starting capital. Over ``n`` days:

- ``annual_return_pct`` = mean(r) x 365 x 100; ``volatility_pct`` = std(r, ddof=1) x sqrt(365)
  x 100; ``sharpe`` = mean(r) / std(r) x sqrt(365) (0 for a flat book: no risk, no return);
  ``sortino`` = mean(r) / sqrt(mean(min(r, 0)^2)) x sqrt(365) (null without a losing day);
- ``max_drawdown_pct`` = min over days of equity / running peak - 1, x 100 (<= 0), on the
  daily marked equity, starting capital included; ``calmar`` = annual return / |max drawdown|;
- ``trades``, ``win_rate`` (share of trades with PnL > 0), ``avg_hold_hours``, ``liquidations``,
  ``turnover_per_year`` (USD traded, 4 fills of ``position_usd`` per trade, per year / capital);
- cost breakdown, annualised in % of capital like the return: ``funding_pct`` earned,
  ``fees_pct`` and ``slippage_pct`` paid, ``basis_pct`` = PnL - funding + fees + slippage, so
  funding - fees - slippage + basis = the realised annual return (equal to
  ``annual_return_pct`` when every position closed inside the span; a position still open at
  the span's end counts in full here and at its mark in the return).

- ``capital_in_use_pct`` = mean over days of the margin open at the day's start / capital x
  100; ``annual_return_on_deployed_pct`` = annual_return_pct / (capital_in_use_pct / 100), the
  return on the capital the strategy actually used (null for a book that never deployed).

Intervals: ``arch``'s stationary (Politis & Romano 1994) or circular block bootstrap
(``bootstrap_method``) of the daily returns, ``bootstrap_samples`` draws seeded by
``bootstrap_seed``; the mean block length is Politis & White's automatic choice
(``arch.bootstrap.optimal_block_length``, 2004 with the 2009 correction) on the series resampled,
at least 1 day (1 on a series shorter than ``MIN_BLOCK_DAYS_SERIES`` days), unless
``bootstrap_block_days`` fixes it. The 2.5 and 97.5 percentiles. A
difference between two strategies bootstraps the series of daily differences, so both are
resampled on the *same* days (paired). A series that never moves has the interval [0, 0].

Verdict of a family against a baseline (``verdict``): fewer than ``min_trades`` trades, or a
difference interval that holds 0, is ``VERDICT_NONE`` ("not enough evidence").
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from arbscore.evaluation.config import EvaluationConfig

YEAR_DAYS = 365.0
#: a series shorter than this (days) is resampled day by day: Politis-White needs more
MIN_BLOCK_DAYS_SERIES = 10
#: the verdict of a family against a baseline, by its trades and its difference's interval
VERDICT_EDGE, VERDICT_WORSE, VERDICT_NONE = "edge", "worse", "not enough evidence"


def block_length_days(r: np.ndarray, config: EvaluationConfig) -> float:
    """The bootstrap's mean block length for series ``r`` (see the module docstring)."""
    if config.bootstrap_block_days is not None:
        return float(config.bootstrap_block_days)
    r = np.asarray(r, float)
    if len(r) < MIN_BLOCK_DAYS_SERIES or not np.std(r) > 0:
        return 1.0
    from arch.bootstrap import optimal_block_length

    with np.errstate(divide="ignore", invalid="ignore"):  # short or sparse series: NaN -> 1
        b = float(optimal_block_length(r)[config.bootstrap_method].iloc[0])
    return max(1.0, b) if np.isfinite(b) else 1.0


def bootstrap(r: np.ndarray, config: EvaluationConfig) -> tuple[np.ndarray, float]:
    """(samples x 2 array of [annual return %, Sharpe] on resampled days, block length)."""
    r = np.asarray(r, float)
    block = block_length_days(r, config)
    if len(r) < 2 or not np.std(r) > 0:  # nothing moves: every resample is the series itself
        value = np.array([annual_return_pct(r) if len(r) else 0.0, 0.0])
        return np.tile(value, (config.bootstrap_samples, 1)), block
    from arch.bootstrap import CircularBlockBootstrap, StationaryBootstrap

    if config.bootstrap_method == "circular":
        bs = CircularBlockBootstrap(int(np.ceil(block)), r, seed=config.bootstrap_seed)
    else:
        bs = StationaryBootstrap(block, r, seed=config.bootstrap_seed)
    samples = bs.apply(
        lambda x: np.array([annual_return_pct(x), sharpe(x)]), config.bootstrap_samples
    )
    return samples, block


def annual_return_pct(r: np.ndarray, axis: int = -1) -> np.ndarray | float:
    return np.mean(r, axis=axis) * YEAR_DAYS * 100.0


def sharpe(r: np.ndarray, axis: int = -1) -> np.ndarray | float:
    """Annualised Sharpe (risk-free 0); 0 where the returns do not vary."""
    mean, sd = np.mean(r, axis=axis), np.std(r, axis=axis, ddof=1) if r.shape[axis] > 1 else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(sd > 1e-15, mean / np.where(sd > 1e-15, sd, 1.0), 0.0) * math.sqrt(YEAR_DAYS)
    return float(out) if np.ndim(out) == 0 else out


def _ci(samples: np.ndarray) -> list[float]:
    return [float(np.percentile(samples, 2.5)), float(np.percentile(samples, 97.5))]


def max_drawdown_pct(equity: np.ndarray) -> float:
    peak = np.maximum.accumulate(equity)
    return float(np.min(equity / peak - 1.0) * 100.0)


def trade_stats(trades: pd.DataFrame, n_days: int, config: EvaluationConfig) -> dict:
    """Trade counts, win rate, hold, turnover and the annualised cost breakdown."""
    years = n_days / YEAR_DAYS
    cap = config.capital_usd
    pnl = trades["pnl_usd"].to_numpy(float)

    def annual(col: str) -> float:
        return float(trades[col].sum() / cap * 100.0 / years) if len(trades) else 0.0

    return {
        "trades": int(len(trades)),
        "win_rate": float(np.mean(pnl > 0)) if len(pnl) else math.nan,
        "avg_hold_hours": float(trades["exit_hours"].mean()) if len(trades) else math.nan,
        "liquidations": int(trades["liquidated"].sum()) if len(trades) else 0,
        "turnover_per_year": float(len(trades) * 4 * config.position_usd / cap / years),
        "funding_pct": annual("funding_usd"),
        "fees_pct": annual("fees_usd"),
        "slippage_pct": annual("slippage_usd"),
        "basis_pct": annual("basis_usd"),
    }


def return_metrics(equity: np.ndarray, config: EvaluationConfig) -> dict:
    """Return, risk and drawdown of a daily equity curve (USD, starting capital first)."""
    r = np.diff(equity) / config.capital_usd
    ann = float(annual_return_pct(r))
    sd = float(np.std(r, ddof=1)) if len(r) > 1 else 0.0
    down = float(np.sqrt(np.mean(np.minimum(r, 0.0) ** 2))) if len(r) else 0.0
    dd = max_drawdown_pct(equity)
    return {
        "annual_return_pct": ann,
        "volatility_pct": sd * math.sqrt(YEAR_DAYS) * 100.0,
        "sharpe": float(sharpe(r)),
        "sortino": float(np.mean(r) / down * math.sqrt(YEAR_DAYS)) if down > 0 else math.nan,
        "max_drawdown_pct": dd,
        "calmar": ann / abs(dd) if dd < 0 else math.nan,
        "total_return_pct": float((equity[-1] - equity[0]) / config.capital_usd * 100.0),
        "days": int(len(r)),
    }


def deployment(
    annual_pct: float, deployed_usd: np.ndarray, config: EvaluationConfig
) -> dict[str, float]:
    """``capital_in_use_pct`` and ``annual_return_on_deployed_pct`` (module docstring)."""
    in_use = float(np.mean(deployed_usd) / config.capital_usd * 100.0) if len(deployed_usd) else 0.0
    on_deployed = annual_pct / (in_use / 100.0) if in_use > 0 else math.nan
    return {"capital_in_use_pct": in_use, "annual_return_on_deployed_pct": on_deployed}


def pooled_metrics(
    equity: dict[str, np.ndarray],
    trades: dict[str, pd.DataFrame],
    config: EvaluationConfig,
    deployed: dict[str, np.ndarray] | None = None,
) -> dict[str, dict]:
    """``backtest.pooled.<strategy>``: return metrics, intervals, deployment and trade stats
    per strategy; each strategy's figures depend on its own curve only. ``deployed``: per
    strategy, the margin open at each day's start (USD, one per day)."""
    out = {}
    for name, eq in equity.items():
        r = np.diff(eq) / config.capital_usd
        samples, block = bootstrap(r, config)
        m = return_metrics(eq, config)
        m["annual_return_ci95"] = _ci(samples[:, 0])
        m["sharpe_ci95"] = _ci(samples[:, 1])
        m["bootstrap_block_days"] = block
        used = deployed[name] if deployed is not None else np.zeros(len(r))
        m.update(deployment(m["annual_return_pct"], used, config))
        m.update(trade_stats(trades[name], len(r), config))
        out[name] = m
    return out


def verdict(ci: list[float], trades: int, config: EvaluationConfig) -> str:
    """``VERDICT_NONE`` below ``min_trades`` trades or when the interval holds 0; else
    ``VERDICT_EDGE`` (interval above 0) or ``VERDICT_WORSE`` (below)."""
    if trades < config.min_trades or not (ci[0] > 0 or ci[1] < 0):
        return VERDICT_NONE
    return VERDICT_EDGE if ci[0] > 0 else VERDICT_WORSE


def versus(
    equity: dict[str, np.ndarray],
    trades: dict[str, pd.DataFrame],
    family: str,
    baseline: str,
    config: EvaluationConfig,
) -> dict:
    """``family`` minus ``baseline``: annual return difference, its paired interval, verdict."""
    d = (np.diff(equity[family]) - np.diff(equity[baseline])) / config.capital_usd
    samples, block = bootstrap(d, config)
    ci = _ci(samples[:, 0])
    n = int(len(trades[family]))
    return {
        "against": baseline,
        "diff_annual_return_pct": float(annual_return_pct(d)) if len(d) else 0.0,
        "diff_ci95": ci,
        "bootstrap_block_days": block,
        "trades": n,
        "min_trades": config.min_trades,
        "verdict": verdict(ci, n, config),
    }


def fold_metrics(
    equity: np.ndarray,
    trades: pd.DataFrame,
    grid_ms: np.ndarray,
    windows: list[tuple[int, int]],
    config: EvaluationConfig,
) -> list[dict]:
    """The pooled curve cut at the folds' test windows (the last one runs to the grid's end);
    trades counted in the window they entered."""
    out = []
    for k, (lo, hi) in enumerate(windows):
        last = k == len(windows) - 1
        sel = np.flatnonzero((grid_ms > lo) & ((grid_ms <= hi) | last))  # returns ending there
        first = max(int(sel[0]) - 1, 0) if sel.size else 0
        eq = equity[first : int(sel[-1]) + 1] if sel.size else equity[:1]
        eq = eq - eq[0] + config.capital_usd
        t = trades[(trades["entry_ms"] >= lo) & (trades["entry_ms"] < hi)]
        m = return_metrics(eq, config) if len(eq) > 1 else {}
        pnl = t["pnl_usd"].to_numpy(float)
        out.append(
            {
                "annual_return_pct": m.get("annual_return_pct", math.nan),
                "sharpe": m.get("sharpe", math.nan),
                "max_drawdown_pct": m.get("max_drawdown_pct", math.nan),
                "trades": float(len(t)),
                "win_rate": float(np.mean(pnl > 0)) if len(pnl) else math.nan,
            }
        )
    return out


def splits(trades: pd.DataFrame, config: EvaluationConfig) -> dict[str, dict]:
    """Per strategy kind and per symbol: trades, PnL in % of capital (whole span), win rate."""
    out: dict[str, dict] = {}
    for col, key in (("strategy", "by_kind"), ("symbol", "by_symbol")):
        block = {}
        for value, g in trades.groupby(col, sort=True):
            pnl = g["pnl_usd"].to_numpy(float)
            block[str(value)] = {
                "trades": int(len(g)),
                "pnl_pct": float(pnl.sum() / config.capital_usd * 100.0),
                "win_rate": float(np.mean(pnl > 0)),
            }
        out[key] = block
    return out
