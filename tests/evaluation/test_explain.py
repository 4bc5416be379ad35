"""The attributions of a family without TreeSHAP: the occlusion approximation, by hand."""

from __future__ import annotations

import numpy as np
import pytest

from arbscore.evaluation.explain import SAMPLE_ROWS, explain, sample_rows
from arbscore.families import HeadOutputs


class _Linear:
    """profit = 2 x0, success = 0.5 + 0.1 x1, duration = 10 + x0 x1 (no shap_values)."""

    def predict(self, X):
        X = np.asarray(X, np.float64)
        return HeadOutputs(2 * X[:, 0], 0.5 + 0.1 * X[:, 1], 10 + X[:, 0] * X[:, 1])


def test_occlusion_is_the_change_from_the_median_and_named_an_approximation():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(101, 3)).astype(np.float32)
    out = explain(_Linear(), X, ["a", "b", "hold_hours"])
    assert out["method"] == "occlusion"
    med = np.median(X.astype(np.float64), axis=0)
    profit = out["heads"]["profit"]
    assert list(profit["mean_abs"])[0] == "a"
    assert profit["mean_abs"]["a"] == pytest.approx(np.mean(np.abs(2 * (X[:, 0] - med[0]))))
    assert profit["mean_abs"]["b"] == 0.0 and profit["mean_abs"]["hold_hours"] == 0.0
    assert profit["dependence"]["feature"] == "a"
    assert profit["dependence"]["attribution"] == pytest.approx(2 * (X[:, 0] - med[0]), abs=1e-5)
    success = out["heads"]["success"]
    assert list(success["mean_abs"])[0] == "b" and success["unit"] == "probability"
    # an interaction: x0 x1 - med0 x1 for a, x0 x1 - x0 med1 for b
    dur = out["heads"]["duration"]["mean_abs"]
    x0, x1 = X[:, 0].astype(np.float64), X[:, 1].astype(np.float64)
    assert dur["a"] == pytest.approx(np.mean(np.abs((x0 - med[0]) * x1)), rel=1e-5)


def test_the_sample_is_bounded():
    assert len(sample_rows(10)) == 10
    idx = sample_rows(10 * SAMPLE_ROWS)
    assert len(idx) == SAMPLE_ROWS and (np.diff(idx) > 0).all()
