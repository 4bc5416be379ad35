"""GBDTConfig validation, Platt scaling and the time-ordered inner slices."""

from __future__ import annotations

import numpy as np
import pytest

from arbscore.calibration import apply_platt, fit_platt, sigmoid
from arbscore.gbdt.config import GBDTConfig
from arbscore.gbdt.slices import MS_PER_HOUR, inner_slices


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("learning_rate", 0.0),
        ("subsample", 1.5),
        ("max_bin", 1),
        ("n_estimators", 0),
        ("valid_fraction", 0.6),
        ("n_jobs", -1),
        ("duration_min_hours", 0.0),
    ],
)
def test_config_rejects_bad_values_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        GBDTConfig(**{field: value})


def test_config_dict_round_trip_and_unknown_keys():
    cfg = GBDTConfig(learning_rate=0.1, seed=3)
    assert GBDTConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="lerning_rate"):
        GBDTConfig.from_dict({**cfg.to_dict(), "lerning_rate": 0.1})


def test_platt_recovers_known_parameters():
    rng = np.random.default_rng(0)
    margin = rng.normal(0, 2, 50_000)
    y = rng.random(margin.size) < sigmoid(0.6 * margin - 0.8)
    a, b = fit_platt(margin, y)
    assert a == pytest.approx(0.6, abs=0.03)
    assert b == pytest.approx(-0.8, abs=0.03)


def test_platt_single_class_stays_finite_and_low():
    margin = np.linspace(-3, 1, 200)
    a, b = fit_platt(margin, np.zeros(200))
    assert np.isfinite([a, b]).all()
    p = apply_platt(margin, (a, b))
    assert p.dtype == np.float32
    assert (p < 0.05).all() and (p >= 0).all()


def test_platt_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="margin"):
        fit_platt(np.zeros(3), np.zeros(4))


def test_slices_are_time_ordered_disjoint_and_purged():
    ts = np.sort(np.random.default_rng(1).integers(0, 120 * 24, 5000)) * MS_PER_HOUR
    b = inner_slices(
        ts, valid_fraction=0.15, calibration_fraction=0.1, purge_hours=168, max_purge_fraction=0.05
    )
    train, valid, calib = b.masks(ts)
    assert not (train & valid).any() and not (valid & calib).any() and not (train & calib).any()
    # purge capped at 5 % of the 120-day span = 144 h (< 168 h)
    assert b.purge_ms == pytest.approx(0.05 * (ts.max() - ts.min()), abs=1)
    assert ts[train].max() + b.purge_ms <= ts[valid].min()
    assert ts[valid].max() + b.purge_ms <= ts[calib].min()
    assert abs(calib.mean() - 0.10) < 0.01


def test_slices_use_full_purge_on_long_spans():
    ts = np.arange(0, 400 * 24) * MS_PER_HOUR  # 400 days hourly
    b = inner_slices(
        ts, valid_fraction=0.15, calibration_fraction=0.1, purge_hours=168, max_purge_fraction=0.05
    )
    assert b.purge_ms == 168 * MS_PER_HOUR


def test_slices_refuse_a_single_timestamp():
    with pytest.raises(ValueError, match="timestamp_ms"):
        inner_slices(
            np.zeros(100, dtype=np.int64),
            valid_fraction=0.15,
            calibration_fraction=0.1,
            purge_hours=168,
            max_purge_fraction=0.05,
        )


def test_platt_with_too_few_positives_fits_the_intercept_only_and_keeps_the_ranking():
    rng = np.random.default_rng(3)
    margin = rng.normal(size=2000)
    y = np.zeros(2000)
    y[np.argsort(margin)[-3:]] = 1  # three winners, at the top of the margin
    a_free, _ = fit_platt(margin, np.zeros(2000))
    # with no winner at all the free slope collapses to about 0 (p constant) or, when it dips
    # below 0, is replaced by the ranking-keeping intercept-only fit: never negative
    assert a_free == 1.0 or 0.0 <= a_free < 0.05
    a, b = fit_platt(margin, y, min_events=20)
    assert a == 1.0 and np.isfinite(b)
    p = apply_platt(margin, (a, b))
    assert np.corrcoef(np.argsort(np.argsort(p)), np.argsort(np.argsort(margin)))[0, 1] > 0.999
    assert abs(float(p.mean()) - y.mean()) < 0.01  # the intercept still matches the base rate


def test_platt_never_turns_the_ranking_over():
    # a calibration slice on which higher margins win less often: the unconstrained slope is
    # negative; the fit keeps the margin's ranking (a = 1) and fits the intercept only
    rng = np.random.default_rng(5)
    margin = rng.normal(size=4000)
    y = (rng.random(4000) < sigmoid(-2.0 * margin - 1.0)).astype(float)
    a, b = fit_platt(margin, y, min_events=20)
    assert a == 1.0
    p = apply_platt(margin, (a, b))
    assert np.all(np.diff(p[np.argsort(margin)]) >= 0)
    # the intercept still matches the base rate roughly
    assert abs(float(p.mean()) - float(y.mean())) < 0.15
    # a positive relation is fitted as before
    y2 = (rng.random(4000) < sigmoid(2.0 * margin - 1.0)).astype(float)
    a2, _ = fit_platt(margin, y2, min_events=20)
    assert 1.7 < a2 < 2.3
