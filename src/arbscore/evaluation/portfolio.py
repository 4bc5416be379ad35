"""The portfolio backtest: one book over the pooled out-of-sample span, marked to market daily.

``book_trades``: the candidate positions of one strategy (``positions.POSITION_COLUMNS`` plus
``score``, ``enter`` and ``fold``), pooled over the folds (fold k's models trade fold k's test
window), are taken in time order and, within a snapshot, in score order, while

- at most ``top_k`` enter per snapshot;
- the open margin (both legs: ``capital_multiple x position_usd`` each) fits ``capital_usd``;
- at most ``max_open_positions`` are open, ``max_positions_per_symbol`` per symbol and
  ``max_positions_per_venue`` per exchange (a position counts once on each venue it uses).

A position ends at its own exit (``exit_hours`` after entry: its hold, its signal exit, its
liquidation, or the end of its continuation past the label boundary, whichever the row says):
its margin and its slots come back then. It may lie past its fold's end: positions carry
across fold boundaries. Its PnL is ``realised_pct`` of ``position_usd``; per position
funding - fees - slippage + basis = PnL to the cent.

``daily_equity``: at every UTC midnight of the grid, equity = capital + realised PnL of the
positions closed by then + the marked value of those still open (linear between the position's
knots: entry at ``entry_mark_pct``, its daily marks or hold rows, its exit value; a continued
position runs through each segment's knots in turn) + interest on idle capital
(``idle_rate_pct`` a year, simple, on capital minus the margin open at the day's start).
Daily returns are equity changes over the starting capital (positions have a fixed USD size,
so no compounding); they feed every pooled metric. The grid is one fixed span for every
strategy (``DayGrid.spanning`` of the out-of-sample window plus a tail): a position still open
at its end is valued at its mark there.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
import pandas as pd

from arbscore.evaluation.config import EvaluationConfig
from arbscore.evaluation.positions import POSITION_COLUMNS

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
CANDIDATE_EXTRA = ("score", "enter", "fold")


@dataclass(frozen=True)
class DayGrid:
    """UTC midnights ``times_ms[0] < ... < times_ms[-1]``; return i covers (t[i-1], t[i]]."""

    times_ms: np.ndarray

    @classmethod
    def spanning(cls, start_ms: int, end_ms: int) -> DayGrid:
        """Midnights from the one at or before ``start_ms`` to the one at or after ``end_ms``."""
        lo = (int(start_ms) // DAY_MS) * DAY_MS
        hi = -(-int(end_ms) // DAY_MS) * DAY_MS
        hi = max(hi, lo + DAY_MS)
        return cls(np.arange(lo, hi + 1, DAY_MS, dtype=np.int64))

    @property
    def n_days(self) -> int:
        return len(self.times_ms) - 1


def book_trades(candidates: pd.DataFrame, config: EvaluationConfig) -> pd.DataFrame:
    """The positions taken from ``candidates`` under the limits (see module docstring), with
    ``entry_ms``, ``exit_ms``, ``capital_usd``, ``pnl_usd`` and the USD cost parts added."""
    missing = [c for c in POSITION_COLUMNS + CANDIDATE_EXTRA if c not in candidates.columns]
    if missing:
        raise ValueError(f"backtest candidates lack columns {missing}")
    c = candidates[candidates["enter"].to_numpy(dtype=bool)]
    c = c[np.isfinite(c["score"].to_numpy(dtype=float))]
    c = c.sort_values(["timestamp_ms", "score"], ascending=[True, False], kind="mergesort")
    ts = c["timestamp_ms"].to_numpy(np.int64)
    exit_ms = ts + np.round(c["exit_hours"].to_numpy(float) * HOUR_MS).astype(np.int64)
    sym = c["symbol"].to_numpy(object)
    venues = [
        {a, b}
        for a, b in zip(c["long_exchange"].to_numpy(), c["short_exchange"].to_numpy(), strict=True)
    ]
    margin = c["capital_multiple"].to_numpy(float) * config.position_usd
    max_open = config.max_open_positions or len(c) + 1
    heap: list[tuple[int, int]] = []  # (exit_ms, candidate index) of open positions
    per_sym: dict[object, int] = {}
    per_venue: dict[str, int] = {}
    used = 0.0
    taken: list[int] = []
    i, n = 0, len(c)
    while i < n:
        now, j = ts[i], i
        while j < n and ts[j] == now:
            j += 1
        while heap and heap[0][0] <= now:  # closed by now: margin and slots come back
            _, r = heapq.heappop(heap)
            used -= margin[r]
            per_sym[sym[r]] -= 1
            for v in venues[r]:
                per_venue[v] -= 1
        k = 0
        for r in range(i, j):
            if k >= config.top_k or len(heap) >= max_open:
                break
            if per_sym.get(sym[r], 0) >= config.max_positions_per_symbol:
                continue
            if any(per_venue.get(v, 0) >= config.max_positions_per_venue for v in venues[r]):
                continue
            if used + margin[r] > config.capital_usd * (1 + 1e-12):
                continue
            heapq.heappush(heap, (int(exit_ms[r]), r))
            used += margin[r]
            per_sym[sym[r]] = per_sym.get(sym[r], 0) + 1
            for v in venues[r]:
                per_venue[v] = per_venue.get(v, 0) + 1
            taken.append(r)
            k += 1
        i = j
    out = c.iloc[taken].reset_index(drop=True)
    out.insert(1, "entry_ms", ts[taken])
    out.insert(2, "exit_ms", exit_ms[taken])
    size = config.position_usd
    out["capital_usd"] = margin[taken]
    out["pnl_usd"] = out["realised_pct"].to_numpy(float) * size / 100.0
    out["return_on_capital_pct"] = out["pnl_usd"] / out["capital_usd"] * 100.0
    for part in ("funding", "fees", "slippage"):
        out[f"{part}_usd"] = out[f"{part}_pct"].to_numpy(float) * size / 100.0
    out["basis_usd"] = out["pnl_usd"] - out["funding_usd"] + out["fees_usd"] + out["slippage_usd"]
    if "segments" not in out.columns:
        out["segments"] = _single(out)
    out["segments_count"] = [len(seg) for seg in out["segments"]]
    return out.drop(columns=["enter"])


def _single(trades: pd.DataFrame) -> list[tuple]:
    from arbscore.evaluation.continuation import single_segments

    return single_segments(trades)


def position_path(
    segments: tuple, knots: dict[object, tuple[np.ndarray, np.ndarray, np.ndarray]]
) -> tuple[np.ndarray, np.ndarray]:
    """(hours after entry, value % of notional) knots of one position through its segments:
    each segment's entry mark, its marks before its exit, and the last segment's exit value."""
    empty = (np.array([]), np.array([]), np.array([]))
    hs: list[np.ndarray] = []
    vs: list[np.ndarray] = []
    for k, (oid, start, offset, exit_h, final, v0) in enumerate(segments):
        h, v, _ = knots.get(oid, empty)
        inside = (h > 1e-9) & (h < exit_h - 1e-9)
        last = k == len(segments) - 1
        hs.append(np.concatenate([[start], start + h[inside], [start + exit_h] if last else []]))
        vs.append(
            np.concatenate([[offset + v0], offset + v[inside], [offset + final] if last else []])
        )
    return np.concatenate(hs), np.concatenate(vs)


def deployed_usd(trades: pd.DataFrame, grid: DayGrid) -> np.ndarray:
    """Margin open at the start of each day of ``grid`` (length n_days), USD."""
    start = grid.times_ms[:-1]
    out = np.zeros(len(start))
    for entry, exit_, cap in zip(
        trades["entry_ms"].to_numpy(np.int64),
        trades["exit_ms"].to_numpy(np.int64),
        trades["capital_usd"].to_numpy(float),
        strict=True,
    ):
        out[(start >= entry) & (start < exit_)] += cap
    return out


def daily_equity(
    trades: pd.DataFrame,
    knots: dict[object, tuple[np.ndarray, np.ndarray, np.ndarray]],
    grid: DayGrid,
    config: EvaluationConfig,
) -> np.ndarray:
    """Equity in USD at each midnight of ``grid`` (see module docstring); length n_days + 1."""
    t = grid.times_ms
    equity = np.full(len(t), float(config.capital_usd))
    size = config.position_usd / 100.0
    segments = trades["segments"] if "segments" in trades.columns else _single(trades)
    for entry, exit_, final, seg in zip(
        trades["entry_ms"].to_numpy(np.int64),
        trades["exit_ms"].to_numpy(np.int64),
        trades["realised_pct"].to_numpy(float),
        segments,
        strict=True,
    ):
        closed = t >= exit_
        equity[closed] += final * size
        open_ = (t > entry) & ~closed
        if open_.any():
            kh, kv = position_path(seg, knots)
            elapsed = (t[open_] - entry) / HOUR_MS
            equity[open_] += np.interp(elapsed, kh, kv) * size
    if config.idle_rate_pct:
        idle = config.capital_usd - deployed_usd(trades, grid)
        equity[1:] += np.cumsum(idle * config.idle_rate_pct / 100.0 / 365.0)
    return equity
