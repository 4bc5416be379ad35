"""Backtest candidates: one position (row, exit, score, entry decision) per opportunity for
every strategy, each by its own rule. No rule reads a label of its own test rows except the
hindsight oracle, which is named for it.

- ML family: hold = the duration head's prediction snapped to the opportunity's simulated
  holds (or the signal exit, ``model_exit="signal"``); score = predicted net profit there;
  enters when P(profit) and expected profit clear the config's thresholds.
- ``carry_rule``, the rule a carry trader runs: the trailing 3-day funding edge
  (``fund_profit_3d_proj`` / 72 h, % of notional per hour) times the expected hold
  (``rule_expected_hold_hours``) must pay the round trip (``round_trip_cost_pct``); ranked by
  that expected net; exits by the signal exit (without its labels: the expected hold, snapped).
- ``fund_apr_rank``: the same entry test and exit, ranked by ``fund_apr`` (the guide's order).
- ``persistence``: the last settled edge (``fund_profit_8h`` / 8 h) persists for its own
  expected hold, the median ``optimal_hold_hours`` of the fold's *training* opportunities
  (past labels only), which it holds (snapped); costs amortised over that hold; enters when
  the expected net is > 0.
- ``hindsight_oracle``: per opportunity its best realised hold, entered when that made money,
  ranked by it. It knows every outcome, but it is still greedy in time under the same limits,
  so it is a reference for what perfect foresight of single trades earns, not a strict upper
  bound of any portfolio.
- ``always_on``: the majors' cash-and-carry held all the time (``always_on_symbols``, BTC and
  ETH by default): every same-venue spot_perp opportunity of those symbols enters (score 1,
  the book's one-per-symbol limit keeps one each), held to its longest simulated hold and
  continued at the label boundary, so it is re-entered only after a liquidation, after its
  chain ends (no opportunity of the same legs at the boundary: funding had turned negative
  there) or at the data's end.
- ``cash``: flat; it earns ``idle_rate_pct`` on the whole book, 0 by default.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from arbscore.data_tools import costs
from arbscore.evaluation.config import EvaluationConfig
from arbscore.evaluation.positions import (
    exit_at_hold,
    exit_at_signal,
    snap_to_hold,
)
from arbscore.families import HeadOutputs

RULE_BASELINES: tuple[str, ...] = ("carry_rule", "fund_apr_rank", "persistence")
ORACLE = "hindsight_oracle"
ALWAYS_ON, CASH = "always_on", "cash"
#: what every family is held against: the best rule (picked per run), always_on and cash
REFERENCE_BASELINES: tuple[str, ...] = (ALWAYS_ON, CASH)
BASELINES: tuple[str, ...] = (*RULE_BASELINES, ORACLE, *REFERENCE_BASELINES)

__all__ = [
    "ALWAYS_ON",
    "BASELINES",
    "CASH",
    "REFERENCE_BASELINES",
    "ORACLE",
    "RULE_BASELINES",
    "baseline_candidates",
    "model_candidates",
    "round_trip_cost_pct",
    "snap_to_hold",
]


def _with(pos: pd.DataFrame, score: np.ndarray, enter: np.ndarray) -> pd.DataFrame:
    return pos.assign(score=np.asarray(score, float), enter=np.asarray(enter, bool))


def _per_opportunity(rows: pd.DataFrame, values: np.ndarray, pos: pd.DataFrame) -> np.ndarray:
    """``values`` (one per row, constant within an opportunity) aligned to ``pos``'s order."""
    first = pd.Series(values, index=rows["opportunity_id"].to_numpy())
    first = first[~first.index.duplicated()]
    return first.reindex(pos["opportunity_id"].to_numpy()).to_numpy(float)


def model_candidates(
    rows: pd.DataFrame, pred: HeadOutputs, config: EvaluationConfig
) -> pd.DataFrame:
    """The ML entry rule on one fold's test rows and a family's predictions for them."""
    d = rows.assign(
        _profit=np.asarray(pred.profit, float),
        _success=np.asarray(pred.success, float),
        _duration=np.asarray(pred.duration, float),
    )
    # the duration head ignores the hold input; read it off each opportunity's first row
    first = d.drop_duplicates("opportunity_id").set_index("opportunity_id")["_duration"]
    target = d["opportunity_id"].map(first).to_numpy(float)
    chosen = snap_to_hold(d, target)
    if config.model_exit == "signal":
        pos = exit_at_signal(d, target, config)
        chosen = chosen.set_index("opportunity_id").loc[pos["opportunity_id"]].reset_index()
    else:
        pos = exit_at_hold(chosen, config)
    profit = chosen["_profit"].to_numpy(float)
    success = chosen["_success"].to_numpy(float)
    enter = (success >= config.min_success_probability) & (profit > config.min_expected_profit_pct)
    return _with(pos, profit, enter)


def round_trip_cost_pct(rows: pd.DataFrame, config: EvaluationConfig) -> np.ndarray:
    """Entry + exit cost in % of notional, as every baseline's entry test reads it.

    The ONE place the backtest reads a round-trip cost: the opportunity stage's own
    ``round_trip_cost_pct`` column (computed by ``data_tools.costs.round_trip_cost_pct``); sets
    without it (the guide's CSV) fall back to break-even hours x hourly edge, then the same
    round-trip formula at ``config.fees``, on the rows' venues where known (Binance otherwise)
    and their bid-ask spread.
    """
    n = len(rows)

    def column(name: str, default: str) -> np.ndarray:
        if name in rows.columns:
            return rows[name].fillna(default).astype(str).to_numpy(object)
        return np.full(n, default, dtype=object)

    spot = (column("strategy", "perp_perp") == "spot_perp").astype(bool)
    spread = rows["bid_ask_spread"].to_numpy(float)
    fallback = costs.round_trip_cost_pct(
        costs.CostConfig(fees=config.fees),
        column("long_exchange", "binance"),
        np.where(spot, "spot", column("long_market", "perp")).astype(object),
        column("short_exchange", "binance"),
        column("short_market", "perp"),
        spread,
        spread,
    )
    cost = np.full(len(rows), np.nan)
    if "round_trip_cost_pct" in rows.columns:
        cost = rows["round_trip_cost_pct"].to_numpy(float)
    be = rows["break_even_hours"].to_numpy(float)
    hourly = rows["fund_profit_8h"].to_numpy(float) / 8.0
    from_be = np.where(np.isfinite(be) & (hourly > 0), be * hourly, np.nan)
    cost = np.where(np.isfinite(cost), cost, from_be)
    return np.where(np.isfinite(cost), cost, fallback)


def expected_hold_hours(train: pd.DataFrame | None, config: EvaluationConfig) -> float:
    """Persistence's own expected hold: median optimal hold of the training opportunities."""
    if train is None or "optimal_hold_hours" not in train.columns or not len(train):
        return config.rule_expected_hold_hours
    per_opp = train.drop_duplicates("opportunity_id")["optimal_hold_hours"].to_numpy(float)
    per_opp = per_opp[np.isfinite(per_opp)]
    return float(np.median(per_opp)) if per_opp.size else config.rule_expected_hold_hours


def baseline_candidates(
    name: str,
    rows: pd.DataFrame,
    config: EvaluationConfig,
    train: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Candidates of baseline ``name`` (one of BASELINES) on one fold's test rows;
    ``train`` (that fold's training rows) gives persistence its expected hold."""
    if name == CASH:
        return _with(exit_at_hold(rows.iloc[:0], config), [], [])
    if name == ALWAYS_ON:
        majors = np.array(rows["symbol"].astype(str).isin(config.always_on_symbols))
        if "strategy" in rows.columns:
            majors &= rows["strategy"].astype(str).to_numpy() == "spot_perp"
        if {"long_exchange", "short_exchange"} <= set(rows.columns):
            majors &= (rows["long_exchange"] == rows["short_exchange"]).to_numpy()
        held = rows[majors].sort_values(["opportunity_id", "hold_hours"], kind="mergesort")
        pos = exit_at_hold(held.drop_duplicates("opportunity_id", keep="last"), config)
        return _with(pos, np.ones(len(pos)), np.ones(len(pos), dtype=bool))
    if name == ORACLE:
        best = rows["actual_profit_pct"].to_numpy(float)
        chosen = rows.assign(_neg=-best).sort_values(["opportunity_id", "_neg", "hold_hours"])
        chosen = chosen.drop_duplicates("opportunity_id").drop(columns="_neg")
        pos = exit_at_hold(chosen, config)
        score = pos["realised_pct"].to_numpy(float)
        return _with(pos, score, score > 0)
    cost_rows = round_trip_cost_pct(rows, config)
    if name in ("carry_rule", "fund_apr_rank"):
        hold = config.rule_expected_hold_hours
        edge = rows["fund_profit_3d_proj"].to_numpy(float) / 72.0  # % of notional per hour
        net = edge * hold - cost_rows
        pos = exit_at_signal(rows, np.full(len(rows), hold), config)
        net_p = _per_opportunity(rows, net, pos)
        enter = np.isfinite(net_p) & (net_p >= 0)
        if name == "carry_rule":
            return _with(pos, np.nan_to_num(net_p, nan=-np.inf), enter)
        apr = _per_opportunity(rows, rows["fund_apr"].to_numpy(float), pos)
        return _with(pos, np.nan_to_num(apr, nan=-np.inf), enter)
    if name == "persistence":
        hold_target = expected_hold_hours(train, config)
        chosen = snap_to_hold(rows, np.full(len(rows), hold_target))
        hold = chosen["hold_hours"].to_numpy(float)
        edge = chosen["fund_profit_8h"].to_numpy(float) / 8.0
        score = np.nan_to_num(edge * hold - round_trip_cost_pct(chosen, config), nan=-np.inf)
        return _with(exit_at_hold(chosen, config), score, score > 0)
    raise ValueError(f"unknown baseline {name!r}; expected one of {list(BASELINES)}")
