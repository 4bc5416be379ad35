"""The export-time parity check: every graph against its family's own ``predict`` on probe
rows, so a bundle never ships a graph that disagrees with the model it came from."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx

from arbscore.data_tools.features import FeatureSpec
from arbscore.data_tools.two_pass import hold_index
from arbscore.schema import HOLD_GRID_HOURS


def probe_matrix(
    spec: FeatureSpec, n: int, seed: int = 0, hold_grid: Sequence[float] = HOLD_GRID_HOURS
) -> np.ndarray:
    """Plausible rows around the spec's fill values (plus one-hot columns and a hold grid), for
    the export-time parity check. Not market data; only needs to visit many tree branches."""
    rng = np.random.default_rng(seed)
    fills = dict(spec.fill_values)
    centre = np.array([fills.get(name, 0.0) for name in spec.feature_names], np.float64)
    X = centre + rng.normal(0.0, 1.0, (n, centre.size)) * (np.abs(centre) + 1.0)
    onehot = [
        i
        for i, name in enumerate(spec.feature_names)
        if name.startswith(("strategy_", "market_regime_"))
    ]
    X[:, onehot] = rng.integers(0, 2, (n, len(onehot)))
    X[:, hold_index(spec.feature_names)] = rng.choice(hold_grid, n)
    return X.astype(np.float32)


def _onnx_outputs(model: onnx.ModelProto, X: np.ndarray) -> dict[str, np.ndarray]:
    import onnxruntime as ort

    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return {n: v.reshape(-1) for n, v in zip(names, sess.run(names, {"features": X}), strict=False)}


def check_parity(
    family: Any, graph: onnx.ModelProto, heads: list[str], X: np.ndarray, tolerance: float
) -> dict[str, float]:
    """Max |ONNX - family.predict| per head; raises ValueError above ``tolerance`` (relative
    to max(1, |native|), so hours and percents are judged alike)."""
    native = family.predict(X)
    got = _onnx_outputs(graph, X)
    errors = {}
    for head in heads:
        ref = np.asarray(getattr(native, head), np.float64)
        err = np.abs(got[head] - ref) / np.maximum(1.0, np.abs(ref))
        errors[head] = float(np.nanmax(err))
        if not errors[head] <= tolerance:
            raise ValueError(
                f"export parity check failed for head {head!r} of "
                f"{getattr(family, 'name', type(family).__name__)}: max relative "
                f"error {errors[head]:.3g} > {tolerance}"
            )
    return errors
