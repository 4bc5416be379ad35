"""Permutation feature importance of the three heads, measured on held-out rows.

A network has no split gains; the harness's ``feature_importance.json`` wants one number per
(head, feature). Shuffling one standardised input column and measuring how much each head's
loss grows is model-agnostic and cheap on a few thousand rows. Shares are normalised to sum to
1 per head (negative increases count as 0). ``hold_hours`` never matters to the duration head
(it does not see it), which this measures rather than assumes.
"""

from __future__ import annotations

import mlx.core as mx
import numpy as np

from arbscore.mlx_models.losses import LossWeights, head_losses
from arbscore.mlx_models.model import MultiHeadNet
from arbscore.mlx_models.train import TrainArrays, full_batch

HEAD_ORDER = ("profit", "success", "duration")


def _losses(net: MultiHeadNet, data: TrainArrays, weights: LossWeights) -> np.ndarray:
    batch = full_batch(data)
    parts = head_losses(net(batch.x), batch, weights)
    mx.eval(parts)
    return np.array(parts, dtype=np.float64)


def permutation_importance(
    net: MultiHeadNet,
    data: TrainArrays,
    feature_names: list[str],
    weights: LossWeights,
    max_rows: int = 4096,
    seed: int = 0,
) -> dict[str, dict[str, float]]:
    """{head: {feature: share of the loss increase}} from permuting one column at a time."""
    rng = np.random.default_rng(seed)
    if len(data) > max_rows:
        keep = np.sort(rng.choice(len(data), max_rows, replace=False))
        data = TrainArrays(*(getattr(data, f)[keep] for f in TrainArrays.__dataclass_fields__))
    base = _losses(net, data, weights)
    increase = np.zeros((len(feature_names), 3))
    for j in range(len(feature_names)):
        x = data.x.copy()
        x[:, j] = x[rng.permutation(len(x)), j]
        shuffled = TrainArrays(x, data.profit, data.success, data.duration_log, data.duration_mask)
        increase[j] = np.maximum(_losses(net, shuffled, weights) - base, 0.0)
    total = increase.sum(axis=0)
    share = np.divide(increase, total, out=np.zeros_like(increase), where=total > 0)
    return {
        head: {name: float(share[j, h]) for j, name in enumerate(feature_names)}
        for h, head in enumerate(HEAD_ORDER)
    }
