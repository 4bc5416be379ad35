"""The MLX net's input stage in plain numpy (no MLX import): the reference for exporters.

Shared by :func:`arbscore.mlx_models.model.numpy_forward` and
:func:`arbscore.export.onnx_mlp.reference_forward` so the scaling, clips and embeddings are
written once; see :mod:`arbscore.mlx_models.model` for the definitions.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

#: lower edge of an unused PLE bin: (v - PAD) / 1 clips to 0 for any finite scaled input
PAD = 1e30


class InputParams(NamedTuple):
    """The input stage as numpy (see the module docstring); float32 arrays."""

    mean: np.ndarray  # (F,)
    scale: np.ndarray  # (F,)
    input_clip: float
    smooth_clip: float
    numeric: np.ndarray  # int64 column indices (hold excluded)
    categorical: np.ndarray  # int64 column indices of the one-hot groups, group by group
    embedding: str  # "none" | "ple" | "periodic"
    encoding: np.ndarray | None  # ple: lo (M+1, T); periodic: frequencies (M+1, K); hold last
    width: np.ndarray | None  # ple bin widths (M+1, T)
    embed_weight: np.ndarray | None  # (M+1, T', d)
    embed_bias: np.ndarray | None  # (M+1, d)
    categorical_matrix: np.ndarray | None  # (n_onehot, groups * dim) block-diagonal


def fit_ple_bins(values: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """(lo, width), each (M, n_bins) float32: quantile bins per column of ``values`` (N, M)."""
    v = np.asarray(values, dtype=np.float64)
    lo = np.full((v.shape[1], n_bins), PAD, dtype=np.float64)
    width = np.ones((v.shape[1], n_bins), dtype=np.float64)
    qs = np.linspace(0.0, 1.0, n_bins + 1)
    for m in range(v.shape[1]):
        edges = np.unique(np.quantile(v[:, m], qs)) if len(v) else np.zeros(1)
        k = len(edges) - 1
        if k >= 1:
            lo[m, :k] = edges[:-1]
            width[m, :k] = np.diff(edges)
    return lo.astype(np.float32), width.astype(np.float32)


def numpy_encode(kind: str, v: np.ndarray, lo_or_freq: np.ndarray, width: np.ndarray | None):
    """The encoding e(v) of every numeric column, (N, M, T'), in the dtype of ``v``."""
    if kind == "ple":
        return np.clip((v[:, :, None] - lo_or_freq) / width, 0.0, 1.0)
    angle = (2.0 * math.pi) * v[:, :, None] * lo_or_freq
    return np.concatenate([np.sin(angle), np.cos(angle)], axis=2)


def numpy_scale(x: np.ndarray, p: InputParams, dtype=np.float32) -> np.ndarray:
    """The scaling + clips of the model docstring, in ``dtype``."""
    xs = ((np.asarray(x, dtype=dtype) - p.mean.astype(dtype)) / p.scale.astype(dtype)).astype(dtype)
    if p.input_clip > 0:
        xs = np.clip(xs, -p.input_clip, p.input_clip)
    if p.smooth_clip > 0:
        xs = (xs / np.sqrt(1.0 + (xs / p.smooth_clip) ** 2)).astype(dtype)
    return xs


def numpy_inputs(p: InputParams, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(trunk input, extra head inputs of the hold) from scaled rows ``xs``."""
    hold = [xs[:, -1:]]
    if p.embedding != "none":
        v = xs[:, [*p.numeric.tolist(), xs.shape[1] - 1]]
        enc = numpy_encode(p.embedding, v, p.encoding, p.width)
        emb = np.maximum(np.einsum("nmt,mtd->nmd", enc, p.embed_weight) + p.embed_bias, 0.0)
        numeric = emb[:, :-1].reshape(len(xs), -1)
        hold.append(emb[:, -1])
    else:
        numeric = xs[:, p.numeric]
    parts = [numeric]
    if len(p.categorical):
        cat = xs[:, p.categorical]
        parts.append(cat @ p.categorical_matrix if p.categorical_matrix is not None else cat)
    return np.concatenate(parts, axis=1), np.concatenate(hold, axis=1)
