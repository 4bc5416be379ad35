"""The same booked decisions at other fee scenarios (maker vs taker fills).

The labels were simulated at the run's fee schedule (``EvaluationConfig.fees``: taker entry and
exit by default), and the book took its positions from those labels. Re-simulating every label
at maker fees would change the labels the models were trained on; what a trader asks is
narrower: *had the same positions been filled as maker orders, what would the book have made?*

The approximation (documented in docs/evaluation.md and the report): each booked position keeps
its entry, exit, funding, slippage and price PnL; only its fee part changes. A position's fees
(``fees_usd``, the simulator's own at the run's schedule) are scaled by the ratio of the round
trip's fee rate at the scenario to the one at the run's schedule (both legs, entry and exit,
:meth:`~arbscore.data_tools.costs.FeeSchedule.rate` for the venue and market of each leg: a
spot_perp position is long spot, short perp; a perp_perp one perp on both legs). The saving is
credited to the daily equity at the position's exit (at the span's last day for a position
still open then). Maker fills are assumed to fill at the same price and time: no missed fills
and no queue, so the maker scenario is an upper bound on what maker orders save.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import pandas as pd

from arbscore.data_tools.costs import FeeSchedule
from arbscore.evaluation.performance import YEAR_DAYS, annual_return_pct

#: scenario name -> (entry order, exit order); None: the run's own schedule
FEE_SCENARIOS: dict[str, tuple[str, str] | None] = {
    "as booked": None,
    "taker in, taker out": ("taker", "taker"),
    "maker in, taker out": ("maker", "taker"),
    "maker in, maker out": ("maker", "maker"),
}


def _legs(trades: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(long exchange, long market, short exchange, short market) per position."""
    spot = trades["kind"].astype(str).to_numpy() == "spot_perp"
    long_market = np.where(spot, "spot", "perp")
    short_market = np.full(len(trades), "perp", dtype=object)
    return (
        trades["long_exchange"].astype(str).to_numpy(),
        long_market,
        trades["short_exchange"].astype(str).to_numpy(),
        short_market,
    )


def round_trip_fee_fraction(trades: pd.DataFrame, fees: FeeSchedule) -> np.ndarray:
    """Both legs' entry and exit fee rates summed, per position (fractions of notional)."""
    if not len(trades):
        return np.zeros(0)
    le, lm, se, sm = _legs(trades)
    return sum(
        fees.rates_for(ex, mk, fill)
        for ex, mk in ((le, lm), (se, sm))
        for fill in ("entry", "exit")
    )


def scenario_fees_usd(
    trades: pd.DataFrame, booked: FeeSchedule, orders: tuple[str, str] | None
) -> np.ndarray:
    """Each position's fees (USD) had its fills been ``orders`` (entry, exit) at the booked
    schedule's venues and tiers (module docstring)."""
    paid = trades["fees_usd"].to_numpy(float) if len(trades) else np.zeros(0)
    if orders is None:
        return paid
    scenario = replace(booked, entry_order=orders[0], exit_order=orders[1])
    base = round_trip_fee_fraction(trades, booked)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(base > 0, round_trip_fee_fraction(trades, scenario) / base, 1.0)
    return paid * ratio


def rebooked_equity(
    times: pd.Series, equity: np.ndarray, trades: pd.DataFrame, saving_usd: np.ndarray, capital
) -> np.ndarray:
    """The daily equity (fraction of capital) with each position's fee saving credited at its
    exit day (the last day for a position open past the span)."""
    out = np.asarray(equity, float).copy()
    if not len(trades):
        return out
    t = pd.to_datetime(times, utc=True).to_numpy()
    exits = pd.to_datetime(trades["exit_time"], utc=True).to_numpy()
    day = np.minimum(np.searchsorted(t, exits, side="left"), len(t) - 1)
    credit = np.zeros(len(t))
    np.add.at(credit, day, saving_usd / float(capital))
    return out + np.cumsum(credit)


def fee_scenarios(
    equity: pd.DataFrame,
    trades: pd.DataFrame,
    strategies: list[str],
    fees: FeeSchedule | Mapping,
    capital_usd: float,
) -> pd.DataFrame:
    """One row per (strategy, scenario): ``annual_return_pct`` (% of capital a year, from the
    re-booked daily equity) and ``fees_pct`` (fees paid, % of capital a year)."""
    booked = FeeSchedule.from_dict(fees) if not isinstance(fees, FeeSchedule) else fees
    rows = []
    for name in strategies:
        curve = equity[equity["strategy"] == name].sort_values("time")
        if curve.empty:
            continue
        own = trades[trades["strategy"] == name] if trades is not None else trades
        eq = curve["equity"].to_numpy(float)
        years = max(len(eq) - 1, 1) / YEAR_DAYS
        paid = own["fees_usd"].to_numpy(float)
        for scenario, orders in FEE_SCENARIOS.items():
            fees_usd = scenario_fees_usd(own, booked, orders)
            curve_s = rebooked_equity(curve["time"], eq, own, paid - fees_usd, capital_usd)
            rows.append(
                {
                    "strategy": name,
                    "scenario": scenario,
                    "annual_return_pct": float(annual_return_pct(np.diff(curve_s))),
                    "fees_pct": float(fees_usd.sum() / capital_usd * 100.0 / years),
                    "trades": int(len(own)),
                }
            )
    return pd.DataFrame(rows)
