"""Liquidation of a chunk of positions at the finest resolution of the data.

The account models and their prices are ``data_tools.margin``'s; what happens at the
liquidation (the hedge at the same instant, the position ending) is stated in
``data_tools.simulate_path``'s docstring. Isolated legs are ruled in on the path's points
(:func:`~arbscore.data_tools.simulate_tables.crossing`) and the crossing candle's grid step is
then searched inside the point's block (:func:`_refine`); a unified spot_perp account is ruled
in on day blocks and tested step by step (:func:`_unified_liquidations`); perp_perp legs whose
margin is rebalanced between the venues are tested on their whole path against the liquidation
price of each rebalance interval (:func:`_rebalanced_liquidations`).
"""

from __future__ import annotations

import numpy as np

from arbscore.data_tools.margin import (
    liquidation_price,
    rebalanced_liquidation_price,
    unified_liquidation_price,
)
from arbscore.data_tools.simulate_tables import PathPlan, crossing, first_true, gather


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
    return lo + 1 + first_true(hit)


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
        ps0[rows][maybe, None],
        q_s[rows][maybe, None],
        q_l[rows][maybe, None],
        r,
        m[maybe, None],
        margin.leverage,
        h,
    )
    hit = np.isfinite(perp_high) & (perp_high >= price) & (d[None, :] <= x.room[rows][maybe, None])
    first = first_true(hit)
    found = first < steps
    out[maybe[found]] = first[found] + 1
    px[maybe[found]] = price[np.flatnonzero(found), first[found]]
    return out, px


def _rebalanced_liquidations(grid, tab, x, plan, size, margin, rows, q_l, q_s, pl0, ps0):
    """(short step, short price, long step, long price) of perp_perp ``rows`` whose margin is
    rebalanced between the venues every ``margin.cross_venue_rebalance_hours`` (the prices of
    ``data_tools.margin``'s docstring, piecewise per rebalance interval; ``steps + 1`` where
    never). Each point's block lies inside one interval (whole-hour intervals)."""
    steps = int(plan.offsets[-1])
    every = int(round(margin.cross_venue_rebalance_hours * 60 / plan.step_minutes))
    interval = (plan.offsets - 1) // every
    sl, ss, g0 = x.s_long[rows], x.s_short[rows], x.g0[rows]
    at = np.minimum(g0[:, None] + np.arange(int(interval[-1]) + 1) * every, grid.size - 1)
    pl, ps = grid.price[sl[:, None], at], grid.price[ss[:, None], at]
    ql, qs = q_l[rows, None], q_s[rows, None]
    pnl = ql * (pl - pl0[rows, None]) - qs * (ps - ps0[rows, None])
    half = size / margin.leverage + pnl / 2.0  # each leg's equity after a rebalance
    thr_s = rebalanced_liquidation_price(ps, qs, half, "short", tab.maintenance[ss, None])
    thr_l = rebalanced_liquidation_price(pl, ql, half, "long", tab.maintenance[sl, None])
    out = []
    for thr, name, table, series, above in (
        (thr_s, "high", tab.high, ss, True),
        (thr_l, "low", tab.low, sl, False),
    ):
        path = gather(tab, name, series, g0, plan)
        level = thr[:, interval]
        k = first_true(path >= level if above else path <= level)
        step = np.full(len(rows), steps + 1)
        price = np.full(len(rows), np.nan)
        hit = np.flatnonzero(k < len(plan.offsets))
        if len(hit):
            price[hit] = level[hit, k[hit]]
            step[hit] = _refine(table, series[hit], g0[hit], plan, k[hit], price[hit], above)
        out += [step, price]
    return tuple(out)


def liquidations(grid, tab, x, plan, size, margin, q_l, q_s, pl0, ps0, delay_steps):
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
    k = crossing(tab, "high", ss[iso], g0[iso], plan, px_liq_s[iso], above=True)
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
        k = crossing(tab, "low", sl[perp], g0[perp], plan, px_liq_l[perp], False)
        hit = np.flatnonzero(k < points)
        r = perp[hit]
        step_l[r] = _refine(tab.low, sl[r], g0[r], plan, k[hit], px_liq_l[r], above=False)
        if margin.cross_venue_rebalance_hours is not None:  # perp_perp: margin moved
            step_s[perp], px_liq_s[perp], step_l[perp], px_liq_l[perp] = _rebalanced_liquidations(
                grid, tab, x, plan, size, margin, perp, q_l, q_s, pl0, ps0
            )
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
