"""ONNX graphs of plain XGBoost / LightGBM boosters vs the native libraries (within 1e-4)."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import onnxruntime as ort
import pytest
import xgboost as xgb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from arbscore.export.onnx_gbdt import IR_VERSION, Link, booster_to_onnx, native_margin

N_FEATURES = 6
TOL = 1e-4


def _data(seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(600, N_FEATURES)).astype(np.float32)
    X[::9, 2] = np.nan  # trees learn a default direction for missing values
    y = 2 * X[:, 0] + X[:, 1] ** 2 + rng.normal(0, 0.1, 600)
    return X, y


def _train(lib: str, objective: str, n_cols: int = N_FEATURES):
    X, y = _data()
    X = X[:, :n_cols]
    label = {"binary": (y > 1).astype(float), "positive": np.abs(y) + 0.5}.get(objective, y)
    if lib == "xgboost":
        obj = {"binary": "binary:logistic", "positive": "reg:gamma"}.get(
            objective, "reg:squarederror"
        )
        return xgb.train(
            {"objective": obj, "max_depth": 4, "nthread": 1, "eta": 0.3},
            xgb.DMatrix(X, label=label, missing=np.nan),
            25,
        )
    obj = {"binary": "binary", "positive": "gamma"}.get(objective, "regression")
    return lgb.train(
        {
            "objective": obj,
            "num_leaves": 15,
            "verbose": -1,
            "num_threads": 1,
            "min_data_in_leaf": 5,
        },
        lgb.Dataset(X, label),
        25,
    )


def _native(booster, X: np.ndarray, link: Link, n_cols: int) -> np.ndarray:
    return link.apply(native_margin(booster, X[:, :n_cols]))


def _session(model) -> ort.InferenceSession:
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


CASES = [
    ("xgboost", "regression", Link("identity"), N_FEATURES),
    ("xgboost", "binary", Link("platt", 0.7, -0.2), N_FEATURES),
    ("xgboost", "positive", Link("exp"), N_FEATURES - 1),  # duration-like: ignores the last column
    ("lightgbm", "regression", Link("identity"), N_FEATURES),
    ("lightgbm", "binary", Link("platt", 1.3, 0.4), N_FEATURES),
    ("lightgbm", "positive", Link("exp"), N_FEATURES - 1),
]


@pytest.fixture(scope="module", params=CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def converted(request):
    lib, objective, link, n_cols = request.param
    booster = _train(lib, objective, n_cols)
    model = booster_to_onnx(booster, "head", N_FEATURES, link)
    return lib, booster, link, n_cols, model, _session(model)


def test_fixed_rows_match_native(converted):
    lib, booster, link, n_cols, model, sess = converted
    X, _ = _data(seed=1)
    got = sess.run(["head"], {"features": X})[0]
    assert got.shape == (len(X), 1)
    np.testing.assert_allclose(got[:, 0], _native(booster, X, link, n_cols), rtol=TOL, atol=TOL)
    assert model.ir_version == IR_VERSION <= 9


@pytest.mark.parametrize("lib", ["xgboost", "lightgbm"])
def test_last_column_is_ignored_when_the_booster_does_not_use_it(lib):
    booster = _train(lib, "positive", N_FEATURES - 1)
    sess = _session(booster_to_onnx(booster, "duration", N_FEATURES, Link("exp")))
    X, _ = _data(seed=2)
    X2 = X.copy()
    X2[:, -1] = 1e6
    np.testing.assert_array_equal(
        sess.run(None, {"features": X})[0], sess.run(None, {"features": X2})[0]
    )


def _finite_or_missing(lib: str):
    # XGBoost refuses inf in a DMatrix, so its rows use +-3e38 for "huge"; LightGBM takes inf.
    huge = [np.inf, -np.inf] if lib == "lightgbm" else [3e38, -3e38]
    return st.one_of(st.floats(-1e6, 1e6, width=32), st.sampled_from([np.nan, 0.0, *huge]))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_hypothesis_rows_match_native(converted, data):
    lib, booster, link, n_cols, _, sess = converted
    X = data.draw(
        arrays(
            np.float32, (data.draw(st.integers(1, 8)), N_FEATURES), elements=_finite_or_missing(lib)
        )
    )
    got = sess.run(["head"], {"features": X})[0][:, 0]
    want = _native(booster, X, link, n_cols)
    np.testing.assert_allclose(got, want, rtol=TOL, atol=TOL)


def test_too_narrow_feature_list_is_refused():
    booster = _train("xgboost", "regression")
    with pytest.raises(ValueError, match="uses 6 features"):
        booster_to_onnx(booster, "profit", 4, Link("identity"))


def test_bad_link_is_refused():
    with pytest.raises(ValueError, match="Link.kind"):
        Link("softmax")
