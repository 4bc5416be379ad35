"""The drift reference a bundle carries: histograms of its training inputs and outputs.

Called by ``export_bundle`` when the run directory has ``training_data.parquet``. Rows are one
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
from arbscore.ops.drift import reference_from_matrix


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
