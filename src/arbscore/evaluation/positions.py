"""What one position of a strategy is worth: its exit, its PnL, its margin, its daily marks.

A strategy picks, per opportunity, an exit: a simulated hold of the grid (``exit_at_hold``) or
the signal exit (``exit_at_signal``, the labels ``signal_exit_hours`` and
``signal_exit_profit_pct`` of #11). Either gives one *position row* (``POSITION_COLUMNS``):
entry time, venues, hours to exit, net PnL in % of one leg's notional, the margin it ties up per
USD of notional, the funding/fee/slippage parts of its PnL, and whether it was liquidated.

Fallbacks for inputs older than #11 (the guide's CSV, a training set written before it):

- margin: the label ``capital_usd`` / notional when present; else the spot leg's full notional
  plus notional / ``perp_leverage`` for each perp leg (spot_perp 1.5x, perp_perp 1.0x at 2x);
- liquidation: ``liquidated`` when present, else False; a liquidated row ends at its
  ``actual_hold_hours`` (the position ended there, and is booked there);
- signal exit: absent -> the caller's hold rule (``exit_rule`` says which was used);
- cost parts: ``total_funding_earned_usd`` and ``total_fees_usd`` (USD, over the row's
  notional) and ``total_slippage_pct``; absent parts count 0, so basis (the rest) holds them;
- marks: ``training_marks.parquet`` (schema ``MARK_COLUMNS``) when given; else the hold rows
  themselves, each the position's liquidation value at its hold, interpolated linearly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from arbscore.evaluation.config import EvaluationConfig
from arbscore.schema import MARK_COLUMNS

HOUR_MS = 3_600_000
#: one position a strategy would open: what the portfolio needs to book it
POSITION_COLUMNS: tuple[str, ...] = (
    "opportunity_id",
    "timestamp_ms",
    "symbol",
    "strategy",
    "long_exchange",
    "short_exchange",
    "exit_hours",
    "exit_rule",
    "realised_pct",
    "capital_multiple",
    "liquidated",
    "funding_pct",
    "fees_pct",
    "slippage_pct",
    "entry_mark_pct",
)


def notional_usd(rows: pd.DataFrame, config: EvaluationConfig) -> np.ndarray:
    """Each row's per-leg notional in USD: ``notional_usd`` when the set has it, else read off
    ``actual_profit_usd / actual_profit_pct`` (the simulator's position size), else
    ``config.position_usd``."""
    n = len(rows)
    if "notional_usd" in rows.columns:
        return rows["notional_usd"].to_numpy(float)
    if "actual_profit_usd" in rows.columns:
        pct = rows["actual_profit_pct"].to_numpy(float)
        usd = rows["actual_profit_usd"].to_numpy(float)
        ok = np.isfinite(pct) & np.isfinite(usd) & (np.abs(pct) > 1e-6)
        if ok.any():
            return np.full(n, float(np.median(usd[ok] / pct[ok] * 100.0)))
    return np.full(n, config.position_usd)


def capital_multiple(rows: pd.DataFrame, config: EvaluationConfig) -> np.ndarray:
    """Margin of both legs per USD of one leg's notional (see the module docstring)."""
    spot = np.zeros(len(rows), dtype=bool)
    if "long_market" in rows.columns:
        spot = rows["long_market"].astype(str).to_numpy() == "spot"
    elif "strategy" in rows.columns:
        spot = rows["strategy"].astype(str).to_numpy() == "spot_perp"
    lev = config.perp_leverage
    fallback = np.where(spot, 1.0 + 1.0 / lev, 2.0 / lev)
    if "capital_usd" in rows.columns:
        from_label = rows["capital_usd"].to_numpy(float) / notional_usd(rows, config)
        return np.where(np.isfinite(from_label) & (from_label > 0), from_label, fallback)
    return fallback


def _column(rows: pd.DataFrame, name: str, default: float = np.nan) -> np.ndarray:
    if name in rows.columns:
        return rows[name].to_numpy(float)
    return np.full(len(rows), default)


def _parts(rows: pd.DataFrame, config: EvaluationConfig) -> dict[str, np.ndarray]:
    """Funding, fees and slippage of each row in % of notional (absent -> 0)."""
    n = notional_usd(rows, config)
    parts = {
        "funding_pct": _column(rows, "total_funding_earned_usd") / n * 100.0,
        "fees_pct": _column(rows, "total_fees_usd") / n * 100.0,
        "slippage_pct": _column(rows, "total_slippage_pct"),
    }
    return {k: np.nan_to_num(v, nan=0.0) for k, v in parts.items()}


def _ended_hours(rows: pd.DataFrame) -> np.ndarray:
    """When the row's position really ended: its hold, or earlier when it was liquidated."""
    hold = rows["hold_hours"].to_numpy(float)
    if "liquidated" not in rows.columns:
        return hold
    actual = _column(rows, "actual_hold_hours")
    liq = rows["liquidated"].to_numpy(bool)
    return np.where(liq & np.isfinite(actual), np.minimum(actual, hold), hold)


def entry_mark_pct(rows: pd.DataFrame) -> np.ndarray:
    """The position's value just after entry: minus its round trip (entry paid, exit as if
    closed at once); 0 when the set has no cost estimate."""
    return -np.nan_to_num(_column(rows, "round_trip_cost_pct"), nan=0.0)


def _frame(chosen: pd.DataFrame, config: EvaluationConfig, **cols) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "opportunity_id": chosen["opportunity_id"].to_numpy(),
            "timestamp_ms": chosen["timestamp_ms"].to_numpy(np.int64),
            "symbol": chosen["symbol"].astype(str).to_numpy(),
            "strategy": chosen["strategy"].astype(str).to_numpy()
            if "strategy" in chosen.columns
            else "unknown",
            "long_exchange": chosen["long_exchange"].astype(str).to_numpy()
            if "long_exchange" in chosen.columns
            else "unknown",
            "short_exchange": chosen["short_exchange"].astype(str).to_numpy()
            if "short_exchange" in chosen.columns
            else "unknown",
            "capital_multiple": capital_multiple(chosen, config),
            "entry_mark_pct": entry_mark_pct(chosen),
        }
    )
    for k, v in cols.items():
        out[k] = v
    return out[list(POSITION_COLUMNS)]


def snap_to_hold(rows: pd.DataFrame, target_hours: np.ndarray) -> pd.DataFrame:
    """Per opportunity, the row whose ``hold_hours`` is nearest its target (ties: shorter)."""
    d = rows.assign(_dist=np.abs(rows["hold_hours"].to_numpy(float) - target_hours))
    d = d.sort_values(["opportunity_id", "_dist", "hold_hours"], kind="mergesort")
    return d.drop_duplicates("opportunity_id").drop(columns="_dist")


def exit_at_hold(chosen: pd.DataFrame, config: EvaluationConfig) -> pd.DataFrame:
    """Position rows for already-chosen hold rows (one per opportunity)."""
    parts = _parts(chosen, config)
    liq = chosen["liquidated"].to_numpy(bool) if "liquidated" in chosen.columns else False
    return _frame(
        chosen,
        config,
        exit_hours=_ended_hours(chosen),
        exit_rule="hold",
        realised_pct=chosen["actual_profit_pct"].to_numpy(float),
        liquidated=np.broadcast_to(liq, len(chosen)).copy(),
        **parts,
    )


def has_signal_exit(rows: pd.DataFrame) -> bool:
    """Whether the set carries #11's signal-exit labels."""
    return {"signal_exit_hours", "signal_exit_profit_pct"} <= set(rows.columns)


def exit_at_signal(
    rows: pd.DataFrame, fallback_hours: np.ndarray, config: EvaluationConfig
) -> pd.DataFrame:
    """Position rows exiting by the signal rule; without its labels, at ``fallback_hours``
    (one target per row of ``rows``) snapped to the grid, marked ``exit_rule="hold"``."""
    if not has_signal_exit(rows):
        return exit_at_hold(snap_to_hold(rows, fallback_hours), config)
    sig = rows["signal_exit_hours"].to_numpy(float)
    # the grid row at or just after the signal exit carries its fees, slippage and liquidation
    after = np.where(rows["hold_hours"].to_numpy(float) >= sig - 1e-9, 0.0, 1.0)
    d = rows.assign(_after=after).sort_values(["opportunity_id", "_after", "hold_hours"])
    chosen = d.drop_duplicates("opportunity_id").drop(columns="_after")
    parts = _parts(chosen, config)
    exit_h = chosen["signal_exit_hours"].to_numpy(float)
    liq = np.zeros(len(chosen), dtype=bool)
    if "liquidated" in chosen.columns:
        ended = _ended_hours(chosen)
        liq = chosen["liquidated"].to_numpy(bool) & (ended <= exit_h + 1e-9)
        exit_h = np.where(liq, ended, exit_h)
    knots = position_knots(rows, None, config)
    parts["funding_pct"] = np.array(
        [
            _interp_funding(knots.get(o), h)
            for o, h in zip(chosen["opportunity_id"].to_numpy(), exit_h, strict=True)
        ]
    )
    return _frame(
        chosen,
        config,
        exit_hours=exit_h,
        exit_rule="signal",
        realised_pct=chosen["signal_exit_profit_pct"].to_numpy(float),
        liquidated=liq,
        **parts,
    )


def _interp_funding(knot: tuple | None, hours: float) -> float:
    if knot is None:
        return 0.0
    h, _, f = knot
    return float(np.interp(hours, np.concatenate([[0.0], h]), np.concatenate([[0.0], f])))


def position_knots(
    rows: pd.DataFrame, marks: pd.DataFrame | None, config: EvaluationConfig
) -> dict[object, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """opportunity_id -> (hours, value %, cumulative funding %) after entry, sorted by hours.

    From the daily marks (day x 24 h) when given, else from the hold rows (each hold's
    liquidation value and funding to then). The portfolio interpolates linearly between them.
    """
    if marks is not None and len(marks):
        missing = [c for c in MARK_COLUMNS if c not in marks.columns]
        if missing:
            raise ValueError(f"marks lack columns {missing}; expected {list(MARK_COLUMNS)}")
        ids = set(rows["opportunity_id"].unique())
        m = marks[marks["opportunity_id"].isin(ids)].sort_values(["opportunity_id", "day"])
        hours = m["day"].to_numpy(float) * 24.0
        value, funding = m["mark_pct"].to_numpy(float), m["funding_pct"].to_numpy(float)
        keys = m["opportunity_id"].to_numpy()
    else:
        r = rows.sort_values(["opportunity_id", "hold_hours"], kind="mergesort")
        hours = _ended_hours(r)
        value = r["actual_profit_pct"].to_numpy(float)
        funding = _parts(r, config)["funding_pct"]
        keys = r["opportunity_id"].to_numpy()
    out: dict = {}
    if not len(keys):
        return out
    cuts = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(keys)], strict=True):
        out[keys[lo]] = (hours[lo:hi], value[lo:hi], funding[lo:hi])
    return out
