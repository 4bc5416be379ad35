"""Position simulation: every opportunity x every hold -> the SPEC's labels, vectorised.

The position: at entry time ``t0`` buy ``N / P_long(t0)`` of the long leg and sell
``N / P_short(t0)`` of the short leg (``N`` = ``costs.position_size_usd`` per leg). Its
liquidation value at time ``t`` (the marked-to-market path, on the 5-minute grid) is

    price PnL of both legs
  + funding: each perp leg's settlements with time in (t0, t], at the leg's own timestamps and
    interval; payment = quantity x settlement price x rate, the short receives, the long pays
  - entry fees and slippage on both fills (notional N each)
  - exit fees and slippage on both fills at the current notional (closing at t).

A hold of ``h`` hours ends at ``t0 + h``; its profit is the path's value there, peak_profit and
max_drawdown are the max and min of the path over (t0, t0 + h]. optimal_hold_hours is the step of
the path up to ``horizon_hours`` (168 h) with the highest value, best_profit_pct that value.
Percent labels are percent of ``N``.

The work is whole-array numpy: for a chunk of opportunities the (n x steps) paths are gathered
from :class:`~arbscore.data_tools.simulate_grid.MarketGrid` in one go; there is no loop per
position.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from arbscore.data_tools.costs import CostConfig
from arbscore.data_tools.market import MarketData
from arbscore.data_tools.simulate_grid import MarketGrid, build_market_grid
from arbscore.data_tools.snapshots import MINUTE_MS
from arbscore.schema import (
    EXECUTION_LABEL_COLUMNS,
    HOLD_COLUMN,
    HOLD_GRID_HOURS,
    MAX_HOLD_HOURS,
    OPPORTUNITY_LABEL_COLUMNS,
    SNAPSHOT_MINUTES,
)

ProgressFn = Callable[[str, int, int], None]
LEG_INPUT_COLUMNS: tuple[str, ...] = (
    "timestamp",
    "symbol",
    "long_exchange",
    "long_market",
    "short_exchange",
    "short_market",
    "long_bid_ask_spread",
    "long_orderbook_depth",
    "short_bid_ask_spread",
    "short_orderbook_depth",
)


@dataclass(frozen=True)
class SimulationConfig:
    """What to simulate.

    ``full_horizon_only``: keep only opportunities whose whole ``horizon_hours`` path fits in the
    data, so optimal_hold_hours is always searched over the same horizon (True, default); when
    False every hold that fits is kept and the optimum is searched over the data available.
    """

    costs: CostConfig = field(default_factory=CostConfig)
    holds_hours: tuple[int, ...] = HOLD_GRID_HOURS
    horizon_hours: int = MAX_HOLD_HOURS
    step_minutes: int = SNAPSHOT_MINUTES
    full_horizon_only: bool = True
    chunk_size: int = 1024

    def __post_init__(self) -> None:
        if not self.holds_hours or min(self.holds_hours) <= 0:
            raise ValueError(f"simulation.holds_hours {self.holds_hours}: expected positive hours")
        if self.horizon_hours < max(self.holds_hours):
            raise ValueError(
                f"simulation.horizon_hours {self.horizon_hours} is shorter than the longest hold "
                f"{max(self.holds_hours)}"
            )
        if self.step_minutes <= 0 or 60 % self.step_minutes:
            raise ValueError(f"simulation.step_minutes {self.step_minutes} must divide 60")
        if self.chunk_size <= 0:
            raise ValueError("simulation.chunk_size must be > 0")


@dataclass
class _Legs:
    """Per-opportunity inputs as arrays (one entry per opportunity)."""

    g0: np.ndarray
    s_long: np.ndarray
    s_short: np.ndarray
    cost_long: np.ndarray  # (fee, slippage) fractions per fill
    cost_short: np.ndarray
    last: np.ndarray  # last grid step both legs cover


def _leg_inputs(opps: pd.DataFrame, grid: MarketGrid, costs: CostConfig) -> _Legs:
    t = opps["timestamp"].astype("datetime64[ms, UTC]").astype("int64").to_numpy()
    offset = t - grid.start_ms
    if (offset % grid.step_ms).any():
        raise ValueError("opportunity timestamps must lie on the simulation's step grid")
    g0 = offset // grid.step_ms
    sym = opps["symbol"].to_numpy()
    s_long = grid.rows(opps["long_exchange"].to_numpy(), sym, opps["long_market"].to_numpy())
    s_short = grid.rows(opps["short_exchange"].to_numpy(), sym, opps["short_market"].to_numpy())
    fees = costs.fees
    cost = {}
    for side in ("long", "short"):
        fee = fees.rates_for(opps[f"{side}_exchange"].to_numpy(), opps[f"{side}_market"].to_numpy())
        slip = costs.slippage_rate(
            opps[f"{side}_bid_ask_spread"].to_numpy(np.float64),
            opps[f"{side}_orderbook_depth"].to_numpy(np.float64),
        )
        cost[side] = np.stack([fee, slip], axis=1)
    last = np.minimum(
        grid.last_valid[np.maximum(s_long, 0)], grid.last_valid[np.maximum(s_short, 0)]
    )
    last = np.where((s_long < 0) | (s_short < 0), -1, last)
    return _Legs(g0, s_long, s_short, cost["long"], cost["short"], last)


def _paths(grid: MarketGrid, legs: _Legs, sel: np.ndarray, steps: int, size: float) -> dict:
    """Value path (USD) and its components for opportunities ``sel`` over ``steps`` grid steps."""
    g0 = legs.g0[sel]
    idx = g0[:, None] + np.arange(1, steps + 1)[None, :]
    valid = idx <= legs.last[sel][:, None]
    idx = np.minimum(idx, grid.size - 1)
    n_t = grid.size

    def gather(table: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        flat = table.reshape(-1)
        return flat[rows[:, None] * n_t + idx], flat[rows * n_t + g0]

    sl, ss = legs.s_long[sel], legs.s_short[sel]
    pl, pl0 = gather(grid.price, sl)
    ps, ps0 = gather(grid.price, ss)
    fl, fl0 = gather(grid.cum_funding, sl)
    fs, fs0 = gather(grid.cum_funding, ss)
    cl, cl0 = gather(grid.cum_count, sl)
    cs, cs0 = gather(grid.cum_count, ss)
    q_long = (size / pl0)[:, None]
    q_short = (size / ps0)[:, None]
    fee_l, slip_l = legs.cost_long[sel, 0:1], legs.cost_long[sel, 1:2]
    fee_s, slip_s = legs.cost_short[sel, 0:1], legs.cost_short[sel, 1:2]
    exit_long, exit_short = q_long * pl, q_short * ps  # notional closed at each step
    funding = q_short * (fs - fs0[:, None]) - q_long * (fl - fl0[:, None])
    fees = size * (fee_l + fee_s) + exit_long * fee_l + exit_short * fee_s
    slippage = size * (slip_l + slip_s) + exit_long * slip_l + exit_short * slip_s
    value = (exit_long - size) - (exit_short - size) + funding - fees - slippage
    value = np.where(valid, value, np.nan)
    count = (cs - cs0[:, None]) + (cl - cl0[:, None])
    return {
        "value": value,
        "valid": valid,
        "funding": funding,
        "fees": fees,
        "slippage": slippage,
        "count": count,
    }


def simulate_executions(
    opportunities: pd.DataFrame,
    market: MarketData,
    config: SimulationConfig,
    progress: ProgressFn | None = None,
) -> pd.DataFrame:
    """One row per (opportunity, hold that fits in the data) with every label of the SPEC.

    Returns the opportunity's columns, ``hold_hours``, ``schema.LABEL_COLUMNS`` and
    ``data_source`` ("synthetic" or "real" from ``market.synthetic``).
    """
    missing = [c for c in LEG_INPUT_COLUMNS if c not in opportunities]
    if missing:
        raise ValueError(
            f"opportunities frame is missing columns {missing}; use detect_opportunities"
        )
    data_source = "synthetic" if market.synthetic else "real"
    if opportunities.empty:
        return _assemble(opportunities, {}, np.zeros(0, np.int64), data_source)
    step_ms = config.step_minutes * MINUTE_MS
    steps = config.horizon_hours * 60 // config.step_minutes
    t = opportunities["timestamp"].astype("datetime64[ms, UTC]").astype("int64").to_numpy()
    start = int(t.min() // step_ms * step_ms)
    end = int(t.max()) + steps * step_ms
    series = set()
    for side in ("long", "short"):
        series |= set(
            zip(
                opportunities[f"{side}_exchange"],
                opportunities["symbol"],
                opportunities[f"{side}_market"],
                strict=True,
            )
        )
    grid = build_market_grid(market, series, start, end, config.step_minutes)
    legs = _leg_inputs(opportunities, grid, config.costs)
    size = config.costs.position_size_usd
    ok = (legs.last >= 0) & np.isfinite(grid.price[np.maximum(legs.s_long, 0), legs.g0])
    ok &= np.isfinite(grid.price[np.maximum(legs.s_short, 0), legs.g0])
    if config.full_horizon_only:
        ok &= legs.last >= legs.g0 + steps
    else:
        ok &= legs.last >= legs.g0 + min(config.holds_hours) * 60 // config.step_minutes
    candidates = np.flatnonzero(ok)
    hold_steps = [h * 60 // config.step_minutes for h in config.holds_hours]
    out_rows, out_cols = (
        [],
        {c: [] for c in (*EXECUTION_LABEL_COLUMNS, HOLD_COLUMN, *OPPORTUNITY_LABEL_COLUMNS)},
    )
    chunks = range(0, len(candidates), config.chunk_size)
    for done, lo in enumerate(chunks, start=1):
        sel = candidates[lo : lo + config.chunk_size]
        p = _paths(grid, legs, sel, steps, size)
        value_pct = p["value"] / size * 100.0
        best_k = np.argmax(np.where(p["valid"], value_pct, -np.inf), axis=1)
        rows = np.arange(len(sel))
        best = value_pct[rows, best_k]
        best_hours = (best_k + 1) * config.step_minutes / 60.0
        peak = np.fmax.accumulate(value_pct, axis=1)
        trough = np.fmin.accumulate(value_pct, axis=1)
        for hours, k in zip(config.holds_hours, hold_steps, strict=True):
            fits = p["valid"][:, k - 1]
            r = rows[fits]
            if not len(r):
                continue
            col = k - 1
            profit = value_pct[r, col]
            out_rows.append(sel[r])
            cols = out_cols
            cols[HOLD_COLUMN].append(np.full(len(r), hours, dtype=np.int64))
            cols["actual_hold_hours"].append(np.full(len(r), float(hours)))
            cols["actual_profit_pct"].append(profit)
            cols["actual_profit_usd"].append(p["value"][r, col])
            cols["was_profitable"].append(profit > 0)
            cols["peak_profit"].append(peak[r, col])
            cols["max_drawdown"].append(trough[r, col])
            cols["funding_payments_count"].append(p["count"][r, col].astype(np.int64))
            cols["total_funding_earned_usd"].append(p["funding"][r, col])
            cols["total_slippage_pct"].append(p["slippage"][r, col] / size * 100.0)
            cols["total_fees_usd"].append(p["fees"][r, col])
            cols["optimal_hold_hours"].append(best_hours[r])
            cols["best_profit_pct"].append(best[r])
        if progress is not None:
            progress("simulate", done, len(chunks))
    index = np.concatenate(out_rows) if out_rows else np.zeros(0, np.int64)
    labels = {c: (np.concatenate(v) if v else np.zeros(0)) for c, v in out_cols.items()}
    return _assemble(opportunities, labels, index, data_source)


def _assemble(
    opps: pd.DataFrame, labels: dict, index: np.ndarray, data_source: str
) -> pd.DataFrame:
    """Opportunity columns repeated per hold + labels, sorted by time, opportunity and hold."""
    frame = opps.iloc[index].reset_index(drop=True)
    names = (HOLD_COLUMN, *EXECUTION_LABEL_COLUMNS, *OPPORTUNITY_LABEL_COLUMNS)
    for name in names:
        values = labels.get(name, np.zeros(0))
        if name == "was_profitable":
            values = np.asarray(values, dtype=bool)
        elif name in (HOLD_COLUMN, "funding_payments_count"):
            values = np.asarray(values, dtype=np.int64)
        frame[name] = values
    frame["data_source"] = data_source
    keys = [c for c in ("timestamp", "opportunity_id") if c in frame] + [HOLD_COLUMN]
    return frame.sort_values(keys, kind="stable", ignore_index=True)
