"""The training loop: fixed-shape batches, one ``mx.compile``d AdamW step, early stopping.

Every batch has exactly ``batch_size`` rows (the last one is padded with weight-0 rows), so the
compiled step is traced once per fit; ``TrainReport.traces`` counts the traces so a test can
hold that. Small data gets smaller batches (``min_steps_per_epoch``), big data fewer epochs
(``max_steps``). The learning rate warms up linearly then follows a cosine decay over the
planned steps. With ``loss_balance="baseline"`` each head's training loss is divided by the
constant predictor's loss on the training rows (:func:`balanced_weights`), so a head whose raw
loss is tiny (a rare-event log loss) still pulls on the shared trunk as its weight says. Early
stopping watches the heads' validation losses relative to a constant predictor
(:func:`skill_score`) on the time-ordered validation slice; an epoch counts as progress when the
summed score improves or any single head beats its own best, so one head that has stopped
learning never stops another that still does. With ``checkpoint="best"`` the best
summed-score epoch's weights are restored; the default ``"last"`` trains the whole planned
schedule and keeps its final weights (the validation slice then only reports and calibrates):
on the real set's small first fold a lucky validation epoch 2 restored an undertrained net
(success AUC 0.48, profit MAE 2.91 for seed 2, against 0.92 and 0.84 with the final
weights). Shuffling uses a seeded numpy generator and the weights a seeded MLX key, so the
same data and seed give the same weights.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial

import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim
import numpy as np
from mlx.utils import tree_map

from arbscore.mlx_models.config import MLXConfig
from arbscore.mlx_models.losses import Batch, LossWeights, head_losses, total_loss
from arbscore.mlx_models.model import MultiHeadNet, NetOutputs
from arbscore.progress import Progress


@dataclass(frozen=True)
class TrainArrays:
    """Standardised rows of one slice (train or validation), numpy float32."""

    x: np.ndarray
    profit: np.ndarray
    success: np.ndarray
    duration_log: np.ndarray
    duration_mask: np.ndarray  # 1 on one row per opportunity

    def __len__(self) -> int:
        return len(self.profit)

    @property
    def opportunities_per_row(self) -> float:
        return float(self.duration_mask.sum()) / max(len(self), 1)


@dataclass
class TrainReport:
    """What happened in one fit (saved in the family's JSON config)."""

    epochs_run: int = 0
    best_epoch: int = 0
    best_val_loss: float | None = None  # weighted loss at the best epoch
    best_val_score: float | None = None  # the early-stopping score (see skill_score)
    val_baseline: list[float] | None = None  # per-head loss of the constant predictor
    steps: int = 0
    traces: int = 0
    batch_size: int = 0
    planned_epochs: int = 0
    seconds: float = 0.0
    history: list[dict[str, float]] = field(default_factory=list)


def batch_iterate(
    n_rows: int, batch_size: int, rng: np.random.Generator
) -> Iterator[tuple[np.ndarray, int]]:
    """Shuffled index batches of exactly ``batch_size``; the last is padded (returns n_real)."""
    perm = rng.permutation(n_rows)
    for start in range(0, n_rows, batch_size):
        idx = perm[start : start + batch_size]
        n_real = len(idx)
        if n_real < batch_size:
            idx = np.concatenate([idx, perm[: batch_size - n_real]])
        yield idx, n_real


def _batch(data: TrainArrays, idx: np.ndarray, n_real: int, duration_norm: float) -> Batch:
    weight = np.zeros(len(idx), dtype=np.float32)
    weight[:n_real] = 1.0
    return Batch(
        x=mx.array(data.x[idx]),
        profit=mx.array(data.profit[idx]),
        success=mx.array(data.success[idx]),
        duration_log=mx.array(data.duration_log[idx]),
        row_weight=mx.array(weight),
        duration_mask=mx.array(data.duration_mask[idx]),
        duration_norm=mx.array(duration_norm, dtype=mx.float32),
    )


def full_batch(data: TrainArrays) -> Batch:
    """The whole slice as one batch; the duration loss is the mean over its opportunities."""
    return _batch(data, np.arange(len(data)), len(data), float(data.duration_mask.sum()))


def loss_weights(config: MLXConfig) -> LossWeights:
    return LossWeights(
        config.profit_weight, config.success_weight, config.duration_weight, config.huber_delta
    )


def effective_batch_size(config: MLXConfig, n_rows: int) -> int:
    """``batch_size``, shrunk so an epoch has at least ``min_steps_per_epoch`` steps.

    A fold with a few thousand rows would otherwise get two steps per epoch and stop long
    before the net has learnt anything; the floor of 64 keeps gradient noise reasonable.
    """
    by_steps = max(n_rows // config.min_steps_per_epoch, 64)
    return max(1, min(config.batch_size, by_steps, n_rows))


def planned_epochs(config: MLXConfig, steps_per_epoch: int) -> int:
    """``max_epochs``, fewer when they would exceed ``max_steps`` (big data needs fewer)."""
    return max(1, min(config.max_epochs, -(-config.max_steps // steps_per_epoch)))


def _schedule(config: MLXConfig, total_steps: int) -> Callable[[mx.array], mx.array]:
    warmup = min(config.warmup_steps, max(total_steps - 1, 0))
    cosine = optim.cosine_decay(
        config.learning_rate, max(total_steps - warmup, 1), config.min_learning_rate
    )
    if warmup == 0:
        return cosine
    ramp = optim.linear_schedule(config.learning_rate / warmup, config.learning_rate, warmup)
    return optim.join_schedules([ramp, cosine], [warmup])


def evaluate_losses(net: MultiHeadNet, data: TrainArrays, weights: LossWeights) -> np.ndarray:
    """[profit, success, duration, total] on a whole slice (no gradient)."""
    batch = full_batch(data)
    parts = head_losses(net(batch.x), batch, weights)
    total = total_loss(parts, weights)
    mx.eval(parts, total)
    return np.append(np.array(parts, dtype=np.float64), float(total.item()))


def baseline_losses(train: TrainArrays, val: TrainArrays, weights: LossWeights) -> np.ndarray:
    """Per-head validation loss of the no-skill model: training mean profit, base rate, mean
    log duration, predicted for every validation row."""
    n = len(val)
    rate = float(np.clip(train.success.mean(), 1e-6, 1 - 1e-6))
    mask = train.duration_mask > 0
    dur = float(train.duration_log[mask].mean()) if mask.any() else 0.0
    const = NetOutputs(
        profit=mx.full((n,), float(train.profit.mean())),
        success_logit=mx.full((n,), float(np.log(rate / (1 - rate)))),
        duration_log=mx.full((n,), dur),
    )
    parts = head_losses(const, full_batch(val), weights)
    mx.eval(parts)
    return np.maximum(np.array(parts, dtype=np.float64), 1e-12)


def balanced_weights(config: MLXConfig, train: TrainArrays) -> LossWeights:
    """The loss weights the optimiser uses: ``config``'s, divided per head by the constant
    predictor's training loss when ``loss_balance == "baseline"``."""
    weights = loss_weights(config)
    if config.loss_balance == "none":
        return weights
    base = baseline_losses(train, train, weights)
    return LossWeights(
        weights.profit / base[0],
        weights.success / base[1],
        weights.duration / base[2],
        weights.huber_delta,
    )


def skill_score(losses: np.ndarray, baseline: np.ndarray, weights: LossWeights) -> float:
    """Early-stopping score: sum over heads of weight x loss / no-skill loss.

    The heads' raw losses differ by orders of magnitude (a rare-event log loss is tiny), so the
    plain weighted sum lets one head decide when all stop; relative to the constant predictor
    each head counts as its weight says.
    """
    w = np.array([weights.profit, weights.success, weights.duration], dtype=np.float64)
    return float(np.sum(w * np.asarray(losses, dtype=np.float64) / baseline))


def train_net(
    net: MultiHeadNet,
    train: TrainArrays,
    val: TrainArrays | None,
    config: MLXConfig,
    progress: Progress | None = None,
) -> TrainReport:
    """Fit ``net`` in place; restores the weights of the best validation epoch."""
    t0 = time.perf_counter()
    weights = loss_weights(config)
    batch_size = effective_batch_size(config, len(train))
    steps_per_epoch = -(-len(train) // batch_size)
    epochs = planned_epochs(config, steps_per_epoch)
    optimizer = optim.AdamW(
        learning_rate=_schedule(config, steps_per_epoch * epochs),
        weight_decay=config.weight_decay,
    )
    report = TrainReport(batch_size=batch_size, planned_epochs=epochs)

    train_weights = balanced_weights(config, train)

    def loss_fn(model: MultiHeadNet, batch: Batch) -> mx.array:
        return total_loss(head_losses(model.members(batch.x), batch, train_weights), train_weights)

    loss_and_grad = nn.value_and_grad(net, loss_fn)
    optimizer.init(net.trainable_parameters())  # state exists before tracing: one trace only
    state = [net.state, optimizer.state]

    @partial(mx.compile, inputs=state, outputs=state)
    def step(batch: Batch) -> mx.array:
        report.traces += 1  # runs only while MLX traces the function
        loss, grads = loss_and_grad(net, batch)
        if config.grad_clip > 0:
            grads, _ = optim.clip_grad_norm(grads, config.grad_clip)
        optimizer.update(net, grads)
        return loss

    rng = np.random.default_rng(config.seed)
    dur_norm = batch_size * train.opportunities_per_row
    best_params = None
    best_score = np.inf
    baseline = baseline_losses(train, val, weights) if val is not None else None
    report.val_baseline = None if baseline is None else [float(b) for b in baseline]
    bad_epochs = 0
    restore_best = config.checkpoint == "best"
    head_best = np.full(3, np.inf)
    w_heads = np.array([weights.profit, weights.success, weights.duration])
    for epoch in range(1, epochs + 1):
        train_sum = 0.0
        for idx, n_real in batch_iterate(len(train), batch_size, rng):
            loss = step(_batch(train, idx, n_real, dur_norm))
            mx.eval(state)
            train_sum += float(loss.item())
            report.steps += 1
        row = {"epoch": float(epoch), "train_loss": train_sum / steps_per_epoch}
        if val is not None:
            val_losses = evaluate_losses(net, val, weights)
            score = skill_score(val_losses[:3], baseline, weights)
            row.update(
                val_profit=val_losses[0],
                val_success=val_losses[1],
                val_duration=val_losses[2],
                val_loss=val_losses[3],
                val_score=score,
            )
            head_skill = val_losses[:3] / baseline
            head_improved = bool(np.any((head_skill < head_best - 1e-4) & (w_heads > 0)))
            head_best = np.minimum(head_best, head_skill)
            if score < best_score - 1e-6:
                best_score, bad_epochs, report.best_epoch = score, 0, epoch
                report.best_val_loss = float(val_losses[3])
                best_params = tree_map(lambda a: a, net.parameters())  # arrays are immutable
            elif head_improved:
                bad_epochs = 0
            else:
                bad_epochs += 1
        report.history.append({k: float(v) for k, v in row.items()})
        report.epochs_run = epoch
        if progress is not None:
            progress(f"epoch {epoch}/{epochs}", epoch, epochs)
        if restore_best and val is not None and bad_epochs >= config.patience:
            break
    if restore_best and best_params is not None:
        net.update(best_params)
        mx.eval(net.parameters())
        report.best_val_score = float(best_score)
    else:  # the final weights are kept: report their epoch and validation score
        report.best_epoch = report.epochs_run
        if report.history and "val_score" in report.history[-1]:
            report.best_val_score = report.history[-1]["val_score"]
            report.best_val_loss = report.history[-1]["val_loss"]
    report.seconds = time.perf_counter() - t0
    return report
