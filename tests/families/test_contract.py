"""One contract test over every registered model family (scikit-learn's parametrize_with_checks
habit): whatever the harness, exporter and CLI assume about a family is checked here, for all.

A new family registered in ``arbscore.registry`` is picked up automatically and run with its
default hyperparameters unless ``SMALL_CONFIGS`` names a faster config for it.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest

from arbscore.families import HeadOutputs, ModelFamily
from arbscore.gbdt.synthetic import make_synthetic_matrix
from arbscore.registry import family_names, get_family


def _small_config(name: str):
    """Fast but real settings per family; None means the family's defaults."""
    if name in ("xgboost", "lightgbm"):
        from arbscore.gbdt.config import GBDTConfig

        return GBDTConfig(n_estimators=150, early_stopping_rounds=20, min_samples_leaf=20, n_jobs=1)
    if name == "mlx":
        cfg_cls = importlib.import_module("arbscore.mlx_models").MLXConfig
        return cfg_cls(max_epochs=3, batch_size=512)
    return None


def _make(name: str):
    cls = get_family(name)
    cfg = _small_config(name)
    return cls() if cfg is None else cls(config=cfg)


NAMES = family_names()


@pytest.fixture(scope="module")
def data():
    """400 opportunities x 9 holds over 30 days, and 100 later opportunities to predict."""
    X, t, names = make_synthetic_matrix(400, seed=21, days=30)
    X_new, _, _ = make_synthetic_matrix(
        100, seed=22, days=5, start_ms=1_735_689_600_000 + 31 * 86_400_000
    )
    return X, t, names, X_new


@pytest.fixture(scope="module", params=NAMES)
def fitted(request, data):
    X, t, names, _ = data
    model = _make(request.param)
    returned = model.fit(X, t, names)
    assert returned is model, f"{request.param}.fit must return self"
    return request.param, model


def test_registered_class_follows_the_protocol(fitted):
    name, model = fitted
    assert isinstance(model, ModelFamily)
    assert model.name == name


@pytest.mark.parametrize("name", NAMES)
def test_init_only_stores_hyperparameters(name):
    model = _make(name)
    learned = [k for k in vars(model) if k.endswith("_") and not k.startswith("__")]
    assert learned == [], f"{name}.__init__ set learned state {learned}"


@pytest.mark.parametrize("name", NAMES)
def test_predict_before_fit_is_a_value_error(name, data):
    with pytest.raises(ValueError):
        _make(name).predict(data[3])


def test_predict_shapes_and_ranges(fitted, data):
    name, model = fitted
    X_new = data[3]
    pred = model.predict(X_new)
    assert isinstance(pred, HeadOutputs)
    for head, values in zip(("profit", "success", "duration"), pred, strict=True):
        values = np.asarray(values)
        assert values.shape == (len(X_new),), f"{name} {head}: shape {values.shape}"
        assert np.issubdtype(values.dtype, np.floating), f"{name} {head}: dtype {values.dtype}"
        assert np.isfinite(values).all(), f"{name} {head}: non-finite predictions"
    assert ((pred.success >= 0) & (pred.success <= 1)).all(), name
    assert (pred.duration > 0).all(), f"{name}: duration must be > 0 hours"


def test_predict_is_row_independent(fitted, data):
    name, model = fitted
    X_new = data[3]
    full = model.predict(X_new)
    part = model.predict(X_new[7:30])
    for a, b in zip(full, part, strict=True):
        np.testing.assert_allclose(np.asarray(a)[7:30], b, rtol=1e-5, atol=1e-6, err_msg=name)


def test_wrong_column_count_is_a_value_error(fitted, data):
    _, model = fitted
    with pytest.raises(ValueError):
        model.predict(data[3][:, :-1])


def test_save_load_reproduces_predictions_exactly(fitted, data, tmp_path: Path):
    name, model = fitted
    model.save(tmp_path / name)
    loaded = type(model).load(tmp_path / name)
    assert isinstance(loaded, type(model))
    for a, b in zip(model.predict(data[3]), loaded.predict(data[3]), strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_model(name, data):
    X, t, names, X_new = data
    first = _make(name).fit(X, t, names).predict(X_new)
    second = _make(name).fit(X, t, names).predict(X_new)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)


@pytest.mark.parametrize("name", NAMES)
def test_fits_small_data(name, data):
    X, t, names = make_synthetic_matrix(40, seed=3, days=10)
    pred = _make(name).fit(X, t, names).predict(data[3])
    assert np.isfinite(np.asarray(pred.profit)).all()
    assert (np.asarray(pred.duration) > 0).all()
