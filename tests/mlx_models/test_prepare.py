"""Time split with purge, standardisation on training rows only, Platt scaling."""

from __future__ import annotations

import numpy as np

from arbscore.calibration import fit_platt
from arbscore.mlx_models import MLXFamily
from arbscore.mlx_models.prepare import HOUR_MS, fit_standardiser, standardise, time_split
from arbscore.mlx_models.reference import PAD, fit_ple_bins
from arbscore.schema import MAX_HOLD_HOURS

from .synthetic import make_dataset, tiny_config


def test_time_split_val_is_latest_and_purged() -> None:
    ts = np.repeat(np.arange(2000) * 300_000, 3)  # ~7 days
    split = time_split(ts, tiny_config(purge_hours=6.0))
    assert split.purge_hours == 6.0
    assert ts[split.val].min() > ts[split.train].max()
    assert ts[split.val].min() - ts[split.train].max() >= 6 * HOUR_MS
    assert abs(len(split.val) / len(ts) - 0.15) < 0.01
    assert len(np.intersect1d(split.train, split.val)) == 0


def test_purge_shrinks_when_data_span_is_short() -> None:
    ts = np.arange(1000) * 300_000  # 83 h: a purge of the longest hold would leave nothing
    split = time_split(ts, tiny_config(purge_hours=MAX_HOLD_HOURS, min_train_fraction=0.5))
    assert 0 < split.purge_hours < MAX_HOLD_HOURS
    assert len(split.train) >= 500
    assert ts[split.train].max() < ts[split.val].min()


def test_no_validation_slice_for_tiny_data() -> None:
    split = time_split(np.arange(100), tiny_config(min_val_rows=64))
    assert len(split.val) == 0 and len(split.train) == 100


def test_standardisation_uses_training_rows_only() -> None:
    x, targets, names = make_dataset(n_opp=200, drift=5.0)
    cfg = tiny_config(max_epochs=1)  # robust scaling (the default): median and IQR
    fam = MLXFamily(cfg).fit(x, targets, names)
    split = time_split(targets.timestamp_ms, cfg)
    want = fit_standardiser(x[split.train], "robust")
    np.testing.assert_allclose(fam.mean_, want[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fam.scale_, want[1], rtol=1e-5)
    std = MLXFamily(tiny_config(max_epochs=1, scaling="standard")).fit(x, targets, names)
    np.testing.assert_allclose(std.mean_, x[split.train].mean(axis=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(std.scale_, x[split.train].std(axis=0), rtol=1e-5)
    assert abs(fam.mean_[0] - x[:, 0].mean()) > 0.3  # the drifting column: full mean differs
    # changing the validation rows' inputs leaves the statistics unchanged
    x2 = x.copy()
    x2[split.val] += 100.0
    fam2 = MLXFamily(cfg).fit(x2, targets, names)
    assert np.array_equal(fam.mean_, fam2.mean_) and np.array_equal(fam.scale_, fam2.scale_)


def test_platt_recovers_known_parameters() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(scale=2.0, size=20000)
    y = (rng.random(20000) < 1 / (1 + np.exp(-(0.5 * z - 0.7)))).astype(float)
    a, b = fit_platt(z, y)
    assert abs(a - 0.5) < 0.05 and abs(b + 0.7) < 0.05


def test_platt_one_class_is_finite() -> None:
    a, b = fit_platt(np.linspace(-1, 1, 50), np.zeros(50))
    assert np.isfinite(a) and np.isfinite(b)
    assert 1 / (1 + np.exp(-(a * 0 + b))) < 0.1


def test_platt_with_too_few_events_keeps_the_slope_and_the_ranking() -> None:
    z = np.linspace(-3, 3, 2000)
    y = np.zeros(2000)
    y[-5:] = 1.0  # 5 positives < min_events
    a, b = fit_platt(z, y, min_events=20)
    assert a == 1.0 and b < 0
    p = 1 / (1 + np.exp(-(a * z + b)))
    assert abs(p.mean() - y.mean()) < 0.01  # the intercept matches the base rate
    a2, _ = fit_platt(z, np.zeros(2000), min_events=20)
    assert a2 == 1.0  # a one-class slice no longer flattens every probability


def test_robust_scaler_uses_median_and_iqr_and_keeps_one_hot() -> None:
    rng = np.random.default_rng(0)
    x = np.column_stack(
        [
            rng.normal(3.0, 2.0, 20_000),
            np.r_[np.zeros(15_000), rng.normal(0, 5, 5_000)],  # IQR 0: falls back to std
            (rng.random(20_000) < 0.3).astype(float),
        ]
    ).astype(np.float32)
    centre, scale = fit_standardiser(x, "robust", passthrough=(2,))
    assert abs(centre[0] - 3.0) < 0.05 and abs(scale[0] - 2.0) < 0.05
    assert centre[1] == 0.0 and abs(scale[1] - x[:, 1].std()) < 1e-3
    assert (centre[2], scale[2]) == (0.0, 1.0)
    s = standardise(x, centre, scale, clip=10.0, smooth=3.0)
    assert s.dtype == np.float32 and np.abs(s).max() < 3.0  # the smooth clip's asymptote
    np.testing.assert_allclose(s[:, 2], x[:, 2] / np.sqrt(1 + (x[:, 2] / 3.0) ** 2), rtol=1e-6)


def test_ple_bins_are_training_quantiles_with_padding() -> None:
    rng = np.random.default_rng(1)
    v = np.column_stack([rng.normal(size=5000), rng.integers(0, 3, 5000)]).astype(np.float32)
    lo, width = fit_ple_bins(v, 8)
    assert lo.shape == width.shape == (2, 8)
    np.testing.assert_allclose(lo[0, 0], v[:, 0].min(), rtol=1e-6)
    np.testing.assert_allclose(lo[0, -1] + width[0, -1], v[:, 0].max(), rtol=1e-5)
    assert np.all(width[0] > 0)
    assert np.array_equal(lo[1, :2], [0.0, 1.0]) and np.all(lo[1, 2:] == PAD)  # 3 values
