"""Input layers of the MLX net: numerical-feature embeddings, categorical embeddings, ensembles.

After Gorishniy et al. 2022 ("On Embeddings for Numerical Features in Tabular Deep Learning"),
each scaled numeric input ``v`` becomes a small vector before the trunk:

    ple:       e_t(v) = clip((v - lo_t) / width_t, 0, 1), t = 1..n_bins, where the bin edges
               are quantiles of the training rows (a feature with fewer distinct values gets
               fewer bins; the spare ones have lo = PAD and never fire)
    periodic:  e(v) = [sin(2 pi c v), cos(2 pi c v)] with trained frequencies c (n_frequencies)
    then       emb(v) = relu(e(v) @ W_m + b_m)   per feature m, W_m shaped (len(e), embedding_dim)

The one-hot groups of the feature spec (``strategy_*``, ``market_regime_*``) are categorical:
with ``categorical_embedding_dim`` d > 0 each group's one-hot block maps to a learnt d-vector
(``onehot @ E_g``: an embedding lookup). :class:`EnsembleHead` holds k members of one head, each
``act(x @ W0_i + b0_i) @ W1_i + b1_i``, and returns all k outputs (trained each on its own loss,
averaged for prediction). The numpy helpers here are the reference the exporters check against.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import mlx.core as mx
import mlx.nn as nn
import numpy as np

from arbscore.data_tools.features.columns import CATEGORICAL
from arbscore.schema import HOLD_COLUMN


class InputLayout(NamedTuple):
    """Which input columns are numeric (hold excluded), which one-hot, and where the hold is."""

    numeric: tuple[int, ...]
    categorical: tuple[tuple[int, ...], ...]  # one tuple of column indices per one-hot group
    hold: int

    @property
    def categorical_flat(self) -> tuple[int, ...]:
        return tuple(i for group in self.categorical for i in group)


def input_layout(feature_names: list[str]) -> InputLayout:
    """Split ``feature_names`` (hold last) into numeric columns and one-hot groups."""
    if not feature_names or feature_names[-1] != HOLD_COLUMN:
        raise ValueError(f"the last feature must be {HOLD_COLUMN!r}, got {feature_names[-1:]}")
    groups = []
    taken: set[int] = set()
    for cat in CATEGORICAL:
        idx = tuple(
            i
            for i, n in enumerate(feature_names[:-1])
            if n.startswith(f"{cat}_") and i not in taken
        )
        if idx:
            groups.append(idx)
            taken.update(idx)
    numeric = tuple(i for i in range(len(feature_names) - 1) if i not in taken)
    return InputLayout(numeric, tuple(groups), len(feature_names) - 1)


class NumericEmbedding(nn.Module):
    """PLE or periodic encoding + per-feature linear + ReLU, for M columns -> (N, M * d)."""

    def __init__(
        self, kind: str, n_columns: int, size: int, dim: int, lo=None, width=None, sigma=0.1
    ) -> None:
        super().__init__()
        self.kind = kind
        if kind == "ple":
            self.lo = mx.array(np.asarray(lo, np.float32))
            self.width = mx.array(np.asarray(width, np.float32))
            n_in = size
        else:
            self.freq = sigma * mx.random.normal((n_columns, size))
            n_in = 2 * size
        bound = 1.0 / math.sqrt(n_in)
        self.weight = mx.random.uniform(-bound, bound, (n_columns, n_in, dim))
        self.bias = mx.random.uniform(-bound, bound, (n_columns, 1, dim))
        if kind == "ple":
            self.freeze(keys=["lo", "width"])  # fitted on training rows, not trained

    def __call__(self, v: mx.array) -> mx.array:
        if self.kind == "ple":
            enc = mx.clip((v[:, :, None] - self.lo) / self.width, 0.0, 1.0)
        else:
            angle = (2.0 * math.pi) * v[:, :, None] * self.freq
            enc = mx.concatenate([mx.sin(angle), mx.cos(angle)], axis=2)
        out = nn.relu(mx.matmul(enc.transpose(1, 0, 2), self.weight) + self.bias)  # (M, N, d)
        return out.transpose(1, 0, 2).reshape(v.shape[0], -1)


class EnsembleHead(nn.Module):
    """k members of one head on the same input; ``__call__`` returns (k, N)."""

    def __init__(self, n_in: int, hidden: int, k: int, activation: str) -> None:
        super().__init__()
        self.activation = activation
        sizes = [n_in, hidden, 1] if hidden else [n_in, 1]
        self.weights = []
        self.biases = []
        for i, o in zip(sizes[:-1], sizes[1:], strict=True):
            bound = 1.0 / math.sqrt(i)
            self.weights.append(mx.random.uniform(-bound, bound, (k, i, o)))
            self.biases.append(mx.random.uniform(-bound, bound, (k, 1, o)))

    def __call__(self, x: mx.array) -> mx.array:
        h = x[None]
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = mx.matmul(h, w) + b
            if i < last:
                h = nn.relu(h) if self.activation == "relu" else nn.silu(h)
        return h[:, :, 0]

    def folded(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The member average as plain layers [(weight (in, out), bias (out,))]: the first
        layers side by side, the last stacked and divided by k (exact: a mean is linear)."""
        ws = [np.array(w, dtype=np.float64) for w in self.weights]
        bs = [np.array(b, dtype=np.float64)[:, 0, :] for b in self.biases]
        k = ws[0].shape[0]
        if len(ws) == 1:
            return [(ws[0].mean(axis=0), bs[0].mean(axis=0))]
        first_w = np.concatenate(list(ws[0]), axis=1)  # (in, k * hidden)
        first_b = bs[0].reshape(-1)
        last_w = np.concatenate(list(ws[1]), axis=0) / k  # (k * hidden, 1)
        return [(first_w, first_b), (last_w, bs[1].mean(axis=0))]


class CategoricalEmbedding(nn.Module):
    """One learnt vector per category of each one-hot group: ``onehot_g @ E_g``, concatenated."""

    def __init__(self, groups: tuple[tuple[int, ...], ...], dim: int) -> None:
        super().__init__()
        self._groups = [list(g) for g in groups]
        self.tables = [mx.random.normal((len(g), dim)) for g in groups]

    def __call__(self, x: mx.array) -> mx.array:
        parts = [x[:, mx.array(g)] @ t for g, t in zip(self._groups, self.tables, strict=True)]
        return mx.concatenate(parts, axis=1)

    def block_matrix(self) -> np.ndarray:
        """(n_onehot, groups * dim): the tables on the diagonal, for plain-matmul exporters."""
        tables = [np.array(t, dtype=np.float32) for t in self.tables]
        rows = sum(t.shape[0] for t in tables)
        cols = sum(t.shape[1] for t in tables)
        out = np.zeros((rows, cols), dtype=np.float32)
        r = c = 0
        for t in tables:
            out[r : r + t.shape[0], c : c + t.shape[1]] = t
            r, c = r + t.shape[0], c + t.shape[1]
        return out
