"""The multi-head network: one shared trunk, three small heads. Plain layers on purpose.

Structure (``F`` inputs, the last one ``hold_hours``; all inputs standardised first):

    x_std   = clip((x - mean_) / scale_, -c, c)             (float32, F columns; c = input_clip)
    feats   = x_std[:, :F-1]                                 (every input except hold_hours)
    hold    = x_std[:, F-1:]                                 (standardised hold, 1 column)
    z       = act(... act(feats @ W_t0 + b_t0) ... @ W_tk + b_tk)        trunk, widths trunk_sizes
    profit  = act(concat(z, hold) @ W_p0 + b_p0) @ W_p1 + b_p1          percent of notional
    logit   = act(concat(z, hold) @ W_s0 + b_s0) @ W_s1 + b_s1          success logit
    dur_log = z @ W_d0 + b_d0                                           log1p(optimal hours)

With ``head_hidden == 0`` the profit and success heads are a single linear layer on
``concat(z, hold)``. The duration head never sees ``hold_hours``: the hold is an input of the
simulation, not something the optimal hold may depend on. Outputs served to users:

    profit_pct       = profit
    success_prob     = sigmoid(a * logit + b)          (a, b) = calibration_  (Platt)
    optimal_hold_h   = clip_hold_hours(exp(dur_log) - 1)   # [MIN_PREDICTED, MAX_HOLD] h

``act`` is ReLU or SiLU (x * sigmoid(x)). :func:`layer_params` lists every layer as a
:class:`LayerParams` with ``weight`` shaped (in, out), so ``y = x @ weight + bias``;
:func:`numpy_forward` is the reference implementation an exporter can check itself against.
"""

from __future__ import annotations

from typing import NamedTuple

import mlx.core as mx
import mlx.nn as nn
import numpy as np

from arbscore.mlx_models.config import MLXConfig, numpy_activation
from arbscore.schema import clip_hold_hours

HEAD_NAMES: tuple[str, ...] = ("trunk", "profit", "success", "duration")


class NetOutputs(NamedTuple):
    """Raw outputs of the network, one column per row of the input batch."""

    profit: mx.array  # percent of notional (standardised during training, see family)
    success_logit: mx.array  # uncalibrated logit of P(profit > 0)
    duration_log: mx.array  # log1p(optimal hold hours)


class LayerParams(NamedTuple):
    """One linear layer for exporters: ``y = activation(x @ weight + bias)``."""

    block: str  # "trunk" | "profit" | "success" | "duration"
    index: int  # position inside its block
    weight: np.ndarray  # float32, shape (in, out)
    bias: np.ndarray  # float32, shape (out,)
    activation: str  # "relu" | "silu" | "identity" (the last layer of each head)


def _activate(x: mx.array, name: str) -> mx.array:
    return nn.relu(x) if name == "relu" else nn.silu(x)


class MultiHeadNet(nn.Module):
    """Shared trunk on the non-hold inputs; hold-conditioned profit/success heads; duration head."""

    def __init__(self, n_features: int, config: MLXConfig) -> None:
        super().__init__()
        if n_features < 2:
            raise ValueError(f"need at least 2 input columns (features + hold), got {n_features}")
        self.activation = config.activation
        sizes = [n_features - 1, *config.trunk_sizes]
        self.trunk = [nn.Linear(i, o) for i, o in zip(sizes[:-1], sizes[1:], strict=True)]
        width = sizes[-1]
        self.profit = self._head(width + 1, config.head_hidden)
        self.success = self._head(width + 1, config.head_hidden)
        self.duration = [nn.Linear(width, 1)]

    @staticmethod
    def _head(n_in: int, hidden: int) -> list[nn.Linear]:
        if hidden == 0:
            return [nn.Linear(n_in, 1)]
        return [nn.Linear(n_in, hidden), nn.Linear(hidden, 1)]

    def _run(self, layers: list[nn.Linear], x: mx.array, last_linear: bool) -> mx.array:
        for i, layer in enumerate(layers):
            x = layer(x)
            if not (last_linear and i == len(layers) - 1):
                x = _activate(x, self.activation)
        return x

    def __call__(self, x_std: mx.array) -> NetOutputs:
        z = self._run(self.trunk, x_std[:, :-1], last_linear=False)
        zh = mx.concatenate([z, x_std[:, -1:]], axis=1)
        return NetOutputs(
            profit=self._run(self.profit, zh, last_linear=True)[:, 0],
            success_logit=self._run(self.success, zh, last_linear=True)[:, 0],
            duration_log=self._run(self.duration, z, last_linear=True)[:, 0],
        )


def layer_params(net: MultiHeadNet) -> list[LayerParams]:
    """Every linear layer in graph order (trunk, profit, success, duration) as numpy arrays."""
    out: list[LayerParams] = []
    for block in HEAD_NAMES:
        layers = getattr(net, block)
        for i, layer in enumerate(layers):
            is_last = i == len(layers) - 1
            act = "identity" if (block != "trunk" and is_last) else net.activation
            out.append(
                LayerParams(
                    block=block,
                    index=i,
                    weight=np.array(layer.weight, dtype=np.float32).T.copy(),
                    bias=np.array(layer.bias, dtype=np.float32),
                    activation=act,
                )
            )
    return out


def numpy_forward(
    params: list[LayerParams],
    x: np.ndarray,
    mean: np.ndarray,
    scale: np.ndarray,
    calibration: tuple[float, float],
    input_clip: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reference forward pass in numpy (float32): (profit_pct, success_prob, hold_hours).

    Mirrors the module docstring exactly; exporters compare their graphs with it.
    """
    xs = ((np.asarray(x, dtype=np.float32) - mean) / scale).astype(np.float32)
    if input_clip > 0:
        xs = np.clip(xs, -input_clip, input_clip)
    blocks: dict[str, list[LayerParams]] = {b: [] for b in HEAD_NAMES}
    for p in params:
        blocks[p.block].append(p)

    def run(layers: list[LayerParams], h: np.ndarray) -> np.ndarray:
        for p in layers:
            h = numpy_activation(h @ p.weight + p.bias, p.activation).astype(np.float32)
        return h

    z = run(blocks["trunk"], xs[:, :-1])
    zh = np.concatenate([z, xs[:, -1:]], axis=1)
    profit = run(blocks["profit"], zh)[:, 0]
    logit = run(blocks["success"], zh)[:, 0].astype(np.float64)
    a, b = calibration
    prob = 1.0 / (1.0 + np.exp(-(a * logit + b)))
    dur = clip_hold_hours(np.expm1(run(blocks["duration"], z)[:, 0]))
    return profit, prob, dur
