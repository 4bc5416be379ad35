"""Loss functions against numpy, and the duration loss counting each opportunity once."""

from __future__ import annotations

import mlx.core as mx
import numpy as np

from arbscore.data_tools.targets import Targets
from arbscore.mlx_models.losses import Batch, LossWeights, bce_with_logits, head_losses, huber
from arbscore.mlx_models.model import NetOutputs
from arbscore.mlx_models.prepare import duration_mask, duration_target
from arbscore.mlx_models.train import TrainArrays, full_batch
from arbscore.schema import MAX_HOLD_HOURS


def test_huber_matches_definition() -> None:
    pred = np.array([0.0, 0.5, 3.0, -4.0], dtype=np.float32)
    target = np.zeros(4, dtype=np.float32)
    got = np.array(huber(mx.array(pred), mx.array(target), 1.0))
    np.testing.assert_allclose(got, [0.0, 0.125, 2.5, 3.5], rtol=1e-6)


def test_bce_with_logits_matches_numpy_and_is_stable() -> None:
    logit = np.array([-50.0, -1.0, 0.0, 2.0, 60.0], dtype=np.float32)
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0], dtype=np.float32)
    p = 1 / (1 + np.exp(-logit.astype(np.float64)))
    ref = -(y * np.log(np.clip(p, 1e-300, 1)) + (1 - y) * np.log(np.clip(1 - p, 1e-300, 1)))
    got = np.array(bce_with_logits(mx.array(logit), mx.array(y)))
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)


def _slice(n_opp: int, holds_per_opp: int, dur_pred: np.ndarray, dur: np.ndarray):
    """Targets and a full batch where each opportunity has ``holds_per_opp`` rows."""
    oid = np.repeat(np.arange(n_opp), holds_per_opp)
    duration = np.repeat(dur, holds_per_opp)
    t = Targets(np.zeros(len(oid)), np.zeros(len(oid)), duration, oid, np.zeros(len(oid), int))
    data = TrainArrays(
        x=np.zeros((len(oid), 2), np.float32),
        profit=np.zeros(len(oid), np.float32),
        success=np.zeros(len(oid), np.float32),
        duration_log=duration_target(duration),
        duration_mask=duration_mask(t),
    )
    out = NetOutputs(
        mx.zeros(len(oid)), mx.zeros(len(oid)), mx.array(np.repeat(dur_pred, holds_per_opp))
    )
    return t, data, out


def test_duration_loss_counts_each_opportunity_once() -> None:
    rng = np.random.default_rng(0)
    dur = rng.uniform(0, MAX_HOLD_HOURS, size=12)
    pred = rng.normal(2.0, 1.0, size=12).astype(np.float32)
    w = LossWeights(1.0, 1.0, 1.0, 1.0)
    losses = []
    for holds in (1, 3, 9):
        t, data, out = _slice(12, holds, pred, dur)
        mask = data.duration_mask
        assert mask.sum() == 12  # one row per opportunity
        assert np.array_equal(np.bincount(t.opportunity_id, weights=mask), np.ones(12))
        losses.append(float(head_losses(out, full_batch(data), w)[2].item()))
    ref = np.mean(np.array(huber(mx.array(pred), mx.array(np.log1p(dur).astype(np.float32)), 1.0)))
    np.testing.assert_allclose(losses, [ref] * 3, rtol=1e-5)


def test_padding_rows_do_not_count() -> None:
    w = LossWeights(1.0, 1.0, 1.0, 1.0)
    out = NetOutputs(mx.array([1.0, 100.0]), mx.array([0.0, 50.0]), mx.array([0.0, 9.0]))
    batch = Batch(
        x=mx.zeros((2, 2)),
        profit=mx.array([0.0, 0.0]),
        success=mx.array([1.0, 0.0]),
        duration_log=mx.array([0.0, 0.0]),
        row_weight=mx.array([1.0, 0.0]),
        duration_mask=mx.array([1.0, 1.0]),
        duration_norm=mx.array(1.0),
    )
    parts = np.array(head_losses(out, batch, w))
    np.testing.assert_allclose(parts, [0.5, np.log(2.0), 0.0], rtol=1e-6)


def test_ensemble_loss_is_the_mean_of_member_losses() -> None:
    rng = np.random.default_rng(3)
    t, data, _ = _slice(10, 3, rng.normal(size=10).astype(np.float32), rng.uniform(1, 100, 10))
    batch = full_batch(data)
    w = LossWeights(1.0, 1.0, 1.0, 0.5)
    members = [
        NetOutputs(*(mx.array(rng.normal(size=30).astype(np.float32)) for _ in range(3)))
        for _ in range(4)
    ]
    stacked = NetOutputs(*(mx.stack([m[i] for m in members]) for i in range(3)))
    got = np.array(head_losses(stacked, batch, w))
    want = np.mean([np.array(head_losses(m, batch, w)) for m in members], axis=0)
    np.testing.assert_allclose(got, want, rtol=1e-5)
