"""The drift reference a bundle carries: histograms of its training inputs and outputs.

Written by ``export_bundle`` when the run directory has ``training_data.parquet``; read by
:mod:`arbscore.ops.drift`, which bins live rows on the same edges. Rows are one
per opportunity (the training set repeats each opportunity once per simulated hold, which would
weight the hold grid, not the market), at most ``max_rows`` of them, the newest kept. Outputs are
computed the way the server computes them: duration first, then profit and success at the
predicted hold clipped to the labelled holds, so live prediction drift compares like with like.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from arbscore.data_tools.features import FeatureSpec, build_matrix
from arbscore.data_tools.two_pass import hold_index, two_pass

REFERENCE_VERSION = 1


def histogram(values: np.ndarray, bins: int) -> dict[str, list[float]]:
    """Quantile edges (unique, so a one-hot column gets two bins) and the shares per bin."""
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"edges": [], "shares": [1.0]}
    edges = np.unique(np.quantile(v, np.linspace(0, 1, bins + 1)[1:-1]))
    edges = edges[edges > v.min()]  # an edge at the minimum only makes an always-empty bin
    counts = np.bincount(np.searchsorted(edges, v, side="right"), minlength=edges.size + 1)
    return {"edges": edges.tolist(), "shares": (counts / v.size).tolist()}


def reference_from_matrix(
    X: np.ndarray,
    feature_names: Sequence[str],
    predictions: Mapping[str, np.ndarray],
    *,
    bins: int = 10,
    source: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The manifest's ``reference`` block from training rows ``X`` and the bundle's outputs on
    them (``predictions``: head -> values, computed the way the server computes them)."""
    X = np.asarray(X, np.float64)
    if X.ndim != 2 or X.shape[1] != len(feature_names):
        raise ValueError(f"X has shape {X.shape}; expected (rows, {len(feature_names)})")
    return {
        "version": REFERENCE_VERSION,
        "rows": int(X.shape[0]),
        "bins": int(bins),
        "source": dict(source or {}),
        "features": {n: histogram(X[:, i], bins) for i, n in enumerate(feature_names)},
        "predictions": {h: histogram(np.asarray(v), bins) for h, v in predictions.items()},
    }


def served_outputs(
    winners: Mapping[str, tuple[str, Any]], X: np.ndarray, feature_names: Sequence[str]
) -> dict[str, np.ndarray]:
    """head -> outputs of the fitted winners on ``X`` (columns ``feature_names``) in the
    server's two passes (:func:`arbscore.data_tools.two_pass.two_pass`)."""

    def at_hold(X2: np.ndarray) -> dict[str, np.ndarray]:
        cache: dict[int, Any] = {}
        got = {}
        for head in ("profit", "success"):
            family = winners[head][1]
            if id(family) not in cache:
                cache[id(family)] = family.predict(X2)
            got[head] = np.asarray(getattr(cache[id(family)], head), np.float64)
        return got

    duration, _, out = two_pass(
        np.asarray(X, np.float32),
        hold_index(feature_names),
        lambda X1: winners["duration"][1].predict(X1).duration,
        at_hold,
    )
    return {"duration": duration, **out}


def bundle_reference(
    training_file: Path,
    spec: FeatureSpec,
    winners: Mapping[str, tuple[str, Any]],
    *,
    bins: int = 10,
    max_rows: int = 20_000,
) -> dict[str, Any]:
    """The manifest's ``reference`` block from a run's training set (see module docstring)."""
    from arbscore.data_tools.dataset_files import feature_columns, load_training_data

    frame = load_training_data(training_file)
    frame = frame.sort_values("timestamp", kind="mergesort")
    frame = frame.drop_duplicates("opportunity_id", keep="first").tail(max_rows)
    X = build_matrix(feature_columns(frame), spec)
    outputs = served_outputs(winners, X, spec.feature_names)
    source = {
        "file": Path(training_file).name,
        "start": frame["timestamp"].min().isoformat() if len(frame) else None,
        "end": frame["timestamp"].max().isoformat() if len(frame) else None,
        "opportunities": int(len(frame)),
    }
    return reference_from_matrix(X, spec.feature_names, outputs, bins=bins, source=source)
