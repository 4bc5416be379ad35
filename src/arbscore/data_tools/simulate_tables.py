"""The simulator's path plan and per-series tables (the gathering half of the kernel).

A :class:`PathPlan` says where a position's path is read: every grid step (5 min) up to
``FINE_PATH_HOURS`` (168 h), then every hour up to the horizon (720 h). :func:`series_tables`
turns the market grid into the tables the chunks gather from (``data_tools.simulate_path``'s
docstring has the value formula), :func:`gather` reads an (n, points) path from them, and
:func:`crossing` / :func:`settlement_points` find the first candle crossing a price and the
funding settlements on the path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arbscore.data_tools.costs import CostConfig
from arbscore.data_tools.exit_rule import SignalExitConfig
from arbscore.data_tools.margin import MarginConfig
from arbscore.data_tools.simulate_grid import MarketGrid
from arbscore.schema import FINE_PATH_HOURS


@dataclass(frozen=True)
class PathPlan:
    """Grid steps after entry of each path point: ``1..fine`` then every ``block`` steps."""

    offsets: np.ndarray
    fine: int
    block: int
    step_minutes: int

    @property
    def hours(self) -> np.ndarray:
        return self.offsets * self.step_minutes / 60.0

    def index(self, hours: np.ndarray | float) -> np.ndarray:
        """Path index of each hold (hours); ValueError when a hold is not on the path."""
        steps = np.round(np.asarray(hours, np.float64) * 60.0 / self.step_minutes).astype(int)
        idx = np.searchsorted(self.offsets, steps)
        bad = (idx >= len(self.offsets)) | (
            self.offsets[np.minimum(idx, len(self.offsets) - 1)] != steps
        )
        if np.any(bad):
            raise ValueError(
                f"holds {np.asarray(hours)[bad].tolist()} h are not on the path: beyond "
                f"{FINE_PATH_HOURS} h holds must be whole hours"
            )
        return idx


def path_plan(horizon_hours: int, step_minutes: int) -> PathPlan:
    """Every step to ``min(horizon, FINE_PATH_HOURS)``, hourly beyond, to the horizon."""
    per_hour = 60 // step_minutes
    fine = min(horizon_hours, FINE_PATH_HOURS) * per_hour
    coarse = np.arange(fine + per_hour, horizon_hours * per_hour + 1, per_hour)
    offsets = np.concatenate([np.arange(1, fine + 1), coarse]).astype(np.int64)
    return PathPlan(offsets, fine, per_hour, step_minutes)


@dataclass
class SeriesTables:
    """Per-series grid tables for a cost/margin/exit setting (module docstring).

    Each gathered table has a fine form (series x grid step) and a *phase* form for the hourly
    points: row ``series x block + phase`` holds steps ``phase, phase + block, ...`` so the
    hourly points of a path are one contiguous window too (a strided fancy index is ~6x
    slower). The high/low phase tables hold the extreme over the block before each point.
    """

    long_value: np.ndarray
    short_value: np.ndarray
    exit_fee: np.ndarray  # per series
    exit_slip: np.ndarray
    maintenance: np.ndarray  # per series
    edge: np.ndarray  # settled rates in the trailing window, percent
    high: np.ndarray
    low: np.ndarray
    block: int
    phase: dict[str, np.ndarray]
    day: int  # grid steps per day block
    day_high: np.ndarray  # highest high per day block (a cheap first test for liquidation)
    day_low: np.ndarray
    settle_steps: list[np.ndarray]  # grid steps with a settlement in (g - 1, g], per series


def _block(table: np.ndarray, block: int, how: str, fill: float) -> np.ndarray:
    pad = np.full((table.shape[0], block - 1), fill, dtype=table.dtype)
    view = np.lib.stride_tricks.sliding_window_view(np.hstack([pad, table]), block, axis=1)
    return view.max(axis=2) if how == "max" else view.min(axis=2)


def _phase(table: np.ndarray, block: int, fill: float) -> np.ndarray:
    """(series x block, ceil(steps / block)): row ``s * block + p`` = ``table[s, p::block]``."""
    n, size = table.shape
    cols = -(-size // block)
    padded = np.full((n, cols * block), fill, dtype=table.dtype)
    padded[:, :size] = table
    return np.ascontiguousarray(
        padded.reshape(n, cols, block).transpose(0, 2, 1).reshape(n * block, cols)
    )


def series_tables(
    grid: MarketGrid,
    costs: CostConfig,
    margin: MarginConfig,
    signal: SignalExitConfig,
    block: int,
) -> SeriesTables:
    """The tables of every series of ``grid`` (see the module docstring)."""
    keys = sorted(grid.keys, key=grid.keys.get)
    exchanges = np.asarray([k[0] for k in keys], dtype=object)
    markets = np.asarray([k[2] for k in keys], dtype=object)
    exit_fee = costs.fees.rates_for(exchanges, markets, "exit")
    exit_slip = costs.estimated_slippage_rate(grid.spread_pct, grid.volatility_pct, grid.volume_24h)
    unit = grid.price * (exit_fee[:, None] + exit_slip)
    w = int(round(signal.window_hours * 3_600_000 / grid.step_ms))
    lagged = np.zeros_like(grid.cum_rate)
    if w < grid.size:
        lagged[:, w:] = grid.cum_rate[:, :-w]
    lagged[:, : min(w, grid.size)] = grid.cum_rate[:, :1]  # before the grid (entries are later)
    count = grid.cum_count
    settled = np.zeros(count.shape, dtype=bool)
    settled[:, 1:] = count[:, 1:] > count[:, :-1]
    day = 24 * block
    days = -(-grid.size // day) + 2 + -(-grid.size // day)  # room for any window of the grid

    def per_day(table: np.ndarray, how: str, fill: float) -> np.ndarray:
        padded = np.full((table.shape[0], days * day), fill)
        padded[:, : grid.size] = table
        blocks = padded.reshape(table.shape[0], days, day)
        return blocks.max(axis=2) if how == "max" else blocks.min(axis=2)

    long_value = grid.price - unit - grid.cum_funding
    short_value = grid.price + unit - grid.cum_funding
    phase = {
        "long_value": _phase(long_value, block, np.nan),
        "short_value": _phase(short_value, block, np.nan),
        "high": _phase(_block(grid.high, block, "max", -np.inf), block, -np.inf),
        "low": _phase(_block(grid.low, block, "min", np.inf), block, np.inf),
    }
    return SeriesTables(
        long_value=long_value,
        short_value=short_value,
        exit_fee=exit_fee,
        exit_slip=exit_slip,
        maintenance=np.asarray([margin.maintenance_rate(e) for e in exchanges], np.float64),
        edge=(grid.cum_rate - lagged) * 100.0,
        high=grid.high,
        low=grid.low,
        block=block,
        phase=phase,
        day=day,
        day_high=per_day(grid.high, "max", -np.inf),
        day_low=per_day(grid.low, "min", np.inf),
        settle_steps=[np.flatnonzero(row) for row in settled],
    )


def gather(tab: SeriesTables, name: str, rows, g0, plan: PathPlan) -> np.ndarray:
    """(n, points) path of table ``name`` for series ``rows`` from entry steps ``g0``: the fine
    table at every step up to ``plan.fine``, its phase table at the hourly points beyond."""
    fine = getattr(tab, name)
    out = np.empty((len(rows), len(plan.offsets)), dtype=fine.dtype)
    view = np.lib.stride_tricks.sliding_window_view(fine, plan.fine, axis=1)
    out[:, : plan.fine] = view[rows, g0 + 1]
    coarse = len(plan.offsets) - plan.fine
    if coarse:
        first = g0 + plan.fine + plan.block  # grid step of the first hourly point
        table = np.lib.stride_tricks.sliding_window_view(tab.phase[name], coarse, axis=1)
        out[:, plan.fine :] = table[rows * plan.block + first % plan.block, first // plan.block]
    return out


def crossing(tab, name, rows, g0, plan, price, above: bool) -> np.ndarray:
    """First path point whose high >= ``price`` (``above``) or low <= ``price``; the number of
    points where none. Day-block extremes over a window covering the path rule most rows out
    first (at 2x leverage a 50 % move is rare); only the others gather their path."""
    points = len(plan.offsets)
    out = np.full(len(rows), points)
    d0 = (g0 + 1) // tab.day
    span = (g0 + plan.offsets[-1]) // tab.day - d0 + 1
    width = int(span.max()) if len(rows) else 1
    table = tab.day_high if above else tab.day_low
    window = np.lib.stride_tricks.sliding_window_view(table, width, axis=1)[rows, d0]
    bound = window.max(axis=1) if above else window.min(axis=1)
    maybe = np.flatnonzero(bound >= price if above else bound <= price)
    if len(maybe):
        path = gather(tab, name, rows[maybe], g0[maybe], plan)
        hit = path >= price[maybe, None] if above else path <= price[maybe, None]
        out[maybe] = first_true(hit)
    return out


def settlement_points(tab, rows, g0, plan, last: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, path point) of every settlement of series ``rows`` in (entry, point ``last``]:
    a settlement is checked at the first path point at or after it."""
    out_r, out_k = [], []
    end = g0 + plan.offsets[last]
    for s in np.unique(rows):
        sel = np.flatnonzero(rows == s)
        steps = tab.settle_steps[s]
        lo = np.searchsorted(steps, g0[sel], side="right")
        hi = np.searchsorted(steps, end[sel], side="right")
        counts = hi - lo
        if not counts.sum():
            continue
        r = np.repeat(sel, counts)
        within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        d = steps[np.repeat(lo, counts) + within] - g0[r]
        coarse = plan.fine - 1 + -(-(d - plan.fine) // plan.block)
        out_r.append(r)
        out_k.append(np.where(d <= plan.fine, d - 1, coarse))
    if not out_r:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(out_r), np.concatenate(out_k)


def first_true(mask: np.ndarray) -> np.ndarray:
    """Index of the first True per row, the row length where none."""
    k = np.argmax(mask, axis=1)
    return np.where(mask[np.arange(len(mask)), k], k, mask.shape[1])
