"""XGBoost and LightGBM families: learning, heads, explanations, persistence, bad input."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest
from onnxmltools import convert_lightgbm, convert_xgboost
from onnxmltools.convert.common.data_types import FloatTensorType
from sklearn.metrics import roc_auc_score

from arbscore.calibration import sigmoid
from arbscore.data_tools.targets import first_row_per_opportunity
from arbscore.gbdt.lightgbm_family import LightGBMFamily
from arbscore.gbdt.xgboost_family import XGBoostFamily

FAMILIES = {"xgboost": XGBoostFamily, "lightgbm": LightGBMFamily}


def test_learns_all_three_heads_out_of_sample(fitted, later_data):
    X, t, _ = later_data
    pred = fitted.predict(X)
    y = t.profit
    r2 = 1 - np.mean((pred.profit - y) ** 2) / np.var(y)
    assert r2 > 0.3, r2
    assert roc_auc_score(t.success, pred.success) > 0.85
    first = first_row_per_opportunity(t.opportunity_id)
    d_true = t.duration[first]
    mae = np.mean(np.abs(pred.duration[first] - d_true))
    assert mae < 0.5 * np.mean(np.abs(np.median(d_true) - d_true))
    # calibrated: mean probability close to the observed rate
    assert abs(pred.success.mean() - t.success.mean()) < 0.05


def test_duration_head_ignores_hold_hours(fitted, later_data):
    X = later_data[0].copy()
    before = fitted.predict(X).duration
    X[:, -1] = 999.0
    after = fitted.predict(X)
    np.testing.assert_array_equal(before, after.duration)
    assert "hold_hours" not in fitted.feature_importances()["duration"]


def test_early_stopping_keeps_only_best_trees(fitted, fast_config):
    for head, model in fitted.models_.items():
        n = fitted.n_trees_[head]
        assert 1 <= n <= fast_config.n_estimators
        held = (
            model.get_booster().num_boosted_rounds()
            if fitted.name == "xgboost"
            else (model.num_trees())
        )
        assert held == n, head
    rows = fitted.fit_info_["rows"]
    assert rows["train"] > rows["valid"] > 0 and rows["calibration"] > 0


def test_importance_and_shap(fitted, later_data):
    imp = fitted.feature_importances()
    for head, scores in imp.items():
        assert sum(scores.values()) == pytest.approx(1.0)
        assert scores["fund_apr"] > max(scores["noise_0"], scores["noise_1"]), head
    X = later_data[0][:50]
    margins = fitted.raw_margins(X)
    for head in ("profit", "success", "duration"):
        shap = fitted.shap_values(X, head)
        assert shap.values.shape == (50, len(shap.feature_names))
        np.testing.assert_allclose(shap.values.sum(1) + shap.base, margins[head], atol=1e-4)
    with pytest.raises(ValueError, match="head"):
        fitted.shap_values(X, "profits")


def test_save_is_native_files_and_load_is_exact(fitted, later_data, tmp_path):
    fitted.save(tmp_path)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert "family.json" in files and len(files) == 4
    for p in tmp_path.iterdir():
        assert not p.read_bytes().startswith(b"\x80"), f"{p.name} looks pickled"
    meta = json.loads((tmp_path / "family.json").read_text())
    assert meta["calibration"] == list(fitted.calibration_)
    loaded = type(fitted).load(tmp_path)
    X = later_data[0]
    for a, b in zip(fitted.predict(X), loaded.predict(X), strict=True):
        np.testing.assert_array_equal(a, b)


def test_load_rejects_other_family_and_unknown_keys(fitted, tmp_path):
    fitted.save(tmp_path)
    other = next(cls for name, cls in FAMILIES.items() if name != fitted.name)
    with pytest.raises(ValueError, match="family"):
        other.load(tmp_path)
    meta = json.loads((tmp_path / "family.json").read_text())
    meta["config"]["max_dept"] = 3
    (tmp_path / "family.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="max_dept"):
        type(fitted).load(tmp_path)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_bad_input_is_a_value_error_naming_the_field(name, train_data, fast_config):
    X, t, names = train_data
    fam = FAMILIES[name](config=fast_config)
    with pytest.raises(ValueError, match="not fitted"):
        fam.predict(X)
    with pytest.raises(ValueError, match="hold_hours"):
        fam.fit(X, t, [*names[:-1], "hold"])
    with pytest.raises(ValueError, match="X"):
        fam.fit(X[:, :-1], t, names)
    bad = X.copy()
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="inf"):
        fam.fit(bad, t, names)


def test_native_models_convert_to_onnx_and_match(fitted, later_data):
    """Guards the choice of model objects: onnxmltools converts them as they are."""
    X = later_data[0][:300]
    margins = fitted.raw_margins(X)
    for head, model in fitted.models_.items():
        nf = X.shape[1] - (head == "duration")
        types = [("input", FloatTensorType([None, nf]))]
        if fitted.name == "xgboost":
            onx = convert_xgboost(model, initial_types=types, target_opset=15)
        else:
            onx = convert_lightgbm(model, initial_types=types, target_opset=15, zipmap=False)
        sess = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
        out = sess.run(None, {"input": X[:, :nf]})
        if head == "success":
            np.testing.assert_allclose(out[1][:, 1], sigmoid(margins[head]), atol=1e-5)
        else:
            np.testing.assert_allclose(out[0].ravel(), margins[head], rtol=1e-5, atol=1e-4)


def test_explain_uses_the_native_treeshap_per_head(fitted, later_data):
    from arbscore.evaluation.explain import SUMMARY_TOP, explain

    X = later_data[0][:300]
    names = list(fitted.feature_names_)
    out = explain(fitted, X, names)
    assert out["method"] == "treeshap" and out["rows"] == 300
    for head in ("profit", "success", "duration"):
        shap = fitted.shap_values(X, head)
        mean_abs = np.abs(shap.values.astype(np.float64)).mean(0)
        block = out["heads"][head]
        summary = list(block["mean_abs"].items())
        assert len(summary) == min(SUMMARY_TOP, len(shap.feature_names))
        top = int(np.argmax(mean_abs))
        assert summary[0][0] == shap.feature_names[top] == block["dependence"]["feature"]
        assert summary[0][1] == pytest.approx(mean_abs[top])
        assert block["dependence"]["attribution"] == pytest.approx(shap.values[:, top])
        assert block["dependence"]["x"] == pytest.approx(X[:, names.index(summary[0][0])])
    assert "hold_hours" not in out["heads"]["duration"]["mean_abs"]
