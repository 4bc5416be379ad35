"""Trading backtest on out-of-sample rows: what a scorer is worth when it picks the trades.

Every strategy (a model family or a baseline) hands over one candidate per opportunity: the
hold it would use (a simulated row), a ranking score and whether its entry rule lets it in.
At each snapshot, in score order, up to ``top_k`` candidates are entered, at most one per
symbol (and none on a symbol still held, by default), while open positions fit
``capital_usd``; each trade
realises that row's simulated net PnL at entry + hold. Staying flat is a valid outcome.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from arbscore.evaluation.config import EvaluationConfig

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS

#: columns a candidate table must have
CANDIDATE_COLUMNS = ("timestamp_ms", "symbol", "hold_hours", "realised_pct", "score", "enter")


@dataclass(frozen=True)
class BacktestResult:
    metrics: dict[str, float]
    trades: pd.DataFrame  # entry_ms, exit_ms, symbol, hold_hours, realised_pct, pnl_usd
    equity: pd.DataFrame  # time_ms, equity (fraction of starting capital)


def select_trades(candidates: pd.DataFrame, config: EvaluationConfig) -> pd.DataFrame:
    """The trades taken from ``candidates`` under top-k, one-per-symbol and capital limits."""
    missing = [c for c in CANDIDATE_COLUMNS if c not in candidates.columns]
    if missing:
        raise ValueError(f"backtest candidates lack columns {missing}")
    c = candidates[candidates["enter"].to_numpy(dtype=bool)]
    c = c[np.isfinite(c["score"].to_numpy(dtype=float))]
    c = c.sort_values(["timestamp_ms", "score"], ascending=[True, False], kind="mergesort")
    ts = c["timestamp_ms"].to_numpy(dtype=np.int64)
    sym = c["symbol"].to_numpy(dtype=object)
    hold = c["hold_hours"].to_numpy(dtype=float)
    pct = c["realised_pct"].to_numpy(dtype=float)
    open_heap: list[tuple[int, str]] = []  # (exit_ms, symbol)
    held: dict[str, int] = {}
    taken: list[int] = []
    i, n = 0, len(c)
    while i < n:
        j = i
        while j < n and ts[j] == ts[i]:
            j += 1
        now = ts[i]
        while open_heap and open_heap[0][0] <= now:  # positions closed by now free capital
            _, s = heapq.heappop(open_heap)
            held[s] -= 1
            if not held[s]:
                del held[s]
        free = config.max_positions - len(open_heap)
        k = 0
        now_symbols: set[str] = set()
        for r in range(i, j):
            if k >= config.top_k or free <= 0:
                break
            if sym[r] in now_symbols or (config.one_position_per_symbol and sym[r] in held):
                continue
            now_symbols.add(sym[r])
            exit_ms = int(now + hold[r] * HOUR_MS)
            heapq.heappush(open_heap, (exit_ms, sym[r]))
            held[sym[r]] = held.get(sym[r], 0) + 1
            taken.append(r)
            k += 1
            free -= 1
        i = j
    out = pd.DataFrame(
        {
            "entry_ms": ts[taken],
            "exit_ms": (ts[taken] + hold[taken] * HOUR_MS).astype(np.int64),
            "symbol": sym[taken],
            "hold_hours": hold[taken],
            "realised_pct": pct[taken],
        }
    )
    out["pnl_usd"] = out["realised_pct"] * config.position_usd / 100.0
    return out


def backtest(
    candidates: pd.DataFrame, config: EvaluationConfig, start_ms: int, end_ms: int
) -> BacktestResult:
    """Trades, realised equity curve and metrics for one strategy on one test window.

    Sharpe is annualised (sqrt 365) from daily realised PnL over the window (through the last
    exit), relative to capital; max drawdown is peak-to-trough of the realised equity, <= 0.
    """
    trades = select_trades(candidates, config)
    trades = trades.sort_values("exit_ms", kind="mergesort").reset_index(drop=True)
    equity = 1.0 + np.cumsum(trades["pnl_usd"].to_numpy()) / config.capital_usd
    curve = pd.DataFrame(
        {
            "time_ms": np.concatenate([[start_ms], trades["exit_ms"].to_numpy()]),
            "equity": np.concatenate([[1.0], equity]),
        }
    )
    peak = np.maximum.accumulate(curve["equity"].to_numpy())
    drawdown = float(np.min(curve["equity"].to_numpy() / peak - 1.0))
    last = max(end_ms, int(trades["exit_ms"].max()) if len(trades) else end_ms)
    n_days = max(1, math.ceil((last - start_ms) / DAY_MS))
    daily = np.zeros(n_days)
    if len(trades):
        day = np.minimum((trades["exit_ms"].to_numpy() - start_ms) // DAY_MS, n_days - 1)
        np.add.at(daily, day.astype(int), trades["pnl_usd"].to_numpy() / config.capital_usd)
    sd = float(daily.std(ddof=1)) if n_days > 1 else 0.0
    sharpe = float(daily.mean() / sd * math.sqrt(365.0)) if sd > 0 else 0.0
    pnl = trades["pnl_usd"].to_numpy()
    metrics = {
        "net_return": float(pnl.sum() / config.capital_usd),
        "sharpe": sharpe,
        "win_rate": float(np.mean(pnl > 0)) if pnl.size else math.nan,
        "max_drawdown": drawdown,
        "trades": float(pnl.size),
        "mean_trade_pct": float(trades["realised_pct"].mean()) if pnl.size else math.nan,
    }
    return BacktestResult(metrics=metrics, trades=trades, equity=curve)
