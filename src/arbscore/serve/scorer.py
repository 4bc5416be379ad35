"""In-process scoring of a bundle with ONNX Runtime: the server's engine, usable from a bot.

Tuned for single-opportunity latency: one InferenceSession per graph file (the MLX net's three
outputs share one), one intra-op thread (a tree ensemble of one row gains nothing from a pool
and pays its wake-up cost), sequential execution, full graph optimisation, float32 C-contiguous
inputs. Two passes per call: the duration head first, then profit and success at the predicted
optimal hold (clipped to the grid's range,
schema.clip_hold_hours) unless the caller gives the hold.

Imports only numpy, onnxruntime and arbscore's light modules (schema, features, manifest).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from arbscore.data_tools.features import FeatureSpec, build_rows
from arbscore.export.manifest import read_manifest
from arbscore.schema import HEADS, HOLD_COLUMN, clip_hold_hours
from arbscore.serve.composite import CompositeConfig, composite_score, composite_score_one


@dataclass(frozen=True)
class Predictions:
    """Per-row outputs, numpy float64 arrays of equal length."""

    profit_pct: np.ndarray
    success_probability: np.ndarray
    hold_hours: np.ndarray
    composite: np.ndarray


class Scorer:
    """Loads a bundle once; ``predict_matrix`` / ``predict_records`` are thread-safe."""

    def __init__(
        self,
        bundle_dir: Path | str,
        *,
        composite: CompositeConfig | None = None,
        verify: bool = True,
    ) -> None:
        self.bundle_dir = Path(bundle_dir)
        self.manifest = read_manifest(self.bundle_dir, verify=verify)
        try:
            self.spec = FeatureSpec.from_dict(self.manifest["feature_spec"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"bundle {self.bundle_dir}: bad feature_spec ({exc})") from exc
        if list(self.spec.feature_names) != list(self.manifest["feature_names"]):
            raise ValueError(
                f"bundle {self.bundle_dir}: manifest feature_names disagree with its feature_spec"
            )
        self.model_version = str(self.manifest["model_version"])
        self.composite_config = composite or CompositeConfig()
        self.n_features = self.spec.n_features
        self._sessions: dict[str, ort.InferenceSession] = {}
        self._heads: dict[str, tuple[str, str]] = {}
        for head in HEADS:
            entry = self.manifest["heads"].get(head)
            if not entry:
                raise ValueError(f"bundle {self.bundle_dir}: manifest has no head {head!r}")
            file, output = entry["file"], entry.get("output", head)
            if file not in self._sessions:
                self._sessions[file] = self._open(file)
            self._check_graph(file, output)
            self._heads[head] = (file, output)
        # group the profit/success outputs by session: one run per graph in the second pass
        self._second: dict[str, list[tuple[str, str]]] = {}
        for head in ("profit", "success"):
            file, output = self._heads[head]
            self._second.setdefault(file, []).append((head, output))

    def _open(self, file: str) -> ort.InferenceSession:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        try:
            return ort.InferenceSession(
                str(self.bundle_dir / file), sess_options=opts, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own types for invalid graphs
            raise ValueError(
                f"bundle {self.bundle_dir}: {file} is not a loadable ONNX graph ({exc})"
            ) from exc

    def _check_graph(self, file: str, output: str) -> None:
        sess = self._sessions[file]
        inputs = sess.get_inputs()
        if len(inputs) != 1 or inputs[0].name != "features":
            raise ValueError(
                f"bundle {self.bundle_dir}: {file} inputs {[i.name for i in inputs]}, "
                "expected one input named 'features'"
            )
        width = inputs[0].shape[1] if len(inputs[0].shape) == 2 else None
        if width != self.n_features:
            raise ValueError(
                f"bundle {self.bundle_dir}: {file} takes {width} features but the "
                f"manifest lists {self.n_features}"
            )
        if output not in [o.name for o in sess.get_outputs()]:
            raise ValueError(f"bundle {self.bundle_dir}: {file} has no output {output!r}")

    # --- scoring ----------------------------------------------------------------------------
    def _run(self, file: str, outputs: list[str], X: np.ndarray) -> list[np.ndarray]:
        return self._sessions[file].run(outputs, {"features": X})

    def predict_matrix(self, X: np.ndarray, hold_hours: np.ndarray | None = None) -> Predictions:
        """Score a feature matrix (``build_matrix`` output). ``hold_hours``: per-row hold to
        evaluate profit/success at (NaN = use the predicted optimal hold)."""
        X = np.ascontiguousarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"X has shape {X.shape}; expected (rows, {self.n_features})")
        file, output = self._heads["duration"]
        duration = self._run(file, [output], X)[0].reshape(-1).astype(np.float64)
        hold = clip_hold_hours(duration, grid=True)
        if hold_hours is not None:
            given = np.asarray(hold_hours, np.float64)
            hold = np.where(np.isnan(given), hold, given)
        X2 = X.copy()
        X2[:, -1] = hold
        result: dict[str, np.ndarray] = {}
        for file, pairs in self._second.items():
            values = self._run(file, [o for _, o in pairs], X2)
            for (head, _), v in zip(pairs, values, strict=False):
                result[head] = v.reshape(-1).astype(np.float64)
        if len(duration) == 1:
            one = composite_score_one(
                float(result["profit"][0]),
                float(result["success"][0]),
                float(duration[0]),
                self.composite_config,
            )
            composite = np.array([one])
        else:
            composite = composite_score(
                result["profit"], result["success"], duration, self.composite_config
            )
        return Predictions(result["profit"], result["success"], duration, composite)

    def features(self, records: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        """(X, hold) for snake_case records; hold is NaN where the record gives none.

        The hold column of X is the spec's fill value (the duration head's first pass must
        not see a caller's hold); ``predict_matrix`` sets it for the second pass."""
        hold = np.array(
            [np.nan if r.get(HOLD_COLUMN) is None else float(r[HOLD_COLUMN]) for r in records],
            np.float64,
        )
        rows = [
            {k: v for k, v in r.items() if k != HOLD_COLUMN} if HOLD_COLUMN in r else r
            for r in records
        ]
        return build_rows(rows, self.spec), hold

    def predict_records(self, records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Score snake_case opportunity dicts; returns the HTTP contract's dicts, in order."""
        if not records:
            return []
        X, hold = self.features(records)
        p = self.predict_matrix(X, hold)
        return [
            {
                "predicted_profit_pct": float(p.profit_pct[i]),
                "success_probability": float(p.success_probability[i]),
                "predicted_hold_hours": float(p.hold_hours[i]),
                "composite_score": float(p.composite[i]),
                "model_version": self.model_version,
            }
            for i in range(len(records))
        ]

    def known_strategy(self, value: str) -> bool:
        """Whether ``value`` names a strategy this bundle was trained on."""
        return self.spec.knows_strategy(value)
