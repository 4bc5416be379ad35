"""Each exit rule fires on its own condition, in the documented order, and only then."""

from __future__ import annotations

import pytest

from arbscore.serve.exits import RULES, ExitConfig, PositionState, exit_signal

CFG = ExitConfig(
    stop_loss_pct=1.0,
    max_drawdown_pct=1.5,
    spread_blowout_mult=3.0,
    spread_floor_pct=0.05,
)
CALM = dict(
    elapsed_hours=4.0,
    entry_fund_profit_8h=0.05,
    current_fund_profit_8h=0.05,
    entry_bid_ask_spread=0.02,
    current_bid_ask_spread=0.02,
    unrealized_pnl_pct=0.1,
    peak_pnl_pct=0.2,
)


def decide(predicted_hold=96.0, **changes):
    return exit_signal(PositionState(**{**CALM, **changes}), predicted_hold, CFG)


def test_calm_position_holds():
    d = decide()
    assert (d.action, d.reason) == ("hold", "hold")
    assert d.details["expected_remaining_pct"] == pytest.approx(0.05 * 92 / 8)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"unrealized_pnl_pct": -1.2, "peak_pnl_pct": 0.0}, "drawdown_stop"),
        ({"unrealized_pnl_pct": 0.4, "peak_pnl_pct": 2.0}, "drawdown_stop"),
        ({"current_bid_ask_spread": 0.07}, "spread_blowout"),
        ({"trailing_edge_pct": 0.0}, "signal_exit"),
        ({"trailing_edge_pct": -0.02}, "signal_exit"),
        ({"elapsed_hours": 720.0, "trailing_edge_pct": 0.3}, "max_hold_reached"),
        ({"elapsed_hours": 720.0}, "max_hold_reached"),
        ({"current_fund_profit_8h": -0.01}, "funding_flipped"),
        ({"elapsed_hours": 96.0}, "optimal_hold_reached"),
        ({"current_fund_profit_8h": 0.0005}, "remaining_below_exit_cost"),
    ],
)
def test_each_rule_fires(changes, reason):
    d = decide(**changes)
    assert (d.action, d.reason) == ("exit", reason)


def test_rules_just_inside_their_thresholds_hold():
    assert decide(unrealized_pnl_pct=-0.99, peak_pnl_pct=0.0).action == "hold"
    assert decide(current_bid_ask_spread=0.059).action == "hold"  # 2.95x the entry spread
    # a tiny spread tripling stays under the absolute floor: no blow-out
    assert decide(entry_bid_ask_spread=0.01, current_bid_ask_spread=0.03).action == "hold"
    assert decide(current_fund_profit_8h=0.0).reason == "remaining_below_exit_cost"
    assert decide(elapsed_hours=95.0).action == "exit"  # 1 h left earns < exit cost
    assert decide(elapsed_hours=60.0).action == "hold"


def test_order_risk_before_economics():
    d = decide(unrealized_pnl_pct=-2.0, current_fund_profit_8h=-0.1, current_bid_ask_spread=1.0)
    assert d.reason == "drawdown_stop"
    assert (
        decide(current_fund_profit_8h=-0.1, current_bid_ask_spread=1.0).reason == "spread_blowout"
    )
    assert decide(current_fund_profit_8h=-0.1, elapsed_hours=200).reason == "funding_flipped"
    assert decide(current_fund_profit_8h=-0.1, trailing_edge_pct=-0.1).reason == "signal_exit"
    assert RULES[0] == "drawdown_stop"


def test_signal_exit_is_the_simulators_rule():
    """/exit-signal decides with data_tools.exit_rule.should_exit, the function behind the
    signal_exit labels: same inputs, same answer, on both sides of its threshold."""
    from arbscore.data_tools.exit_rule import SignalExitConfig, should_exit

    for edge in (-0.5, -1e-9, 0.0, 1e-9, 0.03, 0.4):
        fired = decide(trailing_edge_pct=edge).reason == "signal_exit"
        assert fired == should_exit(edge, CALM["elapsed_hours"], SignalExitConfig(), 720.0)
    assert decide(trailing_edge_pct=0.05).action == "hold"
    assert decide(trailing_edge_pct=0.05).details["trailing_edge_pct"] == 0.05


def test_bad_state_is_refused():
    with pytest.raises(ValueError, match="elapsed_hours"):
        PositionState(**{**CALM, "elapsed_hours": -1.0})
    with pytest.raises(ValueError, match="current_fund_profit_8h"):
        PositionState(**{**CALM, "current_fund_profit_8h": float("nan")})
    with pytest.raises(ValueError, match="spread_blowout_mult"):
        ExitConfig(spread_blowout_mult=1.0)
