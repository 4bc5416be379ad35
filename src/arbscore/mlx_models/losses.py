"""Pure loss functions of the three heads and their weighted sum.

Outputs may be (N,) or (k, N) (one row per ensemble member): each member's loss is computed
on its own and the members' losses are averaged. Every row carries a weight (0 for the padding
rows that keep batch shapes fixed) and a duration mask (1 on exactly one row per opportunity),
so profit and success average over the real (opportunity, hold) rows while the duration loss
counts each opportunity once. The duration sum
is divided by a constant (the expected number of opportunities per batch) rather than by the
count in the batch, so over an epoch every opportunity has exactly the same weight.
"""

from __future__ import annotations

from typing import NamedTuple

import mlx.core as mx

from arbscore.mlx_models.model import NetOutputs


class Batch(NamedTuple):
    """One fixed-shape batch of training rows (all float32, shape (B,) except x)."""

    x: mx.array  # standardised inputs, (B, F)
    profit: mx.array  # standardised profit target
    success: mx.array  # 0/1
    duration_log: mx.array  # log1p(optimal hold hours)
    row_weight: mx.array  # 1 for real rows, 0 for padding
    duration_mask: mx.array  # 1 on the one row per opportunity that trains the duration head
    duration_norm: mx.array  # scalar: expected number of duration rows per batch


class LossWeights(NamedTuple):
    profit: float
    success: float
    duration: float
    huber_delta: float


def huber(pred: mx.array, target: mx.array, delta: float) -> mx.array:
    """Elementwise Huber loss: quadratic within ``delta``, linear outside (robust to tails)."""
    err = mx.abs(pred - target)
    quad = mx.minimum(err, delta)
    return 0.5 * quad * quad + delta * (err - quad)


def bce_with_logits(logit: mx.array, target: mx.array) -> mx.array:
    """Elementwise binary cross-entropy on a logit, numerically stable."""
    return mx.logaddexp(mx.zeros_like(logit), logit) - target * logit


def weighted_mean(values: mx.array, weight: mx.array) -> mx.array:
    """sum(w * v) / sum(w) over rows (averaged over members when ``values`` is (k, N)), and 0
    when no row has weight (e.g. no duration row in a batch)."""
    return mx.mean(mx.sum(values * weight, axis=-1)) / mx.maximum(mx.sum(weight), 1e-12)


def head_losses(out: NetOutputs, batch: Batch, weights: LossWeights) -> mx.array:
    """The three per-head losses as one array [profit, success, duration]."""
    profit = weighted_mean(huber(out.profit, batch.profit, weights.huber_delta), batch.row_weight)
    success = weighted_mean(bce_with_logits(out.success_logit, batch.success), batch.row_weight)
    dur_w = batch.row_weight * batch.duration_mask
    dur_sum = mx.mean(mx.sum(huber(out.duration_log, batch.duration_log, 1.0) * dur_w, axis=-1))
    duration = dur_sum / mx.maximum(batch.duration_norm, 1e-12)
    return mx.stack([profit, success, duration])


def total_loss(parts: mx.array, weights: LossWeights) -> mx.array:
    """Weighted sum of the head losses (the quantity optimised and early-stopped on)."""
    w = mx.array([weights.profit, weights.success, weights.duration], dtype=mx.float32)
    return mx.sum(parts * w)
