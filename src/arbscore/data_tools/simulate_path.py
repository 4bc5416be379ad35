"""The simulator's kernel: value paths of a chunk of positions, liquidation, signal exit, labels.

The path of a position is read at the points of a :class:`PathPlan`: every grid step (5 min)
up to ``FINE_PATH_HOURS`` (168 h), then every hour up to the horizon (720 h). Hourly beyond a
week keeps a 30-day path at 2,568 points instead of 8,640; the liquidation check still sees
every candle (the coarse points carry the high/low of the hour before them), the signal exit
checks the settlements of the hour before each point, and the holds and daily marks lie on the
points exactly. Only ``optimal_hold_hours`` beyond 168 h is found to the hour, not 5 minutes.

Per series the grid is turned once into tables the chunks gather from (:func:`series_tables`):
``long_value = P (1 - exit fee - exit slippage) - F`` and ``short_value = P (1 + exit fee +
exit slippage) - F`` (per unit of quantity, ``F`` the cumulative funding, the exit slippage from
the exit time's own candle estimate: half the spread + the square-root-law impact,
``CostConfig.estimated_slippage_rate``), so a position's value path is

    q_l long_value[long] - q_s short_value[short] + q_l F_l(t0) - q_s F_s(t0) - N (c_l + c_s)

with ``c`` the entry fee + slippage of each leg (at the entry's estimate) and ``N`` the notional.

**Liquidation** (:func:`_liquidations`; the account models and prices in ``data_tools.margin``)
is found at the finest resolution of the data: the coarse hourly points only rule rows in, then
the grid step whose candle crossed is searched. At that step ``g``:

- the liquidated leg closes at its liquidation price ``P_liq`` and pays the liquidation fee;
- the hedge closes at the same instant on its own series (``hedge_close_delay_minutes`` = 0):
  its price is ``P_liq x hedge_extreme(g) / liquidated_extreme(g)`` (the highs of the two
  series' candles closed at ``g`` when the short was liquidated, the lows when the long was; the
  as-of closes where the hedge had no candle close then). Both legs on one price series (a
  stand-in price) therefore close at the same price, and the loss is the margin to maintenance
  plus the fees, not a basis swing. With a delay ``d`` the hedge closes at its as-of close at
  ``g + d`` instead, paying its exit fee and slippage there;
- the position ends: funding counts to ``g``, every later path point holds the liquidation
  value, and a hold reaching past ``g`` reports ``actual_hold_hours`` = the hours to ``g``.

**Exit parts**: every exit (a hold, the signal exit, a liquidation) is also written as
``funding - fees - slippage + price PnL`` (:func:`exit_breakdown`), price PnL =
``q_l (P_l,exit - P_l0) - q_s (P_s,exit - P_s0)`` at the exit prices above, so the book can
book any exit at the simulator's own values; the parts sum to the path's value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arbscore.data_tools.costs import CostConfig
from arbscore.data_tools.exit_rule import SignalExitConfig, should_exit
from arbscore.data_tools.margin import (
    MarginConfig,
    liquidation_price,
    unified_liquidation_price,
)
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


def _crossing(tab, name, rows, g0, plan, price, above: bool) -> np.ndarray:
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
        out[maybe] = _first(hit)
    return out


def _settlement_points(tab, rows, g0, plan, last: int) -> tuple[np.ndarray, np.ndarray]:
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


def _first(mask: np.ndarray) -> np.ndarray:
    """Index of the first True per row, the row length where none."""
    k = np.argmax(mask, axis=1)
    return np.where(mask[np.arange(len(mask)), k], k, mask.shape[1])


@dataclass
class ChunkInputs:
    """Per-opportunity inputs of one chunk (arrays of length n)."""

    g0: np.ndarray
    s_long: np.ndarray
    s_short: np.ndarray
    long_perp: np.ndarray  # bool
    entry_fee: np.ndarray  # (n, 2): long, short
    entry_slip: np.ndarray  # (n, 2)
    room: np.ndarray  # grid steps the data covers after entry
    unified: np.ndarray  # bool: a same-venue spot_perp margined as one account


def _refine(table, rows, g0, plan: PathPlan, point, price, above: bool) -> np.ndarray:
    """Grid steps after entry of the first candle crossing ``price`` inside the block of path
    ``point`` (the points' blocks are 1 step up to ``plan.fine``, ``plan.block`` beyond)."""
    hi = plan.offsets[point]
    lo = np.where(point > 0, plan.offsets[np.maximum(point - 1, 0)], 0)
    width = int((hi - lo).max()) if len(rows) else 1
    j = np.arange(width)
    at = np.minimum(g0[:, None] + lo[:, None] + 1 + j, table.shape[1] - 1)
    ext = table[rows[:, None], at]
    hit = (ext >= price[:, None]) if above else (ext <= price[:, None])
    hit &= j[None, :] < (hi - lo)[:, None]
    return lo + 1 + _first(hit)


def _unified_liquidations(grid, tab, x, plan, size, margin, rows, q_l, q_s, ps0):
    """(grid steps after entry, liquidation price) of unified spot_perp ``rows`` (``steps``
    past the path where none): the account test of ``data_tools.margin`` on every step."""
    steps = int(plan.offsets[-1])
    out = np.full(len(rows), steps + 1)
    px = np.full(len(rows), np.nan)
    if not len(rows):
        return out, px
    sl, ss, g0 = x.s_long[rows], x.s_short[rows], x.g0[rows]
    m, h = tab.maintenance[ss], margin.spot_collateral_haircut
    need = size / margin.leverage / q_s[rows] + ps0[rows]  # (M + N) / q_s
    ratio = q_l[rows] / q_s[rows]
    # cheap bound: the perp's highest high against the spot's lowest low over the path
    d0 = (g0 + 1) // tab.day
    width = int(((g0 + steps) // tab.day - d0 + 1).max())
    view_h = np.lib.stride_tricks.sliding_window_view(tab.day_high, width, axis=1)
    view_l = np.lib.stride_tricks.sliding_window_view(tab.day_low, width, axis=1)
    top = view_h[ss, d0].max(axis=1)
    bottom = np.maximum(view_l[sl, d0].min(axis=1), 0.0)
    maybe = np.flatnonzero((1.0 + m) * top - ratio * (1.0 - h) * bottom >= need)
    if not len(maybe):
        return out, px
    d = np.arange(1, steps + 1)
    at = np.minimum(g0[maybe, None] + d, grid.size - 1)
    perp_high = tab.high[ss[maybe, None], at]
    spot_high = tab.high[sl[maybe, None], at]
    as_of = grid.price[sl[maybe, None], at] / grid.price[ss[maybe, None], at]
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(np.isfinite(spot_high), spot_high / perp_high, as_of)
    price = unified_liquidation_price(
        ps0[rows][maybe, None], q_s[rows][maybe, None], q_l[rows][maybe, None], r,
        m[maybe, None], margin.leverage, h,
    )
    hit = np.isfinite(perp_high) & (perp_high >= price) & (d[None, :] <= x.room[rows][maybe, None])
    first = _first(hit)
    found = first < steps
    out[maybe[found]] = first[found] + 1
    px[maybe[found]] = price[np.flatnonzero(found), first[found]]
    return out, px


def _liquidations(grid, tab, x, plan, size, margin, q_l, q_s, pl0, ps0, delay_steps):
    """Where and how each position is liquidated (module docstring).

    Returns per row: ``step`` (grid steps after entry; ``offsets[-1] + 1`` where never),
    ``point`` (first path point at or after it; ``points`` where never), ``long_hit`` /
    ``short_hit`` (which leg was liquidated), ``px_l`` / ``px_s`` (each leg's exit price) and
    ``hedge_at`` (grid step where the hedge's exit slippage is read).
    """
    n, points = len(x.g0), len(plan.offsets)
    never = int(plan.offsets[-1]) + 1
    sl, ss, g0 = x.s_long, x.s_short, x.g0
    step_s = np.full(n, never)
    px_liq_s = liquidation_price(ps0, "short", tab.maintenance[ss], margin.leverage)
    iso = np.flatnonzero(~x.unified)
    k = _crossing(tab, "high", ss[iso], g0[iso], plan, px_liq_s[iso], above=True)
    hit = np.flatnonzero(k < points)
    if len(hit):
        r = iso[hit]
        step_s[r] = _refine(tab.high, ss[r], g0[r], plan, k[hit], px_liq_s[r], above=True)
    uni = np.flatnonzero(x.unified)
    step_s[uni], px_liq_s[uni] = _unified_liquidations(
        grid, tab, x, plan, size, margin, uni, q_l, q_s, ps0
    )
    step_l = np.full(n, never)
    px_liq_l = liquidation_price(pl0, "long", tab.maintenance[sl], margin.leverage)
    perp = np.flatnonzero(x.long_perp)
    if len(perp):
        k = _crossing(tab, "low", sl[perp], g0[perp], plan, px_liq_l[perp], False)
        hit = np.flatnonzero(k < points)
        r = perp[hit]
        step_l[r] = _refine(tab.low, sl[r], g0[r], plan, k[hit], px_liq_l[r], above=False)
    step = np.minimum(step_s, step_l)
    step = np.where(step <= x.room, step, never)
    short_hit = (step_s == step) & (step < never)
    long_hit = (step_l == step) & (step < never)
    at = g0 + np.minimum(step, x.room)
    # the hedge at the same instant: scaled by the two series' extremes at that step
    hedge_ext = np.where(short_hit, tab.high[sl, at], tab.low[ss, at])
    liq_ext = np.where(short_hit, tab.high[ss, at], tab.low[sl, at])
    as_of = np.where(short_hit, grid.price[sl, at] / grid.price[ss, at], 0.0)
    as_of = np.where(long_hit, grid.price[ss, at] / grid.price[sl, at], as_of)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(np.isfinite(hedge_ext), hedge_ext / liq_ext, as_of)
    hedge_at = np.minimum(at + delay_steps, grid.size - 1)
    px_l = np.where(long_hit, px_liq_l, np.nan)
    px_s = np.where(short_hit, px_liq_s, np.nan)
    if delay_steps:
        px_l = np.where(short_hit & ~long_hit, grid.price[sl, hedge_at], px_l)
        px_s = np.where(long_hit & ~short_hit, grid.price[ss, hedge_at], px_s)
    else:
        px_l = np.where(short_hit & ~long_hit, px_liq_s * ratio, px_l)
        px_s = np.where(long_hit & ~short_hit, px_liq_l * ratio, px_s)
    return {
        "step": step,
        "point": np.where(step < never, np.searchsorted(plan.offsets, step), points),
        "long_hit": long_hit,
        "short_hit": short_hit,
        "px_l": px_l,
        "px_s": px_s,
        "hedge_at": hedge_at,
    }


def chunk_paths(
    grid: MarketGrid,
    tab: SeriesTables,
    x: ChunkInputs,
    plan: PathPlan,
    size: float,
    margin: MarginConfig,
    signal: SignalExitConfig,
    cap_index: int,
    delay_steps: int = 0,
) -> dict[str, np.ndarray]:
    """Value path (frozen after a liquidation), liquidation, signal exit point.

    Returns ``value`` (n, points) in USD (-inf past the data), ``liq`` (n, first path point at
    or after the liquidation, or ``points``), ``liq_step`` (grid steps after entry of the
    liquidation), ``signal`` (n, signal exit point or -1 where the data ends first), the
    liquidation's exit parts (``liq_parts``) and the point-wise ingredients the labels need.
    """
    n, points = len(x.g0), len(plan.offsets)
    sl, ss, g0 = x.s_long, x.s_short, x.g0
    pl0, ps0 = grid.price[sl, g0], grid.price[ss, g0]
    q_l, q_s = size / pl0, size / ps0
    fl0, fs0 = grid.cum_funding[sl, g0], grid.cum_funding[ss, g0]
    const = q_l * fl0 - q_s * fs0 - size * (x.entry_fee.sum(1) + x.entry_slip.sum(1))
    value = gather(tab, "long_value", sl, g0, plan)
    value *= q_l[:, None]
    value -= gather(tab, "short_value", ss, g0, plan) * q_s[:, None]
    value += const[:, None]
    partial = bool((x.room < plan.offsets[-1]).any())
    any_long_perp = bool(x.long_perp.any())
    base = {"q_l": q_l, "q_s": q_s, "fl0": fl0, "fs0": fs0, "pl0": pl0, "ps0": ps0}
    liq_info = _liquidations(grid, tab, x, plan, size, margin, q_l, q_s, pl0, ps0, delay_steps)
    liq = liq_info["point"]
    hit_rows = np.flatnonzero(liq < points)
    liq_parts = {}
    if len(hit_rows):
        r = hit_rows
        sub = {key: v[r] for key, v in base.items()}
        li = {key: v[r] for key, v in liq_info.items()}
        parts = _parts(
            grid, tab, x.entry_fee[r], x.entry_slip[r], sl[r], ss[r], g0[r], size, sub,
            at=g0[r] + li["step"], px_l=li["px_l"], px_s=li["px_s"],
            slip_l=np.where(li["long_hit"], 0.0, tab.exit_slip[sl[r], li["hedge_at"]]),
            slip_s=np.where(li["short_hit"], 0.0, tab.exit_slip[ss[r], li["hedge_at"]]),
            fee_l=np.where(li["long_hit"], margin.liquidation_fee_rate, tab.exit_fee[sl[r]]),
            fee_s=np.where(li["short_hit"], margin.liquidation_fee_rate, tab.exit_fee[ss[r]]),
        )
        v = parts["funding"] - parts["fees"] - parts["slippage"] + parts["price_pnl"]
        after = np.arange(points)[None, :] >= liq[r][:, None]
        value[r] = np.where(after, v[:, None], value[r])
        liq_parts = {key: np.full(n, np.nan) for key in parts}
        for key, vals in parts.items():
            liq_parts[key][r] = vals
    if partial:
        value[plan.offsets[None, :] > x.room[:, None]] = -np.inf
    # signal exit: checked at the settlements of either perp leg (sparse: evaluated there only)
    # (the cap exits at cap_index whatever the edge: settlements before it are checked)
    r, k = _settlement_points(tab, ss, g0, plan, max(cap_index - 1, 0))
    if any_long_perp and cap_index > 0:
        perp = np.flatnonzero(x.long_perp)
        rl, kl = _settlement_points(tab, sl[perp], g0[perp], plan, cap_index - 1)
        r, k = np.concatenate([r, perp[rl]]), np.concatenate([k, kl])
    if cap_index == 0:
        r, k = r[:0], k[:0]
    at = g0[r] + plan.offsets[k]
    edge = tab.edge[ss[r], at] - np.where(x.long_perp[r], tab.edge[sl[r], at], 0.0)
    go = should_exit(edge, plan.hours[k], signal, plan.hours[cap_index])
    go &= plan.offsets[k] <= x.room[r]
    sig = np.full(n, points)
    np.minimum.at(sig, r[go], k[go])
    cap_ok = plan.offsets[cap_index] <= x.room
    sig = np.minimum(sig, np.where(cap_ok, cap_index, points))
    sig = np.minimum(sig, liq)
    sig = np.where(sig < points, sig, -1)
    return {
        "value": value,
        "liq": liq,
        "liq_step": liq_info["step"],
        "liq_parts": liq_parts,
        "signal": sig,
        **base,
    }


def _parts(grid, tab, entry_fee, entry_slip, sl, ss, g0, size, p, *, at, px_l, px_s,
           slip_l, slip_s, fee_l, fee_s) -> dict[str, np.ndarray]:
    """Funding, settlements, fees, slippage and price PnL (USD) of exits at grid steps ``at``
    with exit prices ``px_l``/``px_s``, exit fee and slippage fractions per leg. Arrays are
    (n,) or (n, k) alike; per-row inputs (``sl``, ``p``'s values, ...) are (n,) or (n, 1)."""
    q_l, q_s = p["q_l"], p["q_s"]
    funding = q_s * (grid.cum_funding[ss, at] - p["fs0"]) - q_l * (
        grid.cum_funding[sl, at] - p["fl0"]
    )
    count = (grid.cum_count[ss, at] - grid.cum_count[ss, g0]) + (
        grid.cum_count[sl, at] - grid.cum_count[sl, g0]
    )
    exit_l, exit_s = q_l * px_l, q_s * px_s
    fees = size * entry_fee.sum(-1) + exit_l * fee_l + exit_s * fee_s
    slippage = size * entry_slip.sum(-1) + exit_l * slip_l + exit_s * slip_s
    price_pnl = (exit_l - q_l * p["pl0"]) - (exit_s - q_s * p["ps0"])
    return {
        "funding": funding,
        "count": count.astype(np.int64),
        "fees": fees,
        "slippage": slippage,
        "price_pnl": price_pnl,
    }


def exit_breakdown(
    grid: MarketGrid,
    tab: SeriesTables,
    x: ChunkInputs,
    plan: PathPlan,
    size: float,
    p: dict[str, np.ndarray],
    exit_index: np.ndarray,
) -> dict[str, np.ndarray]:
    """Funding, settlement count, fees, slippage, price PnL (USD) and ``liquidated`` of exits
    at path points ``exit_index`` (n, k): the liquidation's own parts where it comes first."""
    liquidated = exit_index >= p["liq"][:, None]
    at = x.g0[:, None] + plan.offsets[np.minimum(exit_index, len(plan.offsets) - 1)]
    sl, ss = x.s_long[:, None], x.s_short[:, None]
    col = {key: v[:, None] for key, v in p.items() if key in ("q_l", "q_s", "fl0", "fs0", "pl0", "ps0")}
    px_l, px_s = grid.price[sl, at], grid.price[ss, at]
    parts = _parts(
        grid, tab, x.entry_fee[:, None, :], x.entry_slip[:, None, :], sl, ss, x.g0[:, None],
        size, col, at=at, px_l=px_l, px_s=px_s,
        slip_l=tab.exit_slip[sl, at], slip_s=tab.exit_slip[ss, at],
        fee_l=tab.exit_fee[sl], fee_s=tab.exit_fee[ss],
    )
    if liquidated.any():
        for key, vals in parts.items():
            liq = p["liq_parts"][key][:, None]
            parts[key] = np.where(liquidated, liq.astype(vals.dtype) if key != "count" else np.nan_to_num(liq).astype(np.int64), vals)
    parts["liquidated"] = liquidated
    return parts
