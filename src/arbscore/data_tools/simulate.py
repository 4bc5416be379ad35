"""Position simulation: every opportunity x every hold -> the SPEC's labels, vectorised.

The position: at entry time ``t0`` buy ``N / P_long(t0)`` of the long leg and sell
``N / P_short(t0)`` of the short leg (``N`` = ``costs.position_size_usd`` per leg). Its
liquidation value at time ``t`` (the marked-to-market path) is

    price PnL of both legs
  + funding: each perp leg's settlements with time in (t0, t], at the leg's own timestamps and
    interval; payment = quantity x settlement price x rate, the short receives, the long pays
  - entry fees and slippage on both fills (notional N each, the entry's spread/depth estimate)
  - exit fees and slippage on both fills at the current notional (closing at t), the slippage
    at the exit time's own estimate: half the candle-estimated spread plus the square-root-law
    impact (``data_tools.liquidity``, ``CostConfig.estimated_slippage_rate``); the entry's
    slippage is the opportunity's ``*_bid_ask_spread`` / 2 + ``*_impact_pct``.

Fees come from ``costs.fees`` (a :class:`~arbscore.data_tools.costs.FeeSchedule`: entry and exit
order types apart). Perp legs post margin at ``margin.leverage`` (same-venue spot_perp as one
unified account, the spot as collateral; ``data_tools.margin``) and are liquidated on the
candle high/low path at the finest resolution of the data: the liquidated leg closes at its
liquidation price plus the liquidation fee, the hedge at the same instant on its own series
(``hedge_close_delay_minutes`` later when set), and the position ends there
(``data_tools.simulate_path``): the path is frozen at that value and a hold reaching past it
reports ``actual_hold_hours`` = the hours to the liquidation.

A hold of ``h`` hours ends at ``t0 + h``; its profit is the path's value there, peak_profit and
max_drawdown are the max and min of the path over (t0, t0 + h]. optimal_hold_hours is the point
of the path up to ``horizon_hours`` (720 h) with the highest value, best_profit_pct that value;
the path has a point every 5 minutes to 168 h and every hour beyond (``simulate_path``).
signal_exit_* is where the rule of ``data_tools.exit_rule`` leaves the position (capped at the
largest hold; at the liquidation when that comes first, ``signal_exit_liquidated``).
capital_usd is both legs' margin; return_on_capital_pct = profit / capital x 100.
Percent labels are percent of ``N``. Every exit is also written in parts (``funding_pct``,
``fees_pct``, ``slippage_pct``, ``price_pnl_pct`` per hold; ``signal_exit_*_pct`` for the signal
exit) with ``funding - fees - slippage + price_pnl = profit``. ``price_estimated`` marks an
opportunity with a leg priced from another venue's series (``MarketData.estimated_series``).
``opportunity_id`` is an int64 (a fixed hash of the detector's name for the opportunity, which
stays in ``opportunity_key``), in the executions and the marks alike. With ``marks=True`` the
daily marks of ``schema.MARK_COLUMNS`` come back too.

The work is whole-array numpy: for a chunk of opportunities the (n x points) paths are gathered
from per-series tables in one go; there is no loop per position.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from arbscore.data_tools.costs import CostConfig
from arbscore.data_tools.exit_rule import SignalExitConfig
from arbscore.data_tools.margin import MarginConfig
from arbscore.data_tools.market import MarketData
from arbscore.data_tools.simulate_grid import MarketGrid, build_market_grid
from arbscore.data_tools.simulate_output import (  # noqa: F401  (opportunity_ids is public)
    assemble,
    chunk_marks,
    marks_frame,
    opportunity_ids,
)
from arbscore.data_tools.simulate_path import (
    ChunkInputs,
    chunk_paths,
    exit_breakdown,
    path_plan,
    series_tables,
)
from arbscore.data_tools.snapshots import MINUTE_MS
from arbscore.progress import Progress
from arbscore.schema import (
    EXECUTION_LABEL_COLUMNS,
    HOLD_COLUMN,
    HOLD_GRID_HOURS,
    MAX_HOLD_HOURS,
    OPPORTUNITY_LABEL_COLUMNS,
    SNAPSHOT_MINUTES,
)

LEG_INPUT_COLUMNS: tuple[str, ...] = (
    "timestamp",
    "symbol",
    "long_exchange",
    "long_market",
    "short_exchange",
    "short_market",
    "long_bid_ask_spread",
    "long_impact_pct",
    "short_bid_ask_spread",
    "short_impact_pct",
)
#: days after entry the daily marks cover
MARK_DAYS = 30
#: the parts every exit is written in (USD inside, ``*_pct`` of one leg's notional outside)
PARTS: tuple[str, ...] = ("funding", "fees", "slippage", "price_pnl")


@dataclass(frozen=True)
class SimulationConfig:
    """What to simulate.

    ``holds_hours``: the hold grid (default ``schema.HOLD_GRID_HOURS``, 1 h .. 30 days; holds
    beyond 168 h must be whole hours). ``full_horizon_only``: keep only opportunities whose
    whole ``horizon_hours`` path fits in the data, so optimal_hold_hours is always searched over
    the same horizon (True, default); when False every hold that fits is kept and the optimum is
    searched over the data available. ``margin``: leverage, maintenance and liquidation fee of
    the perp legs and the account models; ``signal_exit``: the exit rule's settings (its cap
    defaults to the largest hold). ``hedge_close_delay_minutes``: when a leg is liquidated, the
    hedge closes this long after it (a multiple of ``step_minutes``; 0, the default, closes it
    at the same instant, see ``data_tools.simulate_path``).
    """

    costs: CostConfig = field(default_factory=CostConfig)
    holds_hours: tuple[int, ...] = HOLD_GRID_HOURS
    horizon_hours: int = MAX_HOLD_HOURS
    step_minutes: int = SNAPSHOT_MINUTES
    full_horizon_only: bool = True
    margin: MarginConfig = field(default_factory=MarginConfig)
    signal_exit: SignalExitConfig = field(default_factory=SignalExitConfig)
    chunk_size: int = 512
    hedge_close_delay_minutes: int = 0

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
        delay = self.hedge_close_delay_minutes
        if delay < 0 or delay % self.step_minutes:
            raise ValueError(
                f"simulation.hedge_close_delay_minutes is {delay}; expected a multiple of "
                f"step_minutes ({self.step_minutes}) >= 0"
            )
        path_plan(self.horizon_hours, self.step_minutes).index(self.holds_hours)

    @property
    def max_hold_hours(self) -> float:
        """The signal exit's cap: its own setting, else the largest hold."""
        cap = self.signal_exit.max_hold_hours
        return float(max(self.holds_hours) if cap is None else min(cap, self.horizon_hours))


def _per_distinct(frame: pd.DataFrame, columns: list[str], fn, dtype=np.float64) -> np.ndarray:
    """``fn(*values)`` per row, called once per distinct combination of ``columns``."""
    if frame.empty:
        return np.zeros(0, dtype)
    parts = [pd.factorize(frame[c]) for c in columns]
    shape = tuple(len(u) for _, u in parts)
    flat = np.ravel_multi_index(tuple(c for c, _ in parts), shape)  # integer keys: fast
    keys, inverse = np.unique(flat, return_inverse=True)
    picks = np.unravel_index(keys, shape)
    values = [
        fn(*(u[i] for (_, u), i in zip(parts, at, strict=True))) for at in zip(*picks, strict=True)
    ]
    return np.asarray(values, dtype=dtype)[inverse.reshape(-1)]


def _leg_inputs(
    opps: pd.DataFrame,
    grid: MarketGrid,
    costs: CostConfig,
    margin: MarginConfig,
    estimated: frozenset,
) -> dict:
    t = opps["timestamp"].astype("datetime64[ms, UTC]").astype("int64").to_numpy()
    offset = t - grid.start_ms
    if (offset % grid.step_ms).any():
        raise ValueError("opportunity timestamps must lie on the simulation's step grid")
    out = {"g0": offset // grid.step_ms}
    fee, slip = [], []
    out["estimated"] = np.zeros(len(opps), dtype=bool)
    for side in ("long", "short"):
        ex, mk = f"{side}_exchange", f"{side}_market"
        out["estimated"] |= _per_distinct(
            opps, [ex, "symbol", mk], lambda e, s, m: (e, s, m) in estimated, bool
        )
        out[f"s_{side}"] = _per_distinct(
            opps, [ex, "symbol", mk], lambda e, s, m: grid.keys.get((e, s, m), -1), np.int64
        )
        fee.append(_per_distinct(opps, [ex, mk], lambda e, m: costs.fees.rate(e, m, "entry")))
        # half the entry's estimated spread + its square-root-law impact (no book: no tiers)
        slip.append(
            opps[f"{side}_bid_ask_spread"].to_numpy(np.float64) / 200.0
            + opps[f"{side}_impact_pct"].to_numpy(np.float64) / 100.0
        )
    out["entry_fee"] = np.stack(fee, axis=1)
    out["entry_slip"] = np.stack(slip, axis=1)
    out["long_perp"] = (opps["long_market"] == "perp").to_numpy()
    out["unified"] = (
        (opps["long_market"] == "spot").to_numpy()
        & (opps["short_market"] == "perp").to_numpy()
        & (opps["long_exchange"] == opps["short_exchange"]).to_numpy()
        & (margin.spot_perp_account == "unified")
    )
    s_long, s_short = out["s_long"], out["s_short"]
    last = np.minimum(
        grid.last_valid[np.maximum(s_long, 0)], grid.last_valid[np.maximum(s_short, 0)]
    )
    out["last"] = np.where((s_long < 0) | (s_short < 0), -1, last)
    return out


def simulate_executions(
    opportunities: pd.DataFrame,
    market: MarketData,
    config: SimulationConfig,
    progress: Progress | None = None,
    *,
    marks: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """One row per (opportunity, hold that fits in the data) with every label of the SPEC.

    Returns the opportunity's columns, ``hold_hours``, ``schema.LABEL_COLUMNS`` and
    ``data_source`` ("synthetic" or "real" from ``market.synthetic``). With ``marks=True``,
    ``(frame, marks)``: ``marks`` has ``schema.MARK_COLUMNS``, one row per simulated
    opportunity and whole day 1..30 after entry that lies on its path and in the data.
    """
    missing = [c for c in LEG_INPUT_COLUMNS if c not in opportunities]
    if missing:
        raise ValueError(
            f"opportunities frame is missing columns {missing}; use detect_opportunities"
        )
    data_source = "synthetic" if market.synthetic else "real"
    mark_parts: list[pd.DataFrame] = []
    if opportunities.empty:
        frame = assemble(opportunities, {}, np.zeros(0, np.int64), data_source)
        return (frame, marks_frame(opportunities, mark_parts)) if marks else frame
    plan = path_plan(config.horizon_hours, config.step_minutes)
    step_ms = config.step_minutes * MINUTE_MS
    steps = int(plan.offsets[-1])
    t = opportunities["timestamp"].astype("datetime64[ms, UTC]").astype("int64").to_numpy()
    lookback = int(config.signal_exit.window_hours * 3_600_000)  # the exit rule's window
    start = int((t.min() - lookback) // step_ms * step_ms)
    end = int(t.max()) + steps * step_ms
    series = set()
    for side in ("long", "short"):
        legs = opportunities[[f"{side}_exchange", "symbol", f"{side}_market"]].drop_duplicates()
        series |= set(legs.itertuples(index=False, name=None))
    grid = build_market_grid(
        market, series, start, end, config.step_minutes, config.costs.liquidity
    )
    tables = series_tables(grid, config.costs, config.margin, config.signal_exit, plan.block)
    legs = _leg_inputs(opportunities, grid, config.costs, config.margin, market.estimated_series)
    delay = config.hedge_close_delay_minutes // config.step_minutes
    size = config.costs.position_size_usd
    g0, last = legs["g0"], legs["last"]
    ok = (last >= 0) & np.isfinite(grid.price[np.maximum(legs["s_long"], 0), g0])
    ok &= np.isfinite(grid.price[np.maximum(legs["s_short"], 0), g0])
    if config.full_horizon_only:
        ok &= last >= g0 + steps
    else:
        ok &= last >= g0 + min(config.holds_hours) * 60 // config.step_minutes
    # spot_perp and perp_perp apart: a chunk of spot longs skips the long perp's paths
    candidates = np.flatnonzero(ok)
    candidates = candidates[np.argsort(legs["long_perp"][candidates], kind="stable")]
    holds = np.asarray(sorted(config.holds_hours), dtype=np.int64)
    hold_idx = plan.index(holds)
    cap_index = int(plan.index(config.max_hold_hours))
    days = np.arange(1, MARK_DAYS + 1)
    days = days[days * 24 <= config.horizon_hours]
    day_idx = plan.index(days * 24)
    capital = config.margin.leg_capital(size, opportunities["long_market"].to_numpy())
    capital = capital + config.margin.leg_capital(size, opportunities["short_market"].to_numpy())
    out_rows: list[np.ndarray] = []
    cols: dict[str, list[np.ndarray]] = {
        c: [] for c in (*EXECUTION_LABEL_COLUMNS, HOLD_COLUMN, *OPPORTUNITY_LABEL_COLUMNS)
    }
    chunks = range(0, len(candidates), config.chunk_size)
    for done, lo in enumerate(chunks, start=1):
        sel = candidates[lo : lo + config.chunk_size]
        x = ChunkInputs(
            g0=g0[sel],
            s_long=legs["s_long"][sel],
            s_short=legs["s_short"][sel],
            long_perp=legs["long_perp"][sel],
            entry_fee=legs["entry_fee"][sel],
            entry_slip=legs["entry_slip"][sel],
            room=last[sel] - g0[sel],
            unified=legs["unified"][sel],
        )
        p = chunk_paths(
            grid, tables, x, plan, size, config.margin, config.signal_exit, cap_index, delay
        )
        lab = _labels(grid, tables, x, plan, size, p, hold_idx)
        cap = capital[sel]
        n = len(sel)
        liq_hours = p["liq_step"] * config.step_minutes / 60.0
        best_k = np.argmax(p["value"], axis=1)
        best_pct = p["value"][np.arange(n), best_k] / size * 100.0
        best_hours = np.where(best_k >= p["liq"], liq_hours, plan.hours[best_k])
        sig = p["signal"]
        sig_k = np.maximum(sig, 0)
        sig_value = np.where(sig >= 0, p["value"][np.arange(n), sig_k], np.nan)
        sig_liq = (sig >= 0) & (sig_k >= p["liq"])
        sig_hours = np.where(sig >= 0, plan.hours[sig_k], np.nan)
        sig_hours = np.where(sig_liq, liq_hours, sig_hours)
        sig_parts = exit_breakdown(grid, tables, x, plan, size, p, sig_k[:, None])
        if marks:
            mark_parts.append(chunk_marks(grid, tables, x, plan, size, p, sel, days, day_idx))
        for j, hours in enumerate(holds):
            r = np.flatnonzero(lab["fits"][:, j])
            if not len(r):
                continue
            value = lab["value"][r, j]
            out_rows.append(sel[r])
            cols[HOLD_COLUMN].append(np.full(len(r), hours, dtype=np.int64))
            cols["actual_hold_hours"].append(
                np.where(lab["liquidated"][r, j], liq_hours[r], float(hours))
            )
            for part in PARTS:
                cols[f"{part}_pct"].append(lab[part][r, j] / size * 100.0)
            for part in PARTS:
                cols[f"signal_exit_{part}_pct"].append(
                    np.where(sig[r] >= 0, sig_parts[part][r, 0] / size * 100.0, np.nan)
                )
            cols["signal_exit_liquidated"].append(sig_liq[r])
            cols["price_estimated"].append(legs["estimated"][sel[r]])
            cols["actual_profit_pct"].append(value / size * 100.0)
            cols["actual_profit_usd"].append(value)
            cols["was_profitable"].append(value > 0)
            cols["peak_profit"].append(lab["peak"][r, j] / size * 100.0)
            cols["max_drawdown"].append(lab["trough"][r, j] / size * 100.0)
            cols["funding_payments_count"].append(lab["count"][r, j])
            cols["total_funding_earned_usd"].append(lab["funding"][r, j])
            cols["total_slippage_pct"].append(lab["slippage"][r, j] / size * 100.0)
            cols["total_fees_usd"].append(lab["fees"][r, j])
            cols["liquidated"].append(lab["liquidated"][r, j])
            cols["capital_usd"].append(cap[r])
            cols["return_on_capital_pct"].append(value / cap[r] * 100.0)
            cols["optimal_hold_hours"].append(best_hours[r])
            cols["best_profit_pct"].append(best_pct[r])
            cols["signal_exit_hours"].append(sig_hours[r])
            cols["signal_exit_profit_pct"].append(sig_value[r] / size * 100.0)
            cols["signal_exit_return_on_capital_pct"].append(sig_value[r] / cap[r] * 100.0)
        if progress is not None:
            progress("simulate", done, len(chunks))
    index = np.concatenate(out_rows) if out_rows else np.zeros(0, np.int64)
    labels = {c: (np.concatenate(v) if v else np.zeros(0)) for c, v in cols.items()}
    frame = assemble(opportunities, labels, index, data_source)
    return (frame, marks_frame(opportunities, mark_parts)) if marks else frame


def _labels(grid, tables, x, plan, size, p, hold_idx) -> dict[str, np.ndarray]:
    """Per-hold labels of one chunk: (n, holds) arrays."""
    value = p["value"]
    head = value[:, : hold_idx[-1] + 1]
    starts = np.concatenate([[0], hold_idx[:-1] + 1])
    peak = np.maximum.accumulate(np.maximum.reduceat(head, starts, axis=1), axis=1)
    trough = np.minimum.accumulate(np.minimum.reduceat(head, starts, axis=1), axis=1)
    idx = np.broadcast_to(hold_idx[None, :], (len(x.g0), len(hold_idx)))
    parts = exit_breakdown(grid, tables, x, plan, size, p, idx)
    return {
        "fits": x.room[:, None] >= plan.offsets[hold_idx][None, :],
        "value": value[:, hold_idx],
        "peak": peak,
        "trough": trough,
        **parts,
    }
