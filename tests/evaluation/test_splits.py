"""Walk-forward folds: purge and embargo edges, window layout, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from arbscore.evaluation import EvaluationConfig, walk_forward_folds

H = 3_600_000


def _grid(hours: int, holds=(1.0,), step_minutes: int = 60):
    """Rows every ``step_minutes`` for ``hours`` hours, one per hold."""
    n = hours * 60 // step_minutes
    t = np.repeat(np.arange(n, dtype=np.int64) * step_minutes * 60_000, len(holds))
    h = np.tile(np.asarray(holds, dtype=float), n)
    return t, h


def test_purge_edges_without_embargo():
    # 1 fold, test span 24 h over 100 h of data -> T = end - 24 h
    t, h = _grid(100, holds=(1.0, 8.0, 12.0), step_minutes=5)
    cfg = EvaluationConfig(n_folds=1, test_span_hours=24, embargo_hours=0, min_train_rows=1)
    (fold,) = walk_forward_folds(t, h, cfg)
    T = fold.test_start_ms
    assert T == 76 * H  # the last snapshot + 5 min is the end of the data
    train_t, train_h = t[fold.train_idx], h[fold.train_idx]
    # every kept training row's label window ends at or before T ...
    assert np.all(train_t + train_h * H <= T)
    # ... and every dropped pre-T row's window reaches past it (nothing dropped needlessly)
    dropped = np.setdiff1d(np.flatnonzero(t < T), fold.train_idx)
    assert np.all(t[dropped] + h[dropped] * H > T)
    assert fold.purged_rows == dropped.size and fold.embargoed_rows == 0
    # exact edges: a row whose window ends exactly at T is kept
    edge = (t + h * H) == T
    assert edge.any() and np.isin(np.flatnonzero(edge), fold.train_idx).all()
    # test rows: entry in [T, end)
    assert np.all(t[fold.test_idx] >= T) and fold.test_idx.size == np.sum(t >= T)


def test_embargo_gap_before_test_start():
    t, h = _grid(400, step_minutes=5)
    cfg = EvaluationConfig(n_folds=1, test_span_hours=48, embargo_hours=168, min_train_rows=1)
    (fold,) = walk_forward_folds(t, h, cfg)
    T = fold.test_start_ms
    train_t = t[fold.train_idx]
    assert train_t.max() + 168 * H <= T  # nothing within 168 h before T
    before = t < T
    assert fold.train_idx.size == np.sum(before & (t + 168 * H <= T))
    assert fold.embargoed_rows == np.sum(before) - fold.train_idx.size - fold.purged_rows
    assert (T - 168 * H) in train_t  # entered exactly 168 h before T: kept (the edge)
    assert (T - 168 * H + 5 * 60_000) not in train_t


def test_folds_tile_the_end_of_the_data_and_expand():
    t, h = _grid(24 * 60, holds=(1.0, 24.0))
    cfg = EvaluationConfig(n_folds=4, embargo_hours=168)
    folds = walk_forward_folds(t, h, cfg)
    assert len(folds) == 4
    for a, b in zip(folds, folds[1:], strict=False):
        assert a.test_end_ms == b.test_start_ms  # consecutive, no gap or overlap
        assert b.train_idx.size > a.train_idx.size  # expanding window
    assert folds[-1].test_end_ms == t.max() + 5 * 60 * 1000
    all_test = np.concatenate([f.test_idx for f in folds])
    assert np.unique(all_test).size == all_test.size
    for f in folds:
        assert not np.intersect1d(f.train_idx, f.test_idx).size
        assert t[f.train_idx].max() < f.test_start_ms
    # auto span: first training window (before the embargo) as long as one test window
    span = folds[0].test_end_ms - folds[0].test_start_ms
    first_train = folds[0].test_start_ms - 168 * H - folds[0].train_start_ms
    assert abs(first_train - span) <= 2


def test_too_short_data_names_the_fix():
    t, h = _grid(24 * 5)
    with pytest.raises(ValueError, match="too short for 4 folds.*fewer --folds"):
        walk_forward_folds(t, h, EvaluationConfig(n_folds=4, embargo_hours=168))
    with pytest.raises(ValueError, match="n_folds"):
        EvaluationConfig(n_folds=0)
    with pytest.raises(ValueError, match="position_usd"):
        EvaluationConfig(position_usd=0)


def test_the_default_embargo_is_the_largest_hold_in_the_data():
    assert EvaluationConfig().embargo_for([1.0, 8.0, 72.0]) == 72.0
    assert EvaluationConfig().embargo_for([1.0, 720.0]) == 720.0
    assert EvaluationConfig(embargo_hours=24).embargo_for([720.0]) == 24.0
