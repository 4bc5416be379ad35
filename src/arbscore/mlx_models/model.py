"""The multi-head network: input embeddings, one shared trunk, three ensembled heads.

Structure (``F`` inputs, the last one ``hold_hours``; layout from
:func:`~arbscore.mlx_models.embeddings.input_layout`: numeric columns ``num`` (hold excluded),
one-hot groups ``cat``):

    x_s     = clip((x - mean_) / scale_, -c, c)             c = input_clip (0: no clip)
    x_s     = x_s / sqrt(1 + (x_s / s)^2)                    s = smooth_clip (0: skipped)
    numeric = emb(x_s[:, num])       or x_s[:, num]          numeric_embedding ple|periodic|none
    hold_e  = emb_hold(x_s[:, F-1:]) or nothing              the hold's own embedding
    categ   = x_s[:, cat] @ E        or x_s[:, cat]          categorical_embedding_dim > 0 | 0
    z       = act(... act(concat(numeric, categ) @ W_t0 + b_t0) ... )    trunk, trunk_sizes
    zh      = concat(z, x_s[:, F-1:], hold_e)
    profit  = mean_i head_p_i(zh)       percent of notional (target scale folded in)
    logit   = mean_i head_s_i(zh)       success logit
    dur_log = mean_i head_d_i(z)        log1p(optimal hours); never sees hold_hours

Each head member is ``act(x @ W0 + b0) @ W1 + b1`` (``head_hidden`` > 0) or ``x @ W + b``;
``ensemble_size`` members per head, each trained on its own loss. Outputs served to users:

    profit_pct       = profit
    success_prob     = sigmoid(a * logit + b)          (a, b) = calibration_  (Platt)
    optimal_hold_h   = clip_hold_hours(exp(dur_log) - 1)   # [MIN_PREDICTED, MAX_HOLD] h

For exporters, :func:`input_params` gives the input stage as numpy (scaling, encodings,
per-feature weights, the categorical block matrix) and :func:`layer_params` every dense layer
with the ensembles folded into one wider head (weights (in, out), ``y = x @ weight + bias``);
:func:`numpy_forward` is the reference implementation an exporter checks itself against.
"""

from __future__ import annotations

from typing import NamedTuple

import mlx.core as mx
import mlx.nn as nn
import numpy as np

from arbscore.mlx_models.config import MLXConfig, numpy_activation
from arbscore.mlx_models.embeddings import (
    CategoricalEmbedding,
    EnsembleHead,
    InputLayout,
    NumericEmbedding,
)
from arbscore.mlx_models.reference import InputParams, numpy_inputs, numpy_scale
from arbscore.schema import clip_hold_hours

HEAD_NAMES: tuple[str, ...] = ("trunk", "profit", "success", "duration")


class NetOutputs(NamedTuple):
    """Raw outputs of the network: shape (N,) averaged, or (k, N) per ensemble member."""

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
    """Embedded inputs -> shared trunk -> k-member profit/success (hold-aware) and duration."""

    def __init__(
        self,
        layout: InputLayout,
        config: MLXConfig,
        ple_bins: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        super().__init__()
        if layout.hold < 1:
            raise ValueError(
                f"need at least 2 input columns (features + hold), got {layout.hold + 1}"
            )
        self.activation = config.activation
        self.kind = config.numeric_embedding
        self._numeric = list(layout.numeric) + [layout.hold]  # embedded together, hold last
        self._cat = list(layout.categorical_flat)
        n_num, n_cat = len(layout.numeric), len(self._cat)
        d = config.embedding_dim
        if self.kind != "none":
            size = config.n_bins if self.kind == "ple" else config.n_frequencies
            if self.kind == "ple" and ple_bins is None:
                lo = np.full((n_num + 1, size), 1e30, np.float32)
                ple_bins = (lo, np.ones_like(lo))  # placeholder; a load overwrites it
            lo, width = ple_bins if self.kind == "ple" else (None, None)
            self.embed = NumericEmbedding(
                self.kind, n_num + 1, size, d, lo, width, config.frequency_scale
            )
        num_width = n_num * d if self.kind != "none" else n_num
        if config.categorical_embedding_dim and layout.categorical:
            self.cat_embed = CategoricalEmbedding(
                layout.categorical, config.categorical_embedding_dim
            )
            cat_width = len(layout.categorical) * config.categorical_embedding_dim
        else:
            cat_width = n_cat
        sizes = [num_width + cat_width, *config.trunk_sizes]
        self.trunk = [nn.Linear(i, o) for i, o in zip(sizes[:-1], sizes[1:], strict=True)]
        width = sizes[-1]
        hold_width = 1 + (d if self.kind != "none" else 0)
        k, hidden = config.ensemble_size, config.head_hidden
        self.profit = EnsembleHead(width + hold_width, hidden, k, config.activation)
        self.success = EnsembleHead(width + hold_width, hidden, k, config.activation)
        self.duration = EnsembleHead(width, hidden, k, config.activation)

    def members(self, x_s: mx.array) -> NetOutputs:
        """Every ensemble member's outputs, each (k, N)."""
        num = x_s[:, mx.array(self._numeric)]
        parts = []
        hold = [x_s[:, -1:]]
        if self.kind != "none":
            emb = self.embed(num)
            cut = emb.shape[1] - emb.shape[1] // len(self._numeric)
            parts.append(emb[:, :cut])
            hold.append(emb[:, cut:])
        else:
            parts.append(num[:, :-1])
        if "cat_embed" in self:
            parts.append(self.cat_embed(x_s))
        elif self._cat:
            parts.append(x_s[:, mx.array(self._cat)])
        z = mx.concatenate(parts, axis=1)
        for layer in self.trunk:
            z = _activate(layer(z), self.activation)
        zh = mx.concatenate([z, *hold], axis=1)
        return NetOutputs(self.profit(zh), self.success(zh), self.duration(z))

    def __call__(self, x_s: mx.array) -> NetOutputs:
        out = self.members(x_s)
        return NetOutputs(*(mx.mean(a, axis=0) for a in out))


def layer_params(net: MultiHeadNet) -> list[LayerParams]:
    """Every dense layer in graph order (trunk, profit, success, duration) as numpy float32;
    each head's ensemble folded into one layer stack (see ``EnsembleHead.folded``)."""
    out: list[LayerParams] = []
    for i, layer in enumerate(net.trunk):
        w = np.array(layer.weight, dtype=np.float32).T.copy()
        out.append(LayerParams("trunk", i, w, np.array(layer.bias, np.float32), net.activation))
    for block in HEAD_NAMES[1:]:
        layers = getattr(net, block).folded()
        for i, (w, b) in enumerate(layers):
            act = "identity" if i == len(layers) - 1 else net.activation
            out.append(
                LayerParams(block, i, w.astype(np.float32), b.astype(np.float32).reshape(-1), act)
            )
    return out


def input_params(
    net: MultiHeadNet, mean: np.ndarray, scale: np.ndarray, config: MLXConfig
) -> InputParams:
    """The input stage of ``net`` (scaling statistics given by the family) as numpy."""
    kind = net.kind
    enc = width = ew = eb = None
    if kind != "none":
        e = net.embed
        enc = np.array(e.lo if kind == "ple" else e.freq, dtype=np.float32)
        width = np.array(e.width, dtype=np.float32) if kind == "ple" else None
        ew = np.array(e.weight, dtype=np.float32)
        eb = np.array(e.bias, dtype=np.float32)[:, 0, :]
    cat_matrix = net.cat_embed.block_matrix() if "cat_embed" in net else None
    return InputParams(
        mean=np.asarray(mean, np.float32),
        scale=np.asarray(scale, np.float32),
        input_clip=float(config.input_clip),
        smooth_clip=float(config.smooth_clip),
        numeric=np.asarray(net._numeric[:-1], np.int64),
        categorical=np.asarray(net._cat, np.int64),
        embedding=kind,
        encoding=enc,
        width=width,
        embed_weight=ew,
        embed_bias=eb,
        categorical_matrix=cat_matrix,
    )


def numpy_forward(
    params: list[LayerParams],
    inputs: InputParams,
    x: np.ndarray,
    calibration: tuple[float, float],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reference forward pass in numpy: (profit_pct, success_prob, hold_hours).

    Mirrors the module docstring exactly; exporters compare their graphs with it.
    """
    xs = numpy_scale(x, inputs)
    trunk_in, hold = numpy_inputs(inputs, xs)
    blocks: dict[str, list[LayerParams]] = {b: [] for b in HEAD_NAMES}
    for p in params:
        blocks[p.block].append(p)

    def run(layers: list[LayerParams], h: np.ndarray) -> np.ndarray:
        for p in layers:
            h = numpy_activation(h @ p.weight + p.bias, p.activation).astype(np.float32)
        return h

    z = run(blocks["trunk"], trunk_in.astype(np.float32))
    zh = np.concatenate([z, hold.astype(np.float32)], axis=1)
    profit = run(blocks["profit"], zh)[:, 0]
    logit = run(blocks["success"], zh)[:, 0].astype(np.float64)
    a, b = calibration
    prob = 1.0 / (1.0 + np.exp(-(a * logit + b)))
    dur = clip_hold_hours(np.expm1(run(blocks["duration"], z)[:, 0]))
    return profit, prob, dur
