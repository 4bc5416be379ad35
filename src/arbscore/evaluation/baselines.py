"""Backtest candidates: one (row, score, entry decision) per opportunity for every strategy.

- ML family: hold = the duration head's prediction snapped to the nearest simulated hold of that
  opportunity; score = predicted net profit at that row; enters when P(profit) and expected
  profit clear the config's thresholds.
- rule_based: the guide's rule: rank by fund_apr, hold ``baseline_hold_hours`` (snapped), enter
  only when break_even_hours is shorter than that hold.
- persistence: assume the trailing 3-day funding persists: score = fund_profit_3d_proj
  amortised over the hold (it is a 72 h total) minus round-trip costs; enter when > 0.
- oracle: the best realised row of each opportunity, entered when it made money (upper bound).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from arbscore.data_tools import costs
from arbscore.evaluation.config import EvaluationConfig
from arbscore.families import HeadOutputs

BASELINES: tuple[str, ...] = ("rule_based", "persistence", "oracle")


def snap_to_hold(rows: pd.DataFrame, target_hours: np.ndarray) -> pd.DataFrame:
    """Per opportunity, the row whose ``hold_hours`` is nearest its target (ties: shorter)."""
    d = rows.assign(_dist=np.abs(rows["hold_hours"].to_numpy(float) - target_hours))
    d = d.sort_values(["opportunity_id", "_dist", "hold_hours"], kind="mergesort")
    return d.drop_duplicates("opportunity_id").drop(columns="_dist")


def _candidates(chosen: pd.DataFrame, score: np.ndarray, enter: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "timestamp_ms": chosen["timestamp_ms"].to_numpy(np.int64),
            "symbol": chosen["symbol"].to_numpy(object),
            "opportunity_id": chosen["opportunity_id"].to_numpy(np.int64),
            "hold_hours": chosen["hold_hours"].to_numpy(float),
            "realised_pct": chosen["actual_profit_pct"].to_numpy(float),
            "score": score,
            "enter": enter,
        }
    )


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
    profit = chosen["_profit"].to_numpy(float)
    success = chosen["_success"].to_numpy(float)
    enter = (success >= config.min_success_probability) & (profit > config.min_expected_profit_pct)
    return _candidates(chosen, profit, enter)


def round_trip_cost_pct(rows: pd.DataFrame, config: EvaluationConfig) -> np.ndarray:
    """Estimated entry+exit cost in percent: the opportunity stage's own estimate when the data
    has it, else break-even hours x hourly edge, else the one round-trip formula
    (``data_tools.costs.round_trip_cost_pct``) at ``config.fees``, on the rows' venues where
    known (Binance otherwise) and their bid-ask spread."""
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


def baseline_candidates(name: str, rows: pd.DataFrame, config: EvaluationConfig) -> pd.DataFrame:
    """Candidates of baseline ``name`` (one of BASELINES) on one fold's test rows."""
    if name == "oracle":
        best = rows["actual_profit_pct"].to_numpy(float)
        chosen = rows.assign(_neg=-best).sort_values(["opportunity_id", "_neg", "hold_hours"])
        chosen = chosen.drop_duplicates("opportunity_id")
        score = chosen["actual_profit_pct"].to_numpy(float)
        return _candidates(chosen, score, score > 0)
    chosen = snap_to_hold(rows, np.full(len(rows), config.baseline_hold_hours))
    hold = chosen["hold_hours"].to_numpy(float)
    if name == "rule_based":
        apr = chosen["fund_apr"].to_numpy(float)
        be = chosen["break_even_hours"].to_numpy(float)
        enter = np.isfinite(be) & (be < hold) & (apr > 0)
        return _candidates(chosen, np.nan_to_num(apr, nan=-np.inf), enter)
    if name == "persistence":
        proj = chosen["fund_profit_3d_proj"].to_numpy(float)  # percent over 72 h
        score = proj * hold / 72.0 - round_trip_cost_pct(chosen, config)
        score = np.nan_to_num(score, nan=-np.inf)
        return _candidates(chosen, score, score > 0)
    raise ValueError(f"unknown baseline {name!r}; expected one of {list(BASELINES)}")
