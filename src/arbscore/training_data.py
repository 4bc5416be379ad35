"""Read a training set from disk: our ``simulate`` output or the guide's ``training_data.csv``.

Both become the same frame (docs/architecture.md, "Training set"): one row per (opportunity,
hold), tz-aware UTC ``timestamp``, ``hold_hours``, the labels, an int64 ``opportunity_id``.
The guide's layout is accepted as it is: ``hold_hours := actual_hold_hours``, per-opportunity
labels derived from the hold rows, identifiers made up, strategy spellings canonicalised.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from arbscore.cli.errors import UserInputError
from arbscore.data_tools.features import (
    CATEGORICAL,
    KNOWN_EXTRA_NUMERIC,
    RAW_NUMERIC,
    canonical_strategy,
)
from arbscore.data_tools.market import to_epoch_ms
from arbscore.families import Targets
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


def read_table(path: Path) -> pd.DataFrame:
    """A CSV (optionally compressed) or Parquet file as a DataFrame; the suffix decides."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"--data: no such file {path}")
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return pd.read_parquet(path)
    if name.endswith((".csv", ".csv.gz", ".csv.bz2", ".csv.zst", ".txt")):
        return pd.read_csv(path, low_memory=False)
    raise UserInputError(f"--data: {path.name} is neither .csv nor .parquet")


def load_training_data(path: Path) -> pd.DataFrame:
    """Our simulate output or a guide-layout ``training_data.csv`` as the canonical frame.

    Raises ``UserInputError`` (exit 2 in the CLI) naming missing columns or bad values.
    """
    return normalise_training_frame(read_table(path), source=str(path))


def _parse_bool(series: pd.Series, name: str) -> pd.Series:
    if series.dtype == bool:
        return series
    if pd.api.types.is_numeric_dtype(series):
        if series.isna().any():
            raise UserInputError(f"column {name} has missing values")
        return series != 0
    text = series.astype(str).str.strip().str.lower()
    bad = sorted(set(text[~text.isin(_TRUE | _FALSE)].unique()))
    if bad:
        raise UserInputError(f"column {name} has values {bad[:5]}; expected True/False or 1/0")
    return text.isin(_TRUE)


def _parse_time(series: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(series):  # epoch milliseconds
        out = pd.to_datetime(series, unit="ms", utc=True, errors="coerce")
    else:
        out = pd.to_datetime(series, utc=True, errors="coerce", format="mixed")
    bad = series[out.isna()]
    if len(bad):
        raise UserInputError(
            f"column timestamp has {len(bad)} unparseable values, e.g. {bad.iloc[0]!r}"
        )
    return out


def _map_unique(series: pd.Series, canon) -> pd.Series:
    """``canon`` applied once per distinct value (fast on 500k-row frames)."""
    text = series.astype(str)
    return text.map({u: canon(u) for u in text.unique()})


def _canonical_case(series: pd.Series, vocab: tuple[str, ...]) -> pd.Series:
    lookup = {v.lower(): v for v in vocab}
    return _map_unique(series, lambda s: lookup.get(s.strip().lower(), s.strip()))


def normalise_training_frame(frame: pd.DataFrame, source: str = "frame") -> pd.DataFrame:
    """Validate and complete a training frame (ours or the guide's layout); returns a copy
    sorted by (timestamp, opportunity_id, hold_hours)."""
    df = frame.copy()
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
        raise UserInputError(f"training data {source} has no rows")
    df["timestamp"] = _parse_time(df["timestamp"])
    if HOLD_COLUMN not in df.columns:
        df[HOLD_COLUMN] = df["actual_hold_hours"]
    numeric = [*RAW_NUMERIC, HOLD_COLUMN, PROFIT_TARGET]
    numeric += [c for c in ("optimal_hold_hours", "best_profit_pct") if c in df.columns]
    for name in numeric:
        values = pd.to_numeric(df[name], errors="coerce")
        bad = df[name][values.isna() & df[name].notna()]
        if len(bad):
            raise UserInputError(f"column {name} has non-numeric values, e.g. {bad.iloc[0]!r}")
        df[name] = values.astype("float64")
    for name in (HOLD_COLUMN, PROFIT_TARGET):
        if df[name].isna().any():
            raise UserInputError(f"column {name} has {int(df[name].isna().sum())} missing values")
    if (df[HOLD_COLUMN] <= 0).any():
        raise UserInputError(f"column {HOLD_COLUMN} must be > 0 hours")
    df["was_profitable"] = _parse_bool(df["was_profitable"], "was_profitable")
    df["strategy"] = _map_unique(df["strategy"], canonical_strategy)
    df["symbol"] = _map_unique(df["symbol"], str.strip)
    df["market_regime"] = _canonical_case(df["market_regime"], MARKET_REGIMES)
    df["liquidity_status"] = _canonical_case(df["liquidity_status"], LIQUIDITY_STATUSES)
    for key in ("long_exchange", "long_market", "short_exchange", "short_market"):
        if key not in df.columns:
            df[key] = "unknown"
    if "opportunity_id" not in df.columns:
        groups = df.groupby(list(_GROUP_KEYS), sort=True, dropna=False).ngroup()
        df["opportunity_id"] = groups.astype("int64")
    else:
        ids = df["opportunity_id"]
        if not pd.api.types.is_integer_dtype(ids):
            df["opportunity_key"] = ids.astype(str)  # our simulate output names opportunities
        df["opportunity_id"] = pd.factorize(ids, sort=True)[0].astype("int64")
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
