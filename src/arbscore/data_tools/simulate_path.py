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

from arbscore.data_tools.exit_rule import SignalExitConfig, should_exit
from arbscore.data_tools.margin import MarginConfig
from arbscore.data_tools.simulate_grid import MarketGrid
from arbscore.data_tools.simulate_liquidation import liquidations
from arbscore.data_tools.simulate_tables import (  # noqa: F401  (the kernel's public names)
    PathPlan,
    SeriesTables,
    gather,
    path_plan,
    series_tables,
    settlement_points,
)


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
    liq_info = liquidations(grid, tab, x, plan, size, margin, q_l, q_s, pl0, ps0, delay_steps)
    liq = liq_info["point"]
    hit_rows = np.flatnonzero(liq < points)
    liq_parts = {}
    if len(hit_rows):
        r = hit_rows
        sub = {key: v[r] for key, v in base.items()}
        li = {key: v[r] for key, v in liq_info.items()}
        parts = _parts(
            grid,
            tab,
            x.entry_fee[r],
            x.entry_slip[r],
            sl[r],
            ss[r],
            g0[r],
            size,
            sub,
            at=g0[r] + li["step"],
            px_l=li["px_l"],
            px_s=li["px_s"],
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
    r, k = settlement_points(tab, ss, g0, plan, max(cap_index - 1, 0))
    if any_long_perp and cap_index > 0:
        perp = np.flatnonzero(x.long_perp)
        rl, kl = settlement_points(tab, sl[perp], g0[perp], plan, cap_index - 1)
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


def _parts(
    grid,
    tab,
    entry_fee,
    entry_slip,
    sl,
    ss,
    g0,
    size,
    p,
    *,
    at,
    px_l,
    px_s,
    slip_l,
    slip_s,
    fee_l,
    fee_s,
) -> dict[str, np.ndarray]:
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
    col = {
        key: v[:, None] for key, v in p.items() if key in ("q_l", "q_s", "fl0", "fs0", "pl0", "ps0")
    }
    px_l, px_s = grid.price[sl, at], grid.price[ss, at]
    parts = _parts(
        grid,
        tab,
        x.entry_fee[:, None, :],
        x.entry_slip[:, None, :],
        sl,
        ss,
        x.g0[:, None],
        size,
        col,
        at=at,
        px_l=px_l,
        px_s=px_s,
        slip_l=tab.exit_slip[sl, at],
        slip_s=tab.exit_slip[ss, at],
        fee_l=tab.exit_fee[sl],
        fee_s=tab.exit_fee[ss],
    )
    if liquidated.any():
        for key, vals in parts.items():
            liq = p["liq_parts"][key][:, None]
            parts[key] = np.where(
                liquidated,
                liq.astype(vals.dtype) if key != "count" else np.nan_to_num(liq).astype(np.int64),
                vals,
            )
    parts["liquidated"] = liquidated
    return parts
