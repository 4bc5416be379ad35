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
  ``annual_return_pct`` when every position closed inside the grid, as the backtest ensures).

Intervals: a circular moving-block bootstrap (Politis & Romano's circular blocks, fixed length
``bootstrap_block_days``, ``bootstrap_samples`` draws, seeded) of the days; the 2.5 and 97.5
percentiles. Differences between strategies resample the *same* days (paired).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from arbscore.evaluation.config import EvaluationConfig

YEAR_DAYS = 365.0
#: the verdict of a family against the rule, by where the difference's interval lies
VERDICT_EDGE, VERDICT_WORSE, VERDICT_NONE = "edge", "worse than the rule", "no evidence of an edge"


def block_bootstrap_indices(n_days: int, config: EvaluationConfig) -> np.ndarray:
    """(samples, n_days) day indices: circular blocks of ``bootstrap_block_days``, seeded."""
    rng = np.random.default_rng(config.bootstrap_seed)
    block = min(config.bootstrap_block_days, max(n_days, 1))
    n_blocks = -(-n_days // block)
    starts = rng.integers(0, n_days, size=(config.bootstrap_samples, n_blocks))
    idx = (starts[:, :, None] + np.arange(block)[None, None, :]) % n_days
    return idx.reshape(config.bootstrap_samples, -1)[:, :n_days]


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


def pooled_metrics(
    equity: dict[str, np.ndarray], trades: dict[str, pd.DataFrame], config: EvaluationConfig
) -> dict[str, dict]:
    """``backtest.pooled.<strategy>``: return metrics, intervals and trade stats per strategy."""
    n_days = len(next(iter(equity.values()))) - 1
    idx = block_bootstrap_indices(n_days, config)
    out = {}
    for name, eq in equity.items():
        r = np.diff(eq) / config.capital_usd
        boot = r[idx]
        m = return_metrics(eq, config)
        m["annual_return_ci95"] = _ci(annual_return_pct(boot, axis=1))
        m["sharpe_ci95"] = _ci(sharpe(boot, axis=1))
        m.update(trade_stats(trades[name], n_days, config))
        out[name] = m
    return out


def verdict(ci: list[float]) -> str:
    """'edge' when the difference's interval lies above 0, 'worse than the rule' when below."""
    if ci[0] > 0:
        return VERDICT_EDGE
    if ci[1] < 0:
        return VERDICT_WORSE
    return VERDICT_NONE


def versus_rule(
    equity: dict[str, np.ndarray], families: list[str], rule: str, config: EvaluationConfig
) -> dict[str, dict]:
    """``backtest.vs_rule.<family>``: annual return minus the rule's, paired bootstrap CI."""
    rule_r = np.diff(equity[rule]) / config.capital_usd
    idx = block_bootstrap_indices(len(rule_r), config)
    out = {}
    for fam in families:
        d = np.diff(equity[fam]) / config.capital_usd - rule_r
        ci = _ci(annual_return_pct(d[idx], axis=1))
        out[fam] = {
            "rule": rule,
            "diff_annual_return_pct": float(annual_return_pct(d)),
            "diff_ci95": ci,
            "verdict": verdict(ci),
        }
    return out


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
