"""Training data in: the guide's CSV as it is, our own parquet, and clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from arbscore.cli.errors import UserInputError
from arbscore.data_tools.features import build_matrix, fit_feature_spec
from arbscore.registry import DEFAULT_FAMILIES, get_family, parse_family_list
from arbscore.schema import HOLD_COLUMN, LABEL_COLUMNS, OPPORTUNITY_KEY_COLUMNS
from arbscore.training_data import (
    feature_columns,
    load_training_data,
    normalise_training_frame,
    targets_from_frame,
)

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
    assert again["opportunity_id"].min() == 0  # re-coded densely, grouping kept
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
