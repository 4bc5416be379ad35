"""Training loop: loss goes down, one trace per fit, reproducible weights, fixed batch shapes."""

from __future__ import annotations

import mlx.core as mx
import numpy as np

from arbscore.mlx_models import MLXFamily
from arbscore.mlx_models.train import _schedule, batch_iterate

from .synthetic import make_dataset, tiny_config


def test_loss_decreases(fitted) -> None:
    hist = fitted.fit_report_["history"]
    assert len(hist) >= 3
    assert hist[-1]["train_loss"] < 0.7 * hist[0]["train_loss"]
    assert fitted.fit_report_["best_val_score"] < hist[0]["val_score"]
    assert fitted.fit_report_["best_val_score"] < 3.0  # better than the no-skill model


def test_compiled_step_traced_once_across_batches(fitted) -> None:
    report = fitted.fit_report_
    assert report["steps"] > 10  # many batches, including a padded last one
    assert report["traces"] == 1


def test_same_seed_same_weights_other_seed_differs(dataset) -> None:
    x, targets, names = dataset
    cfg = tiny_config(max_epochs=2)
    a = MLXFamily(cfg).fit(x, targets, names).layer_params()
    b = MLXFamily(cfg).fit(x, targets, names).layer_params()
    c = MLXFamily(tiny_config(max_epochs=2, seed=1)).fit(x, targets, names).layer_params()
    assert all(
        np.array_equal(p.weight, q.weight) and np.array_equal(p.bias, q.bias)
        for p, q in zip(a, b, strict=True)
    )
    assert not np.array_equal(a[0].weight, c[0].weight)


def test_batch_iterate_fixed_shape_covers_every_row_once() -> None:
    rng = np.random.default_rng(0)
    batches = list(batch_iterate(1000, 256, rng))
    assert all(len(idx) == 256 for idx, _ in batches)
    real = np.concatenate([idx[:n] for idx, n in batches])
    assert np.array_equal(np.sort(real), np.arange(1000))
    assert [n for _, n in batches] == [256, 256, 256, 232]


def test_schedule_warms_up_then_decays() -> None:
    sched = _schedule(tiny_config(learning_rate=1e-2, warmup_steps=10, min_learning_rate=0.0), 100)
    lr = [float(sched(mx.array(s)).item()) for s in (0, 5, 10, 50, 99)]
    assert lr[0] < lr[1] < lr[2]
    assert abs(lr[2] - 1e-2) < 1e-6
    assert lr[2] > lr[3] > lr[4]


def test_early_stopping_restores_best_epoch() -> None:
    # noise-only targets: validation loss stops improving quickly
    x, targets, names = make_dataset(n_opp=200, seed=3)
    rng = np.random.default_rng(0)
    noisy = type(targets)(
        rng.normal(size=len(x)),
        rng.integers(0, 2, len(x)).astype(float),
        targets.duration,
        targets.opportunity_id,
        targets.timestamp_ms,
    )
    cfg = tiny_config(max_epochs=30, patience=2, learning_rate=2e-2, checkpoint="best")
    fam = MLXFamily(cfg).fit(x, noisy, names)
    rep = fam.fit_report_
    assert rep["epochs_run"] < 30
    assert rep["epochs_run"] >= rep["best_epoch"] + 2
    best = min(h["val_score"] for h in rep["history"])
    assert abs(rep["best_val_score"] - best) < 1e-9
    # it stopped after `patience` epochs in which no head beat its own best either
    base = np.array(rep["val_baseline"])
    skill = (
        np.array(
            [[h[f"val_{k}"] for k in ("profit", "success", "duration")] for h in rep["history"]]
        )
        / base
    )
    for e in (-1, -2):
        assert np.all(skill[e] >= skill[:e].min(axis=0) - 1e-4)


def test_training_continues_while_any_head_still_improves() -> None:
    # the report history lets us replay the rule: every epoch after the best one that is not
    # the last `patience` improved some head (else training would have stopped there)
    x, targets, names = make_dataset(n_opp=300, seed=4)
    cfg = tiny_config(max_epochs=12, patience=1, checkpoint="best")
    fam = MLXFamily(cfg).fit(x, targets, names)
    rep = fam.fit_report_
    skill = np.array(
        [[h[f"val_{k}"] for k in ("profit", "success", "duration")] for h in rep["history"]]
    ) / np.array(rep["val_baseline"])
    scores = [h["val_score"] for h in rep["history"]]
    for e in range(1, rep["epochs_run"] - 1):
        improved = scores[e] < min(scores[:e]) - 1e-6 or np.any(
            skill[e] < skill[:e].min(axis=0) - 1e-4
        )
        assert improved, f"epoch {e + 1} made no progress yet training went on"


def test_loss_balance_divides_by_the_constant_predictor_loss() -> None:
    from arbscore.mlx_models.train import (
        TrainArrays,
        balanced_weights,
        baseline_losses,
        loss_weights,
    )

    x, targets, names = make_dataset(n_opp=100, seed=5)
    rng = np.random.default_rng(0)
    data = TrainArrays(
        x=x,
        profit=rng.normal(size=len(x)).astype(np.float32),
        success=(rng.random(len(x)) < 0.05).astype(np.float32),
        duration_log=np.log1p(targets.duration).astype(np.float32),
        duration_mask=np.tile([1.0] + [0.0] * (len(x) // 100 - 1), 100).astype(np.float32),
    )
    cfg = tiny_config(loss_balance="baseline")
    base = baseline_losses(data, data, loss_weights(cfg))
    got = balanced_weights(cfg, data)
    np.testing.assert_allclose(
        [got.profit, got.success, got.duration],
        np.array([cfg.profit_weight, cfg.success_weight, cfg.duration_weight]) / base,
        rtol=1e-6,
    )
    assert balanced_weights(tiny_config(loss_balance="none"), data) == loss_weights(cfg)


def test_small_data_gets_enough_steps_per_epoch() -> None:
    from arbscore.mlx_models.train import effective_batch_size

    cfg = tiny_config(batch_size=2048, min_steps_per_epoch=20)
    assert effective_batch_size(cfg, 300_000) == 2048
    assert effective_batch_size(cfg, 4000) == 200
    assert effective_batch_size(cfg, 500) == 64
    assert effective_batch_size(cfg, 10) == 10


def test_max_steps_caps_epochs_on_big_data() -> None:
    from arbscore.mlx_models.train import planned_epochs

    cfg = tiny_config(max_epochs=30, max_steps=2000)
    assert planned_epochs(cfg, 116) == 18  # ~240k rows at batch 2048
    assert planned_epochs(cfg, 20) == 30
    assert planned_epochs(tiny_config(max_steps=1), 500) == 1


def test_skill_score_weighs_heads_relative_to_the_constant_predictor() -> None:
    import numpy as np

    from arbscore.mlx_models.losses import LossWeights
    from arbscore.mlx_models.train import skill_score

    w = LossWeights(1.0, 1.0, 0.5, 1.0)
    base = np.array([0.5, 0.001, 0.4])
    assert skill_score(base, base, w) == 2.5  # no skill: the sum of the weights
    # halving the tiny success loss counts as much as halving the big profit loss
    a = skill_score(np.array([0.25, 0.001, 0.4]), base, w)
    b = skill_score(np.array([0.5, 0.0005, 0.4]), base, w)
    assert abs(a - b) < 1e-12


def test_last_checkpoint_trains_the_whole_schedule_and_keeps_its_weights() -> None:
    # the default: no early stop even on noise, and the report names the final epoch
    x, targets, names = make_dataset(n_opp=200, seed=3)
    fam = MLXFamily(tiny_config(max_epochs=6, patience=1, learning_rate=2e-2)).fit(
        x, targets, names
    )
    rep = fam.fit_report_
    assert fam.config.checkpoint == "last"
    assert rep["epochs_run"] == rep["planned_epochs"] == rep["best_epoch"]
    assert rep["best_val_score"] == rep["history"][-1]["val_score"]
