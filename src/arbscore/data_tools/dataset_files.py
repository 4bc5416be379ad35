"""Read a training set from disk: our ``simulate`` output or the guide's ``training_data.csv``.

Both become the same frame (docs/architecture.md, "Training set"): one row per (opportunity,
hold), tz-aware UTC ``timestamp``, ``hold_hours``, the labels, an int64 ``opportunity_id`` (the
file's integer ids as they are, names hashed as the simulator hashes them, so the daily marks
beside the set match).
The guide's layout is accepted as it is: ``hold_hours := actual_hold_hours``, per-opportunity
labels derived from the hold rows, identifiers made up, strategy spellings canonicalised.
The value rules (what is refused, what is kept with a note) are in
:func:`normalise_training_frame` and :mod:`arbscore.data_tools.dataset_checks`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from arbscore.data_tools.dataset_checks import (
    category_notes,
    count_rows,
    identity_problems,
    resolve_duplicates,
    rows_text,
    value_problems,
)
from arbscore.data_tools.features import (
    CATEGORICAL,
    KNOWN_EXTRA_NUMERIC,
    RAW_NUMERIC,
    canonical_strategy,
)
from arbscore.data_tools.file_errors import READ_ERRORS, read_error
from arbscore.data_tools.market import to_epoch_ms
from arbscore.data_tools.simulate_output import opportunity_ids
from arbscore.data_tools.targets import Targets
from arbscore.errors import UserInputError
from arbscore.schema import (
    GUIDE_CSV_REQUIRED_COLUMNS,
    HOLD_COLUMN,
    LABEL_COLUMNS,
    LIQUIDITY_STATUSES,
    MARKET_REGIMES,
    OPPORTUNITY_KEY_COLUMNS,
    PROFIT_TARGET,
)

#: columns that identify an opportunity when the file has no opportunity_id
_GROUP_KEYS = ("timestamp", "symbol", "strategy", "long_exchange", "long_market")
_GROUP_KEYS += ("short_exchange", "short_market")
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}
_CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.zst", ".txt")
#: line of a CSV's first data row (the header is line 1)
CSV_FIRST_LINE = 2


def read_table(path: Path) -> pd.DataFrame:
    """A CSV (optionally compressed) or Parquet file as a DataFrame; the suffix decides.

    An empty, binary or malformed file raises ``UserInputError`` naming the file."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"--data: no such file {path}")
    name = path.name.lower()
    if not name.endswith((".parquet", ".pq", *_CSV_SUFFIXES)):
        raise UserInputError(f"--data: {path} is neither .csv nor .parquet")
    try:
        if name.endswith((".parquet", ".pq")):
            return pd.read_parquet(path)
        return pd.read_csv(path, low_memory=False)
    except UserInputError:
        raise
    except READ_ERRORS as exc:
        raise read_error("--data", path, exc) from exc


def load_training_data(path: Path, notes: list[str] | None = None) -> pd.DataFrame:
    """Our simulate output or a guide-layout ``training_data.csv`` as the canonical frame.

    Raises ``UserInputError`` (exit 2 in the CLI) naming the file, the column and the rows of
    refused values; values kept but worth knowing about are appended to ``notes`` (the CLI
    prints them as warnings). Rows are named ``line N`` in a CSV (header = line 1) and
    ``row N`` (from 1) in a Parquet file. See :func:`normalise_training_frame` for the rules.
    """
    path = Path(path)
    is_csv = not path.name.lower().endswith((".parquet", ".pq"))
    return normalise_training_frame(
        read_table(path),
        source=str(path),
        line_offset=CSV_FIRST_LINE if is_csv else None,
        notes=notes,
    )


def _parse_bool(series: pd.Series, name: str, line_offset: int | None) -> pd.Series:
    if series.dtype == bool:
        return series
    if pd.api.types.is_numeric_dtype(series):
        missing = series.isna().to_numpy()
        if missing.any():
            where = rows_text(series.index.to_numpy()[missing], line_offset)
            raise UserInputError(f"column {name} has {int(missing.sum())} missing values ({where})")
        return series != 0
    text = series.astype(str).str.strip().str.lower()
    wrong = ~text.isin(_TRUE | _FALSE)
    if wrong.any():
        bad = sorted(set(text[wrong].unique()))
        where = rows_text(series.index.to_numpy()[wrong.to_numpy()], line_offset)
        raise UserInputError(
            f"column {name} has values {bad[:5]} ({where}); expected True/False or 1/0"
        )
    return text.isin(_TRUE)


def _parse_time(series: pd.Series, line_offset: int | None) -> pd.Series:
    if pd.api.types.is_numeric_dtype(series):  # epoch milliseconds
        out = pd.to_datetime(series, unit="ms", utc=True, errors="coerce")
    else:
        out = pd.to_datetime(series, utc=True, errors="coerce", format="mixed")
    bad = out.isna().to_numpy()
    if bad.any():
        raise UserInputError(
            f"column timestamp has {int(bad.sum())} unparseable values "
            f"({rows_text(series.index.to_numpy()[bad], line_offset)}), "
            f"e.g. {series[bad].iloc[0]!r}"
        )
    return out


def _map_unique(series: pd.Series, canon) -> pd.Series:
    """``canon`` applied once per distinct value (fast on 500k-row frames); missing stays
    missing (None)."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)  # missing -> code -1
    mapped = np.array([canon(str(u)) for u in uniques] + [None], dtype=object)
    return pd.Series(mapped[codes], index=series.index, dtype=object)


def _canonical_case(series: pd.Series, vocab: tuple[str, ...]) -> pd.Series:
    """The vocabulary's spelling of each value; missing stays missing (no category), as in a
    request without the field, rather than becoming a category named 'nan'."""
    lookup = {v.lower(): v for v in vocab}
    return _map_unique(series, lambda s: lookup.get(s.strip().lower(), s.strip()))


def _numeric(df: pd.DataFrame, names: list[str], line_offset: int | None) -> list[str]:
    """Columns ``names`` parsed to float64 in place; text that is not a number is refused."""
    problems = []
    for name in names:
        values = pd.to_numeric(df[name], errors="coerce")
        bad = (values.isna() & df[name].notna()).to_numpy()
        if bad.any():
            problems.append(
                f"column {name} has non-numeric values in {count_rows(int(bad.sum()))} "
                f"({rows_text(df.index.to_numpy()[bad], line_offset)}), "
                f"e.g. {df[name][bad].iloc[0]!r}"
            )
        df[name] = values.astype("float64")
    return problems


def normalise_training_frame(
    frame: pd.DataFrame,
    source: str = "frame",
    *,
    line_offset: int | None = None,
    notes: list[str] | None = None,
) -> pd.DataFrame:
    """Validate and complete a training frame (ours or the guide's layout); returns a copy
    sorted by (timestamp, opportunity_id, hold_hours).

    Refused (``UserInputError``, exit 2; every problem at once, each naming the column, the
    number of rows and the first five of them):

    - missing required columns, no rows, an unparseable ``timestamp``, text in a numeric column;
    - ``inf``/``-inf`` in a numeric feature (leave the cell empty for "unknown": empty feature
      cells are filled with the training median), except ``break_even_hours``, where inf and
      negative values mean "never breaks even" and are kept (encoded as the cap);
    - a negative ``volume_24h``, ``orderbook_depth``, ``bid_ask_spread``,
      ``spread_volatility_cv`` or ``btc_price``; ``hour_of_day`` outside 0..23,
      ``day_of_week`` outside 0..6;
    - a missing or infinite hold or ``actual_profit_pct``, infinite
      ``optimal_hold_hours``/``best_profit_pct``, a hold <= 0 hours, a negative
      ``optimal_hold_hours``, ``was_profitable`` that is not a boolean;
    - an empty ``symbol`` or ``strategy``;
    - two rows of the same opportunity (``opportunity_id``, else timestamp, symbol, strategy
      and legs) and the same hold that differ in any other column.

    Kept, with a note appended to ``notes``:

    - rows that repeat an earlier row in every column: dropped (one copy kept);
    - strategy or market-regime spellings arbscore does not know (e.g. the guide's "CFFF"):
      kept as their own category; unknown liquidity statuses: scored like "Low".

    ``line_offset``: the file line of the first data row (CSV: 2), so rows are named
    ``line N``; None names them ``row N`` counted from 1.
    """
    df = frame.copy().reset_index(drop=True)  # the index is the row's position in the file
    df.columns = [str(c).strip() for c in df.columns]
    required = [c for c in GUIDE_CSV_REQUIRED_COLUMNS if c != "actual_hold_hours"]
    if HOLD_COLUMN not in df.columns:
        required.append("actual_hold_hours")
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise UserInputError(
            f"training data {source} is missing required columns {missing} "
            "(see schema.GUIDE_CSV_REQUIRED_COLUMNS)"
        )
    if df.empty:
        raise UserInputError(f"training data {source} has a header but no rows")

    def refuse(problems: list[str]) -> None:
        if problems:
            listed = problems[0] if len(problems) == 1 else "\n  " + "\n  ".join(problems)
            raise UserInputError(f"training data {source}: {listed}")

    df["timestamp"] = _parse_time(df["timestamp"], line_offset)
    if HOLD_COLUMN not in df.columns:
        df[HOLD_COLUMN] = df["actual_hold_hours"]
    numeric = [*RAW_NUMERIC, HOLD_COLUMN, PROFIT_TARGET]
    numeric += [c for c in ("optimal_hold_hours", "best_profit_pct") if c in df.columns]
    refuse(_numeric(df, numeric, line_offset))
    refuse(value_problems(df, line_offset) + identity_problems(df, line_offset))
    df["was_profitable"] = _parse_bool(df["was_profitable"], "was_profitable", line_offset)
    df["strategy"] = _map_unique(df["strategy"], canonical_strategy)
    df["symbol"] = _map_unique(df["symbol"], str.strip)
    df["market_regime"] = _canonical_case(df["market_regime"], MARKET_REGIMES)
    df["liquidity_status"] = _canonical_case(df["liquidity_status"], LIQUIDITY_STATUSES)
    found = category_notes(df, line_offset)
    for key in ("long_exchange", "long_market", "short_exchange", "short_market"):
        if key not in df.columns:
            df[key] = "unknown"
    keys = ["opportunity_id"] if "opportunity_id" in df.columns else list(_GROUP_KEYS)
    df, repeated, clash = resolve_duplicates(df, [*keys, HOLD_COLUMN], line_offset)
    refuse([clash] if clash else [])
    found += [repeated] if repeated else []
    if notes is not None:
        notes.extend(found)
    if "opportunity_id" not in df.columns:
        groups = df.groupby(list(_GROUP_KEYS), sort=True, dropna=False).ngroup()
        df["opportunity_id"] = groups.astype("int64")
    else:
        ids = df["opportunity_id"]
        if not pd.api.types.is_integer_dtype(ids):  # names (older sets): the simulator's hash
            df["opportunity_key"] = ids.astype(str)
        # integer ids as they are: the daily marks beside the set key by the same ids
        df["opportunity_id"] = opportunity_ids(df)
    _derive_opportunity_labels(df)
    for label in LABEL_COLUMNS:
        if label not in df.columns:
            df[label] = np.nan  # the guide's file lacks some labels no head learns
    if "data_source" not in df.columns:
        df["data_source"] = "real"  # a user's own collected history
    ordered = [*OPPORTUNITY_KEY_COLUMNS]
    rest = [c for c in df.columns if c not in ordered]
    df = df[ordered + rest].sort_values(["timestamp", "opportunity_id", HOLD_COLUMN])
    return df.reset_index(drop=True)


def _derive_opportunity_labels(df: pd.DataFrame) -> None:
    """optimal_hold_hours / best_profit_pct from the opportunity's best hold row when absent.

    With only the simulated holds available this is the best hold on that grid, a coarser
    answer than the simulator's 5-minute path; the loader says so by deriving it only when the
    file does not carry the column.
    """
    need_hold = "optimal_hold_hours" not in df.columns or df["optimal_hold_hours"].isna().all()
    need_best = "best_profit_pct" not in df.columns or df["best_profit_pct"].isna().all()
    if not (need_hold or need_best):
        if df["optimal_hold_hours"].isna().any():
            raise UserInputError("column optimal_hold_hours has missing values")
        return
    best_idx = df.groupby("opportunity_id")[PROFIT_TARGET].idxmax()
    best = df.loc[best_idx.values, ["opportunity_id", HOLD_COLUMN, PROFIT_TARGET]]
    best = best.set_index("opportunity_id")
    if need_hold:
        df["optimal_hold_hours"] = df["opportunity_id"].map(best[HOLD_COLUMN]).astype("float64")
    if need_best:
        df["best_profit_pct"] = df["opportunity_id"].map(best[PROFIT_TARGET]).astype("float64")


def feature_columns(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """The frame's model-input columns as the name -> array mapping ``build_matrix`` takes."""
    names = (*RAW_NUMERIC, *KNOWN_EXTRA_NUMERIC, *CATEGORICAL, HOLD_COLUMN)
    return {name: frame[name].to_numpy() for name in names if name in frame.columns}


def targets_from_frame(frame: pd.DataFrame) -> Targets:
    """The three heads' targets aligned with the frame's rows."""
    return Targets(
        profit=frame[PROFIT_TARGET].to_numpy(dtype=np.float64),
        success=frame["was_profitable"].to_numpy(dtype=np.float64),
        duration=frame["optimal_hold_hours"].to_numpy(dtype=np.float64),
        opportunity_id=frame["opportunity_id"].to_numpy(dtype=np.int64),
        timestamp_ms=to_epoch_ms(frame["timestamp"]).to_numpy(dtype=np.int64),
    )
