"""The simulator's output frames: int64 opportunity ids, the executions frame, the daily marks.

``opportunity_id`` is an int64 in the executions and the marks alike (the book joins them):
an integer id as it is, the detector's name for an opportunity as its fixed 64-bit hash, the
name kept in ``opportunity_key``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from arbscore.data_tools.simulate_path import exit_breakdown
from arbscore.schema import (
    EXECUTION_LABEL_COLUMNS,
    HOLD_COLUMN,
    MARK_COLUMNS,
    OPPORTUNITY_LABEL_COLUMNS,
)

BOOL_LABELS: tuple[str, ...] = (
    "was_profitable",
    "liquidated",
    "signal_exit_liquidated",
    "price_estimated",
)


def opportunity_ids(opps: pd.DataFrame) -> np.ndarray:
    """The int64 ``opportunity_id`` of every opportunity row: an integer id as it is, a name
    (the detector's ``strategy:symbol:legs:time``) as its fixed 64-bit hash
    (``pandas.util.hash_array``, the same in every process and partition). Raises when two
    names of the frame share a hash."""
    if "opportunity_id" not in opps:
        return np.arange(len(opps), dtype=np.int64)
    ids = opps["opportunity_id"]
    if pd.api.types.is_integer_dtype(ids):
        return ids.to_numpy(np.int64)
    names = ids.astype(str).to_numpy(dtype=object)
    hashed = pd.util.hash_array(names).view(np.int64)
    distinct = len(np.unique(hashed))
    if distinct != len(hashed) and distinct != len(pd.unique(names)):
        raise ValueError("two opportunity names share a 64-bit hash; rename one of them")
    return hashed


def chunk_marks(grid, tables, x, plan, size, p, sel, days, day_idx) -> pd.DataFrame:
    """Daily marks of one chunk (long format), only days inside each position's data; a
    liquidated position's marks hold its liquidation result."""
    n = len(sel)
    value = p["value"][:, day_idx]
    idx = np.broadcast_to(day_idx[None, :], (n, len(day_idx)))
    funding = exit_breakdown(grid, tables, x, plan, size, p, idx)["funding"]
    fits = x.room[:, None] >= plan.offsets[day_idx][None, :]
    r, j = np.nonzero(fits)
    return (
        pd.DataFrame(
            {
                "_row": sel[r],
                "day": days[j].astype(np.int64),
                "mark_pct": value[r, j] / size * 100.0,
                "funding_pct": funding[r, j] / size * 100.0,
            }
        )
        if n
        else pd.DataFrame(columns=["_row", "day", "mark_pct", "funding_pct"])
    )


def marks_frame(opps: pd.DataFrame, parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The chunks' marks with the opportunity ids, sorted like the executions."""
    if not parts:
        empty = pd.DataFrame({c: pd.Series(dtype="float64") for c in MARK_COLUMNS})
        empty["opportunity_id"] = pd.Series(dtype="int64")
        empty["day"] = pd.Series(dtype="int64")
        return empty[list(MARK_COLUMNS)]
    m = pd.concat(parts, ignore_index=True).sort_values(["_row", "day"], kind="stable")
    used, at = np.unique(m["_row"].to_numpy(), return_inverse=True)
    m.insert(0, "opportunity_id", opportunity_ids(opps.iloc[used])[at])
    return m[list(MARK_COLUMNS)].reset_index(drop=True)


def assemble(opps: pd.DataFrame, labels: dict, index: np.ndarray, data_source: str) -> pd.DataFrame:
    """Opportunity columns repeated per hold + labels: in the opportunities' order (time, then
    opportunity, as ``detect_opportunities`` sorts them), holds ascending."""
    holds = np.asarray(labels.get(HOLD_COLUMN, np.zeros(0)), dtype=np.int64)
    order = np.lexsort((holds, index))  # integer sort: cheap next to sorting object columns
    frame = opps.iloc[index[order]].reset_index(drop=True)
    if len(opps) and "opportunity_id" in opps:
        used, at = np.unique(index[order], return_inverse=True)  # hash the simulated ones only
        chosen = opps.iloc[used]
        frame["opportunity_id"] = opportunity_ids(chosen)[at]
        if not pd.api.types.is_integer_dtype(opps["opportunity_id"]):
            names = chosen["opportunity_id"].astype(str).to_numpy(dtype=object)
            frame.insert(1, "opportunity_key", names[at])
    elif "opportunity_id" in frame:
        frame["opportunity_id"] = frame["opportunity_id"].astype("int64")
    names = (HOLD_COLUMN, *EXECUTION_LABEL_COLUMNS, *OPPORTUNITY_LABEL_COLUMNS)
    for name in names:
        values = np.asarray(labels.get(name, np.zeros(0)))[order]
        if name in BOOL_LABELS:
            values = values.astype(bool)
        elif name in (HOLD_COLUMN, "funding_payments_count"):
            values = values.astype(np.int64)
        frame[name] = values
    frame["data_source"] = data_source
    return frame
