"""Training data in: the guide's CSV as it is, our own parquet, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from arbscore.cli import app
from arbscore.data_tools.dataset_files import (
    feature_columns,
    load_training_data,
    normalise_training_frame,
    targets_from_frame,
)
from arbscore.data_tools.features import build_matrix, fit_feature_spec
from arbscore.errors import UserInputError
from arbscore.registry import DEFAULT_FAMILIES, get_family, parse_family_list
from arbscore.schema import HOLD_COLUMN, LABEL_COLUMNS, OPPORTUNITY_KEY_COLUMNS

GUIDE_CSV = Path(__file__).parent / "data" / "guide_training_data.csv"


def test_guide_csv_loads_as_it_is():
    df = load_training_data(GUIDE_CSV)
    raw = pd.read_csv(GUIDE_CSV)
    assert len(df) == len(raw)
    assert str(df["timestamp"].dt.tz) == "UTC"
    for col in (*OPPORTUNITY_KEY_COLUMNS, *LABEL_COLUMNS, HOLD_COLUMN, "data_source"):
        assert col in df.columns, col
    assert (df[HOLD_COLUMN] == df["actual_hold_hours"]).all()
    assert df["was_profitable"].dtype == bool
    assert set(df["strategy"]) == {"CFFF", "spot_perp", "perp_perp"}  # PerpPerp mapped
    assert df["timestamp"].is_monotonic_increasing
    # the first opportunity of the guide's example: holds 48.2 h (+2.35 %) and 8 h (-0.12 %)
    first = df[(df["symbol"] == "BTCUSDT") & (df["timestamp"] == df["timestamp"].min())]
    assert first["opportunity_id"].nunique() == 1 and len(first) == 2
    assert (first["optimal_hold_hours"] == 48.2).all()
    assert (first["best_profit_pct"] == 2.35).all()
    t = targets_from_frame(df)
    assert t.profit.shape == (len(df),) and set(np.unique(t.success)) == {0.0, 1.0}
    spec = fit_feature_spec(feature_columns(df))
    X = build_matrix(feature_columns(df), spec, strict=True)
    assert X.shape == (len(df), spec.n_features) and np.isfinite(X).all()


def test_own_parquet_keeps_given_labels_and_ids(tmp_path):
    df = load_training_data(GUIDE_CSV)
    df["optimal_hold_hours"] = 99.0
    df["opportunity_id"] = df["opportunity_id"] * 10 + 5
    df["data_source"] = "synthetic"
    path = tmp_path / "training_data.parquet"
    df.to_parquet(path)
    again = load_training_data(path)
    assert (again["optimal_hold_hours"] == 99.0).all()
    # integer ids kept as given (the daily marks beside a set key by them), grouping kept
    assert set(again["opportunity_id"]) == set(df["opportunity_id"])
    assert again["opportunity_id"].nunique() == df["opportunity_id"].nunique()
    assert set(again["data_source"]) == {"synthetic"}


def test_missing_columns_are_named(tmp_path):
    raw = pd.read_csv(GUIDE_CSV).drop(columns=["fund_apr", "was_profitable"])
    path = tmp_path / "bad.csv"
    raw.to_csv(path, index=False)
    with pytest.raises(UserInputError, match=r"missing required columns \['fund_apr', 'was_prof"):
        load_training_data(path)


def test_bad_values_are_named():
    raw = pd.read_csv(GUIDE_CSV)
    bad = raw.copy()
    bad["fund_profit_8h"] = bad["fund_profit_8h"].astype(object)
    bad.loc[3, "fund_profit_8h"] = "abc"
    with pytest.raises(UserInputError, match="fund_profit_8h has non-numeric values"):
        normalise_training_frame(bad)
    bad = raw.copy()
    bad["was_profitable"] = bad["was_profitable"].astype(str)
    bad.loc[0, "was_profitable"] = "maybe"
    with pytest.raises(UserInputError, match="was_profitable"):
        normalise_training_frame(bad)
    with pytest.raises(FileNotFoundError):
        load_training_data(Path("/nonexistent/data.csv"))


def test_registry_names_and_errors():
    assert DEFAULT_FAMILIES == ("xgboost", "lightgbm", "mlx")
    with pytest.raises(ValueError, match="unknown model family 'catboost'"):
        get_family("catboost")
    assert parse_family_list(["xgboost,lightgbm", "xgboost"]) == ("xgboost", "lightgbm")
    assert parse_family_list(None) == DEFAULT_FAMILIES
    with pytest.raises(ValueError, match="unknown family 'forest'"):
        parse_family_list(["forest"])


def test_registry_loads_module_class_names():
    cls = get_family("arbscore.families:ModelFamily")  # any class with fit/predict/save/load
    assert cls.__name__ == "ModelFamily"
    with pytest.raises(ImportError, match="no_such_module"):
        get_family("no_such_module:Fam")


# --- bad values through the real CLI: exit 2 naming the file, column and rows -----------------

runner = CliRunner()


def _flat(text: str) -> str:
    return " ".join(text.split())  # rich wraps lines at the terminal width


def _guide_variant(tmp_path: Path, name: str, change) -> Path:
    frame = pd.read_csv(GUIDE_CSV)
    frame = change(frame)
    path = tmp_path / name
    if name.endswith(".parquet"):
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path


def _set(column: str, rows: list[int], value):
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame[column] = frame[column].astype(object) if isinstance(value, str) else frame[column]
        frame.loc[rows, column] = value
        return frame

    return change


# data rows 3 and 10 (0-based) are lines 5 and 12 of the CSV (header = line 1)
REFUSED = [
    (
        "inf.csv",
        _set("fund_apr", [3, 10], np.inf),
        "column fund_apr has infinite values in 2 rows (lines 5, 12)",
    ),
    (
        "neginf.parquet",
        _set("fund_profit_8h", [7], -np.inf),
        "column fund_profit_8h has infinite values in 1 row (row 8)",
    ),
    (
        "negvol.csv",
        _set("volume_24h", [5], -1.0),
        "column volume_24h has negative values in 1 row (line 7)",
    ),
    (
        "hour.csv",
        _set("hour_of_day", [0, 1, 2, 3, 4, 5, 6], 24),
        "column hour_of_day has values outside 0..23 in 7 rows (lines 2, 3, 4, 5, 6 and 2 more)",
    ),
    ("nostrategy.csv", _set("strategy", [9], ""), "column strategy is empty in 1 row (line 11)"),
    (
        "profit.csv",
        _set("actual_profit_pct", [4], np.inf),
        "column actual_profit_pct has infinite values in 1 row (line 6)",
    ),
    # rows 0 and 1 are one opportunity's 48.2 h and 8 h holds: make both 48.2 h
    (
        "conflict.csv",
        _set("actual_hold_hours", [1], 48.2),
        "2 rows share (timestamp, symbol, strategy, legs, hold_hours) with another row but "
        "differ in other columns (lines 2, 3)",
    ),
]


@pytest.mark.parametrize(("name", "change", "message"), REFUSED, ids=[r[0] for r in REFUSED])
@pytest.mark.parametrize("verb", ["train", "evaluate"])
def test_cli_refuses_bad_values_naming_the_rows(tmp_path, verb, name, change, message):
    path = _guide_variant(tmp_path, name, change)
    res = runner.invoke(app, [verb, "--data", str(path), "--out", str(tmp_path / "run")])
    assert res.exit_code == 2, res.output
    text = _flat(res.output)
    assert f"training data {path}" in text and message in text, text
    assert not (tmp_path / "run").exists()  # refused before any work


def test_cli_lists_every_refused_value_at_once(tmp_path):
    def change(frame):
        frame.loc[2, "fund_apr"] = np.inf
        frame.loc[3, "orderbook_depth"] = -5.0
        return frame

    path = _guide_variant(tmp_path, "two.csv", change)
    res = runner.invoke(app, ["evaluate", "--data", str(path), "--out", str(tmp_path / "run")])
    text = _flat(res.output)
    assert res.exit_code == 2 and "fund_apr has infinite values in 1 row (line 4)" in text
    assert "orderbook_depth has negative values in 1 row (line 5)" in text


def test_cli_names_an_empty_binary_or_header_only_file(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(128, 256)) * 8)
    header = tmp_path / "header.csv"
    pd.read_csv(GUIDE_CSV).head(0).to_csv(header, index=False)
    parquet = tmp_path / "not.parquet"
    parquet.write_bytes(b"PAR2 not really" * 10)
    cases = [
        (empty, f"--data: {empty} is empty (0 bytes)"),
        (binary, f"--data: {binary} is not UTF-8 text"),
        (header, f"training data {header} has a header but no rows"),
        (parquet, f"--data: {parquet} is not a readable Parquet file"),
        (tmp_path, f"--data: {tmp_path} is neither .csv nor .parquet"),
    ]
    for path, message in cases:
        for verb in ("train", "evaluate"):
            res = runner.invoke(app, [verb, "--data", str(path), "--out", str(tmp_path / "r")])
            assert res.exit_code == 2, (path, res.output)
            assert message in _flat(res.output), (path, res.output)
            assert "No columns to parse" not in res.output and "codec" not in res.output


def test_cli_keeps_what_it_can_and_warns_with_counts(tmp_path):
    def change(frame):
        frame.loc[[0, 1, 2], "strategy"] = "banana"  # an unknown spelling: its own category
        frame.loc[5, "break_even_hours"] = np.inf  # "never breaks even": kept, no warning
        return pd.concat([frame, frame.iloc[20:27]])  # 7 exact repeats: dropped

    path = _guide_variant(tmp_path, "keep.csv", change)
    out = tmp_path / "run"
    res = runner.invoke(
        app, ["train", "--data", str(path), "--out", str(out), "--family", "xgboost"]
    )
    assert res.exit_code == 0, res.output
    text = _flat(res.output)
    assert "'banana' (3 rows) not among ['spot_perp', 'perp_perp'] (lines 2, 3, 4" in text
    assert "kept as their own category" in text
    assert "7 rows repeat an earlier row exactly (lines 816, 817, 818, 819, 820 and 2 more)" in text
    assert "dropped, 814 rows kept" in text and "Final models (814 rows)" in text
    assert "break_even_hours" not in text
    spec = json.loads((out / "models" / "feature_spec.json").read_text())
    assert "banana" in json.dumps(spec)


def test_guide_csv_notes_name_only_its_own_strategy_spelling():
    notes: list[str] = []
    df = load_training_data(GUIDE_CSV, notes=notes)
    assert len(df) == 814
    assert len(notes) == 1 and "'CFFF' (274 rows)" in notes[0]


def test_missing_regime_is_no_category():
    raw = pd.read_csv(GUIDE_CSV)
    raw.loc[:9, "market_regime"] = np.nan
    df = normalise_training_frame(raw)
    assert df["market_regime"].isna().sum() == 10
    spec = fit_feature_spec(feature_columns(df))
    assert "nan" not in spec.market_regimes
