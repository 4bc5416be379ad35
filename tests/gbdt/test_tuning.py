"""Optuna search stays inside the folds it is given."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from arbscore.data_tools.synthetic_matrix import make_synthetic_matrix
from arbscore.data_tools.targets import Targets
from arbscore.evaluation.tuning import check_folds, inner_folds, tune
from arbscore.gbdt.lightgbm_family import LightGBMFamily
from arbscore.gbdt.xgboost_family import XGBoostFamily

FAMILIES = {"xgboost": XGBoostFamily, "lightgbm": LightGBMFamily}


def _folds(ts: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    order = np.argsort(ts, kind="stable")
    n = order.size
    return [
        (order[: n // 2], order[n // 2 : 2 * n // 3]),
        (order[: 2 * n // 3], order[2 * n // 3 : 5 * n // 6]),
    ]


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_tune_reads_only_fold_rows(name, fast_config):
    X, t, names = make_synthetic_matrix(600, seed=5, days=40)
    folds = _folds(t.timestamp_ms)
    used = np.zeros(len(t.profit), bool)
    for tr, va in folds:
        used[tr] = used[va] = True
    assert not used.all()
    # poison every row outside the folds: touching one would raise in fit's target checks
    poisoned = Targets(
        profit=np.where(used, t.profit, np.nan),
        success=t.success,
        duration=np.where(used, t.duration, np.nan),
        opportunity_id=t.opportunity_id,
        timestamp_ms=t.timestamp_ms,
    )
    calls = []
    result = tune(
        FAMILIES[name],
        X,
        poisoned,
        names,
        folds,
        n_trials=2,
        base_config=replace(fast_config, n_estimators=80),
        progress=lambda message, done=None, total=None: calls.append((message, done, total)),
    )
    assert len(result.trials) == 2 and [c[1:] for c in calls] == [(1, 2), (2, 2)]
    assert calls[-1][0].startswith("trial 2/2: best ")
    assert np.isfinite(result.score) and result.score == min(v for _, v in result.trials)
    assert result.config.n_estimators == 80
    assert result.config.learning_rate != fast_config.learning_rate


def test_folds_must_be_time_ordered(train_data):
    _, t, _ = train_data
    idx = np.arange(len(t.profit))
    rng = np.random.default_rng(0)
    shuffled = rng.permutation(idx)
    with pytest.raises(ValueError, match="time-ordered"):
        check_folds([(shuffled[:1000], shuffled[1000:2000])], t.timestamp_ms)


def test_default_folds_come_from_the_harness_splitter(fast_config):
    X, t, names = make_synthetic_matrix(600, seed=6, days=60)
    folds = inner_folds(X, t, 2, names)
    assert len(folds) == 2
    for fold in folds:
        # harness purge + embargo: every training label ends a week before the fold's test
        assert t.timestamp_ms[fold.train_idx].max() + 168 * 3_600_000 <= fold.test_start_ms
    result = tune(
        FAMILIES["lightgbm"],
        X,
        t,
        names,
        n_trials=1,
        base_config=replace(fast_config, n_estimators=50),
    )
    assert np.isfinite(result.score)


def test_inner_folds_find_the_hold_by_name_not_position():
    X, t, names = make_synthetic_matrix(600, seed=6, days=60)
    last = list(names).index("hold_hours")
    order = [last, *[i for i in range(len(names)) if i != last]]  # hold moved to column 0
    moved = inner_folds(X[:, order], t, 2, [names[i] for i in order])
    for a, b in zip(inner_folds(X, t, 2, names), moved, strict=True):
        np.testing.assert_array_equal(a.train_idx, b.train_idx)
        np.testing.assert_array_equal(a.test_idx, b.test_idx)
        assert (a.purged_rows, a.embargoed_rows) == (b.purged_rows, b.embargoed_rows)
    with pytest.raises(ValueError, match="hold_hours"):
        inner_folds(X, t, 2, [f"f{i}" for i in range(len(names))])
