"""The value rules of the training-data loader: what it refuses, what it keeps and reports.

:func:`arbscore.data_tools.dataset_files.normalise_training_frame` calls these on the parsed
columns; its docstring and docs/architecture.md ("Training set") state the rules. Each problem
names the column, the number of rows and the first few of them: ``line N`` of a CSV file (its
header is line 1), ``row N`` (counted from 1) of a Parquet file or an in-memory frame.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from arbscore.data_tools.features import KNOWN_EXTRA_NUMERIC, RAW_NUMERIC
from arbscore.schema import (
    HOLD_COLUMN,
    LIQUIDITY_STATUSES,
    MARKET_REGIMES,
    PROFIT_TARGET,
    STRATEGIES,
)

#: quantities that cannot be negative: a negative one is a broken collector, not a market state
NON_NEGATIVE: tuple[str, ...] = (
    "volume_24h",
    "orderbook_depth",
    "bid_ask_spread",
    "spread_volatility_cv",
    "btc_price",
)
#: calendar fields and their upper bound (exclusive; the lower bound is 0)
CALENDAR: dict[str, int] = {"hour_of_day": 24, "day_of_week": 7}
#: the one feature where inf (and a negative value) has a meaning: "never breaks even"
NEVER_VALUE = "break_even_hours"
#: labels that must be finite on every row that has them
FINITE_LABELS: tuple[str, ...] = (
    HOLD_COLUMN,
    PROFIT_TARGET,
    "optimal_hold_hours",
    "best_profit_pct",
)
SHOWN_ROWS = 5


def rows_text(positions: np.ndarray, line_offset: int | None) -> str:
    """``lines 4, 9 and 3 more`` (CSV: ``line_offset`` = line of the first data row) or
    ``rows 3, 8`` (Parquet / a frame) for 0-based row ``positions``."""
    pos = np.asarray(positions, dtype=np.int64)
    word = "line" if line_offset is not None else "row"
    shift = line_offset if line_offset is not None else 1
    shown = ", ".join(str(int(p) + shift) for p in pos[:SHOWN_ROWS])
    more = f" and {pos.size - SHOWN_ROWS:,} more" if pos.size > SHOWN_ROWS else ""
    return f"{word}{'s' if pos.size > 1 else ''} {shown}{more}"


def _where(df: pd.DataFrame, mask, line_offset: int | None) -> str:
    return rows_text(df.index.to_numpy()[np.asarray(mask, dtype=bool)], line_offset)


def count_rows(n: int) -> str:
    """``1 row`` / ``1,203 rows``."""
    return f"{n:,} row{'s' if n != 1 else ''}"


def value_problems(df: pd.DataFrame, line_offset: int | None) -> list[str]:
    """Refusals among the numeric columns (already float64): non-finite features and labels,
    negative quantities, calendar fields out of range, holds that are not > 0."""
    problems = []

    def refuse(name: str, mask, what: str, fix: str) -> None:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            problems.append(
                f"column {name} has {what} in {count_rows(int(mask.sum()))} "
                f"({_where(df, mask, line_offset)}); {fix}"
            )

    features = [c for c in (*RAW_NUMERIC, *KNOWN_EXTRA_NUMERIC) if c in df.columns]
    for name in features:
        if name == NEVER_VALUE or not pd.api.types.is_numeric_dtype(df[name]):
            continue  # "never breaks even"; or an extra column of text, which is not an input
        refuse(
            name,
            np.isinf(df[name].to_numpy(dtype=np.float64, na_value=np.nan)),
            "infinite values",
            "leave the cell empty where the value is unknown (empty cells get the median)",
        )
    for name in NON_NEGATIVE:
        if name in df.columns:
            refuse(name, df[name] < 0, "negative values", "it cannot be negative: fix or drop them")
    for name, top in CALENDAR.items():
        if name in df.columns:
            bad = (df[name] < 0) | (df[name] >= top)
            refuse(name, bad, f"values outside 0..{top - 1}", "fix or drop these rows")
    for name in FINITE_LABELS:
        if name in df.columns:
            v = df[name]
            if name in (HOLD_COLUMN, PROFIT_TARGET):
                refuse(name, v.isna(), "missing values", "every row needs its hold and profit")
            refuse(name, np.isinf(v), "infinite values", "labels must be finite numbers")
    refuse(HOLD_COLUMN, df[HOLD_COLUMN] <= 0, "values <= 0", "a hold is a positive number of hours")
    if "optimal_hold_hours" in df.columns:  # 0 is possible: the best exit is at entry
        refuse("optimal_hold_hours", df["optimal_hold_hours"] < 0, "negative values", "fix them")
    return problems


def identity_problems(df: pd.DataFrame, line_offset: int | None) -> list[str]:
    """Refusals among the identifiers: a row without a symbol or strategy."""
    problems = []
    for name in ("symbol", "strategy"):
        text = df[name].astype("string").str.strip()
        missing = (text.isna() | (text == "")).to_numpy()
        if missing.any():
            problems.append(
                f"column {name} is empty in {count_rows(int(missing.sum()))} "
                f"({_where(df, missing, line_offset)}); every row needs one"
            )
    return problems


def category_notes(df: pd.DataFrame, line_offset: int | None) -> list[str]:
    """Spellings kept but not known (after canonicalisation), one note per column: strategies
    and regimes become their own category, liquidity statuses score like ``Low``."""
    known = {
        "strategy": (STRATEGIES, "kept as their own category"),
        "market_regime": (MARKET_REGIMES, "kept as their own category"),
        "liquidity_status": (LIQUIDITY_STATUSES, "scored like Low"),
    }
    notes = []
    for name, (vocab, treatment) in known.items():
        values = df[name]
        unknown = values.notna() & ~values.isin(vocab) & (values.astype(str).str.strip() != "")
        if not unknown.any():
            continue
        counts = values[unknown].value_counts()
        listed = ", ".join(f"{v!r} ({count_rows(int(n))})" for v, n in counts.head(5).items())
        if len(counts) > 5:
            listed += f" and {len(counts) - 5} more spellings"
        notes.append(
            f"column {name}: {listed} not among {list(vocab)} "
            f"({_where(df, unknown, line_offset)}): {treatment}"
        )
    return notes


def resolve_duplicates(
    df: pd.DataFrame, keys: list[str], line_offset: int | None
) -> tuple[pd.DataFrame, str, str]:
    """(``df`` without rows repeating an earlier row in every column, a note on them, a problem
    naming rows of one opportunity and hold that differ elsewhere); '' where there are none.

    Exact repeats are kept once: the value is known. Rows that share (opportunity, hold) but
    differ say two things about one simulated trade; the loader cannot tell which is right.
    Only rows whose ``keys`` repeat are compared in full (every exact repeat is among them)."""
    same_key = df.duplicated(keys, keep=False).to_numpy()
    if not same_key.any():
        return df, "", ""
    candidates = df[same_key]
    try:
        repeated = candidates.duplicated(keep="first")
    except TypeError:  # a column of lists (Parquet): compare their text
        repeated = candidates.astype(str).duplicated(keep="first")
    note = ""
    if repeated.any():
        n = int(repeated.sum())
        drop = candidates.index[repeated.to_numpy()]
        note = (
            f"{count_rows(n)} repeat an earlier row exactly "
            f"({rows_text(drop.to_numpy(), line_offset)}): dropped, "
            f"{count_rows(len(df) - n)} kept"
        )
        df = df.drop(index=drop)
    clash = df.duplicated(keys, keep=False).to_numpy()
    if not clash.any():
        return df, note, ""
    by = "opportunity_id" if "opportunity_id" in keys else "timestamp, symbol, strategy, legs"
    problem = (
        f"{count_rows(int(clash.sum()))} share ({by}, {HOLD_COLUMN}) with another row but "
        f"differ in other columns ({_where(df, clash, line_offset)}); keep one row per "
        "opportunity and hold, or add opportunity_id (or long_exchange/short_exchange) to "
        "tell them apart"
    )
    return df, note, problem
