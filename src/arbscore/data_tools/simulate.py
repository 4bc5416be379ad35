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
    chunk_size: int = 2048

    def __post_init__(self) -> None:
        if len(set(self.holds_hours)) != len(self.holds_hours):
            raise ValueError(f"simulation.holds_hours {self.holds_hours} repeats a hold")
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


def _hold_labels(
    grid: MarketGrid, legs: _Legs, sel: np.ndarray, steps: int, hold_steps: np.ndarray, size: float
) -> dict[str, np.ndarray]:
    """Labels of opportunities ``sel``: (n, holds) arrays per hold plus the per-opportunity optimum.

    The value path (USD, steps 1..``steps``) is
    ``a_l * P_long - a_s * P_short + q_s * F_short - q_l * F_long + const`` with
    ``a_l = q_l (1 - c_l)``, ``a_s = q_s (1 + c_s)``, ``c`` = fee + slippage per fill and
    ``F`` the cumulative funding per unit; each path is read as one contiguous window of its
    series row. Steps past the data are -inf (they never win the optimum).
    """
    g0 = legs.g0[sel]
    sl, ss = legs.s_long[sel], legs.s_short[sel]
    n = len(sel)

    def window(table: np.ndarray, rows: np.ndarray) -> np.ndarray:
        view = np.lib.stride_tricks.sliding_window_view(table, steps, axis=1)
        return view[rows, g0 + 1]  # (n, steps): grid steps g0+1 .. g0+steps

    pl0, ps0 = grid.price[sl, g0], grid.price[ss, g0]
    fl0, fs0 = grid.cum_funding[sl, g0], grid.cum_funding[ss, g0]
    q_l, q_s = size / pl0, size / ps0
    fee_l, slip_l = legs.cost_long[sel, 0], legs.cost_long[sel, 1]
    fee_s, slip_s = legs.cost_short[sel, 0], legs.cost_short[sel, 1]
    c_l, c_s = fee_l + slip_l, fee_s + slip_s
    value = window(grid.price, sl)
    value *= (q_l * (1.0 - c_l))[:, None]
    value -= window(grid.price, ss) * (q_s * (1.0 + c_s))[:, None]
    value += window(grid.cum_funding, ss) * q_s[:, None]
    value -= window(grid.cum_funding, sl) * q_l[:, None]
    value += (q_l * fl0 - q_s * fs0 - size * (c_l + c_s))[:, None]
    room = legs.last[sel] - g0  # steps the data covers after entry
    if (room < steps).any():
        value[np.arange(steps)[None, :] >= room[:, None]] = -np.inf
    best_k = np.argmax(value, axis=1)
    cols = hold_steps - 1
    head = value[:, : cols[-1] + 1]
    starts = np.concatenate([[0], cols[:-1] + 1])
    peak = np.maximum.accumulate(np.maximum.reduceat(head, starts, axis=1), axis=1)
    trough = np.minimum.accumulate(np.minimum.reduceat(head, starts, axis=1), axis=1)
    at = g0[:, None] + hold_steps[None, :]  # grid step of each hold's exit, (n, holds)
    pl, ps = grid.price[sl[:, None], at], grid.price[ss[:, None], at]
    exit_l, exit_s = q_l[:, None] * pl, q_s[:, None] * ps
    funding = q_s[:, None] * (grid.cum_funding[ss[:, None], at] - fs0[:, None]) - q_l[:, None] * (
        grid.cum_funding[sl[:, None], at] - fl0[:, None]
    )
    count = (grid.cum_count[ss[:, None], at] - grid.cum_count[ss, g0][:, None]) + (
        grid.cum_count[sl[:, None], at] - grid.cum_count[sl, g0][:, None]
    )
    fees = (size * (fee_l + fee_s))[:, None] + exit_l * fee_l[:, None] + exit_s * fee_s[:, None]
    slippage = (size * (slip_l + slip_s))[:, None] + exit_l * slip_l[:, None]
    slippage += exit_s * slip_s[:, None]
    return {
        "fits": room[:, None] >= hold_steps[None, :],
        "value": value[:, cols],
        "peak": peak,
        "trough": trough,
        "funding": funding,
        "count": count.astype(np.int64),
        "fees": fees,
        "slippage": slippage,
        "best_k": best_k,
        "best": value[np.arange(n), best_k],
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
    holds = np.asarray(sorted(config.holds_hours), dtype=np.int64)
    hold_steps = holds * 60 // config.step_minutes
    out_rows: list[np.ndarray] = []
    cols: dict[str, list[np.ndarray]] = {
        c: [] for c in (*EXECUTION_LABEL_COLUMNS, HOLD_COLUMN, *OPPORTUNITY_LABEL_COLUMNS)
    }
    chunks = range(0, len(candidates), config.chunk_size)
    for done, lo in enumerate(chunks, start=1):
        sel = candidates[lo : lo + config.chunk_size]
        lab = _hold_labels(grid, legs, sel, steps, hold_steps, size)
        best_pct = lab["best"] / size * 100.0
        best_hours = (lab["best_k"] + 1) * config.step_minutes / 60.0
        for j, hours in enumerate(holds):
            r = np.flatnonzero(lab["fits"][:, j])
            if not len(r):
                continue
            value = lab["value"][r, j]
            out_rows.append(sel[r])
            cols[HOLD_COLUMN].append(np.full(len(r), hours, dtype=np.int64))
            cols["actual_hold_hours"].append(np.full(len(r), float(hours)))
            cols["actual_profit_pct"].append(value / size * 100.0)
            cols["actual_profit_usd"].append(value)
            cols["was_profitable"].append(value > 0)
            cols["peak_profit"].append(lab["peak"][r, j] / size * 100.0)
            cols["max_drawdown"].append(lab["trough"][r, j] / size * 100.0)
            cols["funding_payments_count"].append(lab["count"][r, j])
            cols["total_funding_earned_usd"].append(lab["funding"][r, j])
            cols["total_slippage_pct"].append(lab["slippage"][r, j] / size * 100.0)
            cols["total_fees_usd"].append(lab["fees"][r, j])
            cols["optimal_hold_hours"].append(best_hours[r])
            cols["best_profit_pct"].append(best_pct[r])
        if progress is not None:
            progress("simulate", done, len(chunks))
    index = np.concatenate(out_rows) if out_rows else np.zeros(0, np.int64)
    labels = {c: (np.concatenate(v) if v else np.zeros(0)) for c, v in cols.items()}
    return _assemble(opportunities, labels, index, data_source)


def _assemble(
    opps: pd.DataFrame, labels: dict, index: np.ndarray, data_source: str
) -> pd.DataFrame:
    """Opportunity columns repeated per hold + labels: in the opportunities' order (time, then
    opportunity, as ``detect_opportunities`` sorts them), holds ascending."""
    holds = np.asarray(labels.get(HOLD_COLUMN, np.zeros(0)), dtype=np.int64)
    order = np.lexsort((holds, index))  # integer sort: cheap next to sorting object columns
    frame = opps.iloc[index[order]].reset_index(drop=True)
    names = (HOLD_COLUMN, *EXECUTION_LABEL_COLUMNS, *OPPORTUNITY_LABEL_COLUMNS)
    for name in names:
        values = np.asarray(labels.get(name, np.zeros(0)))[order]
        if name == "was_profitable":
            values = values.astype(bool)
        elif name in (HOLD_COLUMN, "funding_payments_count"):
            values = values.astype(np.int64)
        frame[name] = values
    frame["data_source"] = data_source
    return frame
