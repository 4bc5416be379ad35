"""Isotonic calibration, split-conformal intervals (against MAPIE) and the calibration error."""

from __future__ import annotations

import math

import numpy as np
import pytest

from arbscore.calibration import (
    apply_isotonic,
    calibration_error,
    fit_isotonic,
    logit,
)
from arbscore.conformal import IntervalTable, conformal_quantile, fit_interval_table


def test_isotonic_knots_reproduce_sklearns_predict_inside_and_outside_the_range():
    from sklearn.isotonic import IsotonicRegression

    rng = np.random.default_rng(0)
    s = rng.normal(size=500)
    y = (rng.random(500) < 1 / (1 + np.exp(-2 * s))).astype(float)
    knots = fit_isotonic(s, y)
    ref = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(s, y)
    probe = np.linspace(-5, 5, 101)
    np.testing.assert_allclose(apply_isotonic(probe, knots), ref.predict(probe), atol=1e-6)
    assert np.all(np.diff(apply_isotonic(probe, knots)) >= 0)
    with pytest.raises(ValueError, match="no rows"):
        fit_isotonic([], [])


def test_logit_inverts_the_sigmoid_and_stays_finite_at_0_and_1():
    p = np.array([0.0, 0.2, 0.5, 0.9, 1.0])
    z = logit(p)
    assert np.isfinite(z).all()
    np.testing.assert_allclose(1 / (1 + np.exp(-z[1:4])), p[1:4])


def test_calibration_error_is_the_largest_finite_gap_within_0_and_1():
    assert calibration_error(0.02, 0.3, None, math.nan) == pytest.approx(0.3)
    assert calibration_error(None, math.nan) == 0.0
    assert calibration_error(1.7) == 1.0


def test_conformal_quantile_is_the_finite_sample_order_statistic():
    r = np.arange(1.0, 10.0)  # 9 residuals: k = ceil(10 * 0.8) = 8
    assert conformal_quantile(r, 0.8) == 8.0
    assert conformal_quantile(r, 0.95) == math.inf  # k = 10 > 9: too few rows for 95 %
    with pytest.raises(ValueError, match="coverage"):
        conformal_quantile(r, 1.0)


@pytest.mark.parametrize("coverage", [0.8, 0.9])
def test_split_conformal_matches_mapie(coverage):
    mapie = pytest.importorskip("mapie.regression")
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 2))
    y = X @ np.array([1.5, -0.5]) + rng.standard_t(3, size=400)
    model = LinearRegression().fit(X[:200], y[:200])
    Xc, yc, Xt = X[200:300], y[200:300], X[300:]
    reg = mapie.SplitConformalRegressor(model, confidence_level=coverage, prefit=True)
    reg.conformalize(Xc, yc)
    _, bounds = reg.predict_interval(Xt)
    table = fit_interval_table(yc, model.predict(Xc), np.zeros(len(yc)), coverage)
    low, high = table.bounds(model.predict(Xt), np.zeros(len(Xt)))
    np.testing.assert_allclose(low, bounds[:, 0, 0], rtol=1e-9)
    np.testing.assert_allclose(high, bounds[:, 1, 0], rtol=1e-9)


def test_interval_table_is_per_hold_and_interpolates_between_holds():
    y = np.zeros(20)
    pred = np.r_[np.arange(1.0, 10.0), 10 * np.arange(1.0, 10.0), 5.0, 7.0]
    hold = np.r_[np.full(9, 8.0), np.full(9, 168.0), 720.0, 720.0]
    table = fit_interval_table(y, pred, hold, 0.8)
    # 8 h and 168 h: the 8th of 9 residuals; 720 h has 2 rows, too few for 80 %: the pooled one
    k = math.ceil(21 * 0.8)
    assert table.half_widths == (8.0, 80.0, np.sort(pred)[k - 1])
    assert table.half_width(np.array([8.0, 88.0, 168.0, 1.0])).tolist() == [8.0, 44.0, 80.0, 8.0]
    low, high = table.bounds(np.array([1.0]), np.array([8.0]))
    assert (low[0], high[0]) == (-7.0, 9.0)
    assert IntervalTable.from_dict(table.to_dict(), "t") == table
