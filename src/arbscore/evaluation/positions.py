"""What one position of a strategy is worth: its exit, its PnL, its margin, its daily marks.

A strategy picks, per opportunity, an exit: a simulated hold of the grid (``exit_at_hold``) or
the signal exit (``exit_at_signal``, the labels ``signal_exit_hours`` and
``signal_exit_profit_pct`` of #11). Either gives one *position row* (``POSITION_COLUMNS``):
entry time, venues, hours to exit, net PnL in % of one leg's notional, the margin it ties up per
USD of notional, the funding/fee/slippage/price parts of its PnL, and whether it was liquidated.

Every exit is booked at the simulator's own values at that time (#24), never interpolated:

- a hold exit reads its row: ``actual_profit_pct`` and the parts ``funding_pct``, ``fees_pct``,
  ``slippage_pct``, ``price_pnl_pct`` (% of one leg's notional; funding - fees - slippage +
  price PnL = the net), ending at ``actual_hold_hours`` (the liquidation time on a liquidated
  row: the position ends there);
- a signal exit reads the opportunity's ``signal_exit_*`` labels: ``signal_exit_profit_pct``,
  ``signal_exit_funding_pct``, ``signal_exit_fees_pct``, ``signal_exit_slippage_pct``,
  ``signal_exit_price_pnl_pct`` and ``signal_exit_liquidated``.

Per position funding - fees - slippage + basis = the net, where basis is the price PnL the
simulator reports (the rest of the net, so the identity holds to the cent).

Fallbacks for inputs older than #24 (the guide's CSV, a training set written before it):

- margin: the label ``capital_usd`` / notional when present; else the spot leg's full notional
  plus notional / ``perp_leverage`` for each perp leg (spot_perp 1.5x, perp_perp 1.0x at 2x);
- liquidation: ``liquidated`` when present, else False; a liquidated row ends at its
  ``actual_hold_hours`` when that is shorter than its hold;
- hold-exit parts: ``total_funding_earned_usd`` and ``total_fees_usd`` (USD, over the row's
  notional) and ``total_slippage_pct``; absent parts count 0, so basis (the rest) holds them;
- signal-exit parts without the ``signal_exit_*`` part labels: unknown, so funding, fees and
  slippage read 0 and basis holds the whole net (never borrowed from a neighbouring hold row);
  liquidation: a hold row liquidated before the signal exit ends the position there, at that
  row's own values;
- signal exit absent -> the caller's hold rule (``exit_rule`` says which was used);
- marks: ``training_marks.parquet`` (schema ``MARK_COLUMNS``, keyed by the simulator's
  opportunity ids: ``align_marks`` maps them onto the loader's integer ids) when given; else the
  hold rows themselves, each the position's liquidation value at its hold, interpolated linearly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from arbscore.evaluation.config import EvaluationConfig
from arbscore.schema import MARK_COLUMNS, capital_per_notional

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
    "price_pnl_pct",
    "entry_mark_pct",
)
#: the simulator's cost parts of a hold row (% of one leg's notional), #24
SIM_PARTS: tuple[str, ...] = ("funding_pct", "fees_pct", "slippage_pct", "price_pnl_pct")
#: the same parts at the opportunity's signal exit
SIGNAL_PARTS: dict[str, str] = {p: f"signal_exit_{p}" for p in SIM_PARTS}


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
    fallback = np.where(
        spot,
        capital_per_notional(True, config.perp_leverage),
        capital_per_notional(False, config.perp_leverage),
    )
    if "capital_usd" in rows.columns:
        from_label = rows["capital_usd"].to_numpy(float) / notional_usd(rows, config)
        return np.where(np.isfinite(from_label) & (from_label > 0), from_label, fallback)
    return fallback


def _column(rows: pd.DataFrame, name: str, default: float = np.nan) -> np.ndarray:
    if name in rows.columns:
        return rows[name].to_numpy(float)
    return np.full(len(rows), default)


def _flag(rows: pd.DataFrame, name: str) -> np.ndarray:
    """A boolean label column; absent or unfilled (NaN) reads False."""
    if name not in rows.columns:
        return np.zeros(len(rows), dtype=bool)
    v = rows[name].to_numpy()
    if v.dtype == bool:
        return v
    v = pd.to_numeric(pd.Series(v), errors="coerce").to_numpy(float)
    return np.nan_to_num(v, nan=0.0) != 0.0


def _has(rows: pd.DataFrame, cols) -> bool:
    """Whether every column of ``cols`` is present and filled on every row."""
    cols = list(cols)
    if not set(cols) <= set(rows.columns) or not len(rows):
        return False
    return bool(np.isfinite(rows[cols].to_numpy(float)).all())


def _parts(rows: pd.DataFrame, config: EvaluationConfig) -> dict[str, np.ndarray]:
    """Funding, fees, slippage and price PnL of each hold row in % of notional: the
    simulator's own parts when the set has them, else the older USD labels (absent -> 0) and
    price PnL as the rest of the net (see the module docstring)."""
    if _has(rows, SIM_PARTS):
        return {p: rows[p].to_numpy(float) for p in SIM_PARTS}
    n = notional_usd(rows, config)
    parts = {
        "funding_pct": _column(rows, "total_funding_earned_usd") / n * 100.0,
        "fees_pct": _column(rows, "total_fees_usd") / n * 100.0,
        "slippage_pct": _column(rows, "total_slippage_pct"),
    }
    parts = {k: np.nan_to_num(v, nan=0.0) for k, v in parts.items()}
    parts["price_pnl_pct"] = _rest(rows["actual_profit_pct"].to_numpy(float), parts)
    return parts


def _rest(net: np.ndarray, parts: dict[str, np.ndarray]) -> np.ndarray:
    """The price PnL that makes funding - fees - slippage + price PnL = net."""
    return net - parts["funding_pct"] + parts["fees_pct"] + parts["slippage_pct"]


def _ended_hours(rows: pd.DataFrame) -> np.ndarray:
    """When the row's position really ended: its hold, or earlier when it was liquidated."""
    hold = rows["hold_hours"].to_numpy(float)
    if "liquidated" not in rows.columns:
        return hold
    actual = _column(rows, "actual_hold_hours")
    liq = _flag(rows, "liquidated")
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
    liq = _flag(chosen, "liquidated")
    return _frame(
        chosen,
        config,
        exit_hours=_ended_hours(chosen),
        exit_rule="hold",
        realised_pct=chosen["actual_profit_pct"].to_numpy(float),
        liquidated=liq,
        **parts,
    )


def has_signal_exit(rows: pd.DataFrame) -> bool:
    """Whether the set carries #11's signal-exit labels (present and filled: a frame whose
    columns were added empty, as an older set's, has none)."""
    cols = ("signal_exit_hours", "signal_exit_profit_pct")
    if not set(cols) <= set(rows.columns):
        return False
    return bool(np.isfinite(rows[list(cols)].to_numpy(float)).all(axis=1).any())


def exit_at_signal(
    rows: pd.DataFrame, fallback_hours: np.ndarray, config: EvaluationConfig
) -> pd.DataFrame:
    """Position rows exiting by the signal rule; without its labels, at ``fallback_hours``
    (one target per row of ``rows``) snapped to the grid, marked ``exit_rule="hold"``."""
    if not has_signal_exit(rows):
        return exit_at_hold(snap_to_hold(rows, fallback_hours), config)
    labelled = np.isfinite(rows[["signal_exit_hours", "signal_exit_profit_pct"]].to_numpy(float))
    labelled = labelled.all(axis=1)
    if not labelled.all():  # opportunities without the labels exit at the fallback hold
        fallback_hours = np.asarray(fallback_hours, float)
        return pd.concat(
            [
                exit_at_signal(rows[labelled], fallback_hours[labelled], config),
                exit_at_hold(snap_to_hold(rows[~labelled], fallback_hours[~labelled]), config),
            ],
            ignore_index=True,
        )
    sig = rows["signal_exit_hours"].to_numpy(float)
    first = rows.drop_duplicates("opportunity_id")
    exit_h = first["signal_exit_hours"].to_numpy(float)
    net = first["signal_exit_profit_pct"].to_numpy(float)
    if _has(first, SIGNAL_PARTS.values()):  # the simulator's own values at the signal exit
        parts = {p: first[c].to_numpy(float) for p, c in SIGNAL_PARTS.items()}
        liq = _flag(first, "signal_exit_liquidated")
        return _frame(
            first,
            config,
            exit_hours=exit_h,
            exit_rule="signal",
            realised_pct=net,
            liquidated=liq,
            **parts,
        )
    # older sets: a hold row liquidated before the signal exit ends the position there, at
    # that row's own values; otherwise the signal exit's net with unknown parts (basis holds it)
    ended = _ended_hours(rows)
    liq_rows = _flag(rows, "liquidated") & (ended <= sig + 1e-9)
    early = rows[liq_rows].assign(_end=ended[liq_rows])
    early = early.sort_values(["opportunity_id", "_end"], kind="mergesort")
    early = early.drop_duplicates("opportunity_id").drop(columns="_end")
    zero = np.zeros(len(first))
    parts = {"funding_pct": zero, "fees_pct": zero, "slippage_pct": zero, "price_pnl_pct": net}
    out = _frame(
        first,
        config,
        exit_hours=exit_h,
        exit_rule="signal",
        realised_pct=net,
        liquidated=np.zeros(len(first), dtype=bool),
        **parts,
    )
    if len(early):
        keep = ~out["opportunity_id"].isin(set(early["opportunity_id"])).to_numpy()
        liquidated = exit_at_hold(early, config).assign(exit_rule="signal")
        out = pd.concat([out[keep], liquidated], ignore_index=True)
    return out


def align_marks(marks: pd.DataFrame | None, rows: pd.DataFrame) -> pd.DataFrame | None:
    """The daily marks keyed by ``rows``' integer ``opportunity_id``.

    The simulator keys the executions and the marks by the same int64 id (a name's fixed hash,
    the name in ``opportunity_key``): such marks are matched by id. An older marks file keyed
    by the names is mapped through ``opportunity_key``. Marks of opportunities not in ``rows``
    are dropped.
    """
    if marks is None or not len(marks):
        return marks
    missing = [c for c in MARK_COLUMNS if c not in marks.columns]
    if missing:
        raise ValueError(f"marks lack columns {missing}; expected {list(MARK_COLUMNS)}")
    m = marks[list(MARK_COLUMNS)]
    named = not pd.api.types.is_integer_dtype(m["opportunity_id"])  # an older, name-keyed file
    if named and "opportunity_key" in rows.columns:
        ids = rows.drop_duplicates("opportunity_id")
        by_key = pd.Series(
            ids["opportunity_id"].to_numpy(), index=ids["opportunity_key"].astype(str).to_numpy()
        )
        mapped = m["opportunity_id"].astype(str).map(by_key)
        m = m.assign(opportunity_id=mapped).dropna(subset=["opportunity_id"])
        m = m.assign(opportunity_id=m["opportunity_id"].astype(rows["opportunity_id"].dtype))
        return m.reset_index(drop=True)
    return m[m["opportunity_id"].isin(set(rows["opportunity_id"]))].reset_index(drop=True)


def marks_matched_fraction(marks: pd.DataFrame | None, trades: pd.DataFrame) -> float | None:
    """Share of booked positions open past their first day that have at least one daily mark
    in ``marks`` (aligned by ``align_marks``; None without marks or without such positions):
    0 means the marks were keyed to nothing the book holds."""
    if marks is None:
        return None
    lived = trades[trades["exit_hours"].to_numpy(float) > 24.0]
    if not len(lived):
        return None
    ids = lived["opportunity_id"].drop_duplicates()
    return float(ids.isin(set(marks["opportunity_id"])).mean())


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
