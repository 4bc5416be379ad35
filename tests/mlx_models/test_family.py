"""MLXFamily as a ModelFamily: predictions, input checks, save/load round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from arbscore.families import HeadOutputs, ModelFamily
from arbscore.mlx_models import MLXFamily
from arbscore.mlx_models.io import CONFIG_FILE, WEIGHTS_FILE
from arbscore.schema import MAX_HOLD_HOURS


def test_is_a_model_family_and_predicts_sensible_heads(fitted, dataset) -> None:
    x, targets, _ = dataset
    assert isinstance(fitted, ModelFamily)
    out = fitted.predict(x)
    assert isinstance(out, HeadOutputs)
    for arr in out:
        assert arr.shape == (len(x),) and np.all(np.isfinite(arr))
    assert np.all((out.success > 0) & (out.success < 1))
    assert np.all((out.duration >= 0) & (out.duration <= MAX_HOLD_HOURS))
    # learned something: beats predicting the mean profit, ranks success well
    assert np.mean((out.profit - targets.profit) ** 2) < 0.5 * np.var(targets.profit)
    pos, neg = out.success[targets.success == 1], out.success[targets.success == 0]
    assert pos.mean() > neg.mean() + 0.3
    assert fitted.device_["device"] in ("cpu", "gpu") and "blas" in fitted.device_


def test_save_load_reproduces_predictions_exactly(fitted, dataset, tmp_path) -> None:
    x, _, _ = dataset
    fitted.save(tmp_path / "m")
    assert (tmp_path / "m" / WEIGHTS_FILE).is_file()
    meta = json.loads((tmp_path / "m" / CONFIG_FILE).read_text())
    assert meta["config"]["trunk_sizes"] == [32, 16]
    assert meta["device"]["device"] in ("cpu", "gpu")
    loaded = MLXFamily.load(tmp_path / "m")
    a, b = fitted.predict(x), loaded.predict(x)
    for u, v in zip(a, b, strict=True):
        assert np.array_equal(u, v)
    assert np.array_equal(loaded.mean_, fitted.mean_)
    assert loaded.calibration_ == fitted.calibration_
    for p, q in zip(loaded.layer_params(), fitted.layer_params(), strict=True):
        assert np.array_equal(p.weight, q.weight) and np.array_equal(p.bias, q.bias)


def test_load_rejects_foreign_or_missing_files(fitted, tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        MLXFamily.load(tmp_path / "nothing")
    fitted.save(tmp_path / "m")
    meta_path = tmp_path / "m" / CONFIG_FILE
    meta = json.loads(meta_path.read_text())
    meta["config"]["trunk_size"] = [3]  # misspelt key
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="unknown MLXConfig keys"):
        MLXFamily.load(tmp_path / "m")
    meta["format"] = "other/9"
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="format"):
        MLXFamily.load(tmp_path / "m")


def test_bad_inputs_raise_value_error(fitted, dataset) -> None:
    x, targets, names = dataset
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="f1"):
        fitted.predict(bad)
    with pytest.raises(ValueError, match="columns"):
        fitted.predict(x[:, :-1])
    with pytest.raises(ValueError, match="hold_hours"):
        MLXFamily().fit(x, targets, names[::-1])
    with pytest.raises(ValueError, match="rows"):
        MLXFamily().fit(x[:-1], targets, names)
    with pytest.raises(ValueError, match="not fitted"):
        MLXFamily().predict(x)


def test_init_only_stores_config() -> None:
    fam = MLXFamily()
    assert fam.config is None and not hasattr(fam, "net_")


def test_feature_importances_find_the_informative_inputs(fitted, dataset, tmp_path) -> None:
    _, _, names = dataset
    imp = fitted.feature_importances()
    assert set(imp) == {"profit", "success", "duration"}
    for head in imp.values():
        assert list(head) == names
        assert abs(sum(head.values()) - 1.0) < 1e-9
    # synthetic truth: profit depends on f1 x hold, the optimal hold on f2
    assert max(imp["profit"], key=imp["profit"].get) in ("f1", "hold_hours")
    assert max(imp["duration"], key=imp["duration"].get) == "f2"
    assert imp["duration"]["hold_hours"] == 0.0  # the duration head never sees the hold
    fitted.save(tmp_path / "m")
    assert MLXFamily.load(tmp_path / "m").feature_importances() == imp
