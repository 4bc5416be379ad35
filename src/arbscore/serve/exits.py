"""Exit signals for an open position: hold, or exit with the first rule that fires.

Rules, checked in this order (risk first, then economics, then schedule):

1. ``drawdown_stop``        unrealised PnL fell ``max_drawdown_pct`` below its peak, or below
                            ``-stop_loss_pct`` outright.
2. ``spread_blowout``       the bid-ask spread is ``spread_blowout_mult`` x its entry value and
                            above ``spread_floor_pct`` (exit costs exploding; leave while possible).
3. ``signal_exit``          the simulator's signal exit rule (``data_tools.exit_rule``, the same
                            function the labels and the carry baselines use): the trailing
                            ``window_hours`` (72 h) funding edge of the position's own legs is
                            <= ``exit_edge_pct`` (0). Checked when the request carries
                            ``current.trailing_edge_pct``.
4. ``max_hold_reached``     elapsed hours >= the largest simulated hold (schema.MAX_HOLD_HOURS):
                            the labels never hold longer, so the models know nothing beyond it.
5. ``funding_flipped``      the position's funding income per 8 h turned negative (it now pays).
6. ``optimal_hold_reached`` elapsed hours >= the predicted optimal hold.
7. ``remaining_below_exit_cost``  expected remaining funding until the predicted exit, at the
                            current rate, is below the cost of exiting: staying carries price risk
                            for less than the exit costs anyway.

Units: all *_pct in percent of notional; funding as the position's profit per 8 h in percent
(``fund_profit_8h``), positive when the position earns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from arbscore.data_tools.costs import CostConfig, FeeSchedule, round_trip_cost_pct
from arbscore.data_tools.exit_rule import SignalExitConfig, should_exit
from arbscore.schema import MAX_HOLD_HOURS

RULES = (
    "drawdown_stop",
    "spread_blowout",
    "signal_exit",
    "max_hold_reached",
    "funding_flipped",
    "optimal_hold_reached",
    "remaining_below_exit_cost",
)


@dataclass(frozen=True)
class ExitConfig:
    """Thresholds of the exit rules."""

    stop_loss_pct: float = 1.0
    max_drawdown_pct: float = 1.5
    spread_blowout_mult: float = 3.0
    spread_floor_pct: float = 0.05
    # the exit fills' fees (the bundle's manifest "fees" when it has one) and the venue charged
    fees: FeeSchedule = field(default_factory=FeeSchedule)
    venue: str = "binance"
    signal: SignalExitConfig = field(default_factory=SignalExitConfig)

    def __post_init__(self) -> None:
        if not isinstance(self.fees, FeeSchedule):
            object.__setattr__(self, "fees", FeeSchedule.from_dict(self.fees, "exits.fees"))
        for name in ("stop_loss_pct", "max_drawdown_pct", "spread_floor_pct"):
            if getattr(self, name) < 0:
                raise ValueError(f"ExitConfig.{name}={getattr(self, name)}: must be >= 0")
        if self.spread_blowout_mult <= 1:
            raise ValueError(
                f"ExitConfig.spread_blowout_mult={self.spread_blowout_mult}: must be > 1"
            )


@dataclass(frozen=True)
class PositionState:
    """An open position: what it was at entry and what the market says now."""

    elapsed_hours: float
    entry_fund_profit_8h: float
    current_fund_profit_8h: float
    entry_bid_ask_spread: float
    current_bid_ask_spread: float
    unrealized_pnl_pct: float = 0.0
    peak_pnl_pct: float = 0.0
    #: the trailing-window funding edge of the position's legs (signal rule), None: not known
    trailing_edge_pct: float | None = None

    def __post_init__(self) -> None:
        for name, value in self.__dict__.items():
            if value is None and name == "trailing_edge_pct":
                continue
            if not math.isfinite(float(value)):
                raise ValueError(f"{name}={value!r}: must be a finite number")
        if self.elapsed_hours < 0:
            raise ValueError(
                f"elapsed_hours={self.elapsed_hours}: must be >= 0 (entry in the future?)"
            )


@dataclass(frozen=True)
class ExitDecision:
    """``action`` is "hold" or "exit"; ``reason`` the rule that fired (or "hold")."""

    action: str
    reason: str
    details: dict[str, float] = field(default_factory=dict)


def exit_cost_pct(spread_pct: float, config: ExitConfig, strategy: str = "perp_perp") -> float:
    """Closing both legs: the exit fills of ``data_tools.costs.round_trip_cost_pct`` (fees at
    ``config.fees``, half the spread on each leg)."""
    long_market = "spot" if strategy == "spot_perp" else "perp"
    spread = max(float(spread_pct), 0.0)
    venue, costs = config.venue, CostConfig(fees=config.fees)
    cost = round_trip_cost_pct(
        costs, venue, long_market, venue, "perp", spread, spread, fills=("exit",)
    )
    return float(cost[0])


def exit_signal(
    state: PositionState,
    predicted_hold_hours: float,
    config: ExitConfig = ExitConfig(),
    strategy: str = "perp_perp",
    max_hold_hours: float | None = None,
) -> ExitDecision:
    """Apply the rules (module docstring) in order; the first that fires decides.
    ``strategy`` sets the legs' markets for the exit cost (spot_perp closes a spot leg)."""
    remaining_hours = max(float(predicted_hold_hours) - state.elapsed_hours, 0.0)
    remaining_pct = state.current_fund_profit_8h * remaining_hours / 8.0
    cost = exit_cost_pct(state.current_bid_ask_spread, config, strategy)
    details = {
        "elapsed_hours": state.elapsed_hours,
        "predicted_hold_hours": float(predicted_hold_hours),
        "remaining_hours": remaining_hours,
        "expected_remaining_pct": remaining_pct,
        "exit_cost_pct": cost,
        "drawdown_pct": state.peak_pnl_pct - state.unrealized_pnl_pct,
    }
    peak = max(state.peak_pnl_pct, state.unrealized_pnl_pct)
    if (
        state.unrealized_pnl_pct <= -config.stop_loss_pct
        or peak - state.unrealized_pnl_pct >= config.max_drawdown_pct
    ):
        return ExitDecision("exit", "drawdown_stop", details)
    if (
        state.current_bid_ask_spread > config.spread_floor_pct
        and state.current_bid_ask_spread
        >= config.spread_blowout_mult * max(state.entry_bid_ask_spread, 1e-12)
    ):
        return ExitDecision("exit", "spread_blowout", details)
    cap = config.signal.max_hold_hours or float(max_hold_hours or MAX_HOLD_HOURS)
    if state.trailing_edge_pct is not None:
        details["trailing_edge_pct"] = state.trailing_edge_pct
        if should_exit(state.trailing_edge_pct, state.elapsed_hours, config.signal, cap):
            reason = "max_hold_reached" if state.elapsed_hours >= cap else "signal_exit"
            return ExitDecision("exit", reason, details)
    if state.elapsed_hours >= cap:
        return ExitDecision("exit", "max_hold_reached", details)
    if state.current_fund_profit_8h < 0:
        return ExitDecision("exit", "funding_flipped", details)
    if state.elapsed_hours >= predicted_hold_hours:
        return ExitDecision("exit", "optimal_hold_reached", details)
    if remaining_pct < cost:
        return ExitDecision("exit", "remaining_below_exit_cost", details)
    return ExitDecision("hold", "hold", details)
