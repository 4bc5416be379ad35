"""Carry without a clock: a position whose exit falls at the label boundary lives on.

The simulator labels holds up to the largest hold of the grid (720 h by default), so a position
whose exit rule still says "stay" there would be closed by the labels' clock and pay a round trip
no trader pays. ``continue_at_boundary`` chains it instead, in a strategy's candidate table:

- a candidate *reaches the boundary* when its exit is at the largest hold (``exit_hours`` >=
  ``boundary_hours``; a liquidated position ended, it never continues);
- its *successor* is the same strategy's candidate for the same legs (symbol, strategy kind,
  long and short venue) entered exactly ``boundary_hours`` later: the opportunity the position
  is in at that time. No successor (the opportunity stopped clearing the detector's thresholds,
  or the out-of-sample data ends): the position ends at the boundary at its own values
  ("continuation end");
- the chain lives as long as each successor's exit rule says stay (the successor's own exit:
  its signal exit, its hold, its liquidation), whatever its entry decision: a held position is
  not re-entered, it is kept;
- at each junction the exit fills of the first segment and the entry fills of the next are not
  paid. The simulator books entry and exit fills alike (the taker fee on the same notional,
  slippage from the same spread estimate), so each is half its segment's round trip:
  saved = (fees + slippage of the first) / 2 + (fees + slippage of the next) / 2, taken off
  the fees and slippage and added to the net, so funding - fees - slippage + basis = net still
  holds per position. This half split is an estimate of the junction's fills.

The chained position keeps the first segment's row (entry, venues, margin, score, enter, fold)
with ``exit_hours`` the whole chain's, the sums of the parts, the last segment's liquidation
flag and exit rule, and ``segments``: one ``(opportunity_id, start_hours, value_offset_pct,
exit_hours, final_pct, entry_mark_pct)`` per segment, which the book marks day by day.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

HOUR_MS = 3_600_000
_KEYS = ("symbol", "strategy", "long_exchange", "short_exchange")
_EPS = 1e-9


def single_segments(c: pd.DataFrame) -> list[tuple]:
    """Each candidate as a one-segment position (no continuation)."""
    return [
        ((oid, 0.0, 0.0, h, v, m),)
        for oid, h, v, m in zip(
            c["opportunity_id"].to_numpy(),
            c["exit_hours"].to_numpy(float),
            c["realised_pct"].to_numpy(float),
            c["entry_mark_pct"].to_numpy(float),
            strict=True,
        )
    ]


def continue_at_boundary(candidates: pd.DataFrame, boundary_hours: float) -> pd.DataFrame:
    """``candidates`` with every boundary exit chained into its successor (module docstring);
    the row count and order are kept, a ``segments`` column is added."""
    c = candidates.reset_index(drop=True)
    segments = single_segments(c)
    n = len(c)
    if not n or not np.isfinite(boundary_hours) or boundary_hours <= 0:
        return c.assign(segments=segments)
    ts = c["timestamp_ms"].to_numpy(np.int64)
    reach = (c["exit_hours"].to_numpy(float) >= boundary_hours - _EPS) & ~c["liquidated"].to_numpy(
        bool
    )
    key = pd.MultiIndex.from_arrays([c[k].astype(str).to_numpy() for k in _KEYS] + [ts])
    where = pd.Series(np.arange(n), index=key)
    where = where[~where.index.duplicated()]
    later = pd.MultiIndex.from_arrays(
        [c[k].astype(str).to_numpy() for k in _KEYS] + [ts + int(round(boundary_hours * HOUR_MS))]
    )
    succ = where.reindex(later).to_numpy()
    succ = np.where(reach & np.isfinite(succ), succ, -1).astype(np.int64)
    if not (succ >= 0).any():
        return c.assign(segments=segments)
    cols = ["exit_hours", "realised_pct", "funding_pct", "fees_pct", "slippage_pct"]
    cols += ["price_pnl_pct"]
    own = {k: c[k].to_numpy(float) for k in cols}
    out = {k: v.copy() for k, v in own.items()}
    liq = c["liquidated"].to_numpy(bool).copy()
    rule = c["exit_rule"].to_numpy(object).copy()
    # latest first: a successor's chain is complete before anything continues into it
    for i in np.argsort(-ts, kind="mergesort"):
        j = succ[i]
        if j < 0:
            continue
        half_i = (own["fees_pct"][i] + own["slippage_pct"][i]) / 2.0
        half_j = (own["fees_pct"][j] + own["slippage_pct"][j]) / 2.0
        fee_saved = (own["fees_pct"][i] + own["fees_pct"][j]) / 2.0
        slip_saved = (own["slippage_pct"][i] + own["slippage_pct"][j]) / 2.0
        net_i = own["realised_pct"][i] + half_i + half_j  # value carried into the next segment
        out["exit_hours"][i] = boundary_hours + out["exit_hours"][j]
        out["realised_pct"][i] = net_i + out["realised_pct"][j]
        out["funding_pct"][i] = own["funding_pct"][i] + out["funding_pct"][j]
        out["fees_pct"][i] = own["fees_pct"][i] + out["fees_pct"][j] - fee_saved
        out["slippage_pct"][i] = own["slippage_pct"][i] + out["slippage_pct"][j] - slip_saved
        out["price_pnl_pct"][i] = own["price_pnl_pct"][i] + out["price_pnl_pct"][j]
        liq[i], rule[i] = liq[j], rule[j]
        first = segments[i][0]
        tail = tuple(
            (oid, start + boundary_hours, offset + net_i, h, v, m)
            for oid, start, offset, h, v, m in segments[j]
        )
        segments[i] = (first, *tail)
    done = c.assign(**out, liquidated=liq, exit_rule=rule)
    done["segments"] = segments
    return done
