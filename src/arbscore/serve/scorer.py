"""In-process scoring of a bundle with ONNX Runtime: the server's engine, usable from a bot.

Tuned for single-opportunity latency: one InferenceSession per graph file (the MLX net's three
outputs share one), one intra-op thread (a tree ensemble of one row gains nothing from a pool
and pays its wake-up cost), sequential execution, full graph optimisation, float32 C-contiguous
inputs. Two passes per call (:func:`arbscore.data_tools.two_pass.two_pass`): the duration head
first, then profit and success at the predicted optimal hold (clipped to the labelled holds)
unless the caller gives the hold.

``predict_records`` takes the same records as ``POST /predict`` through the same parser
(:func:`arbscore.serve.records.opportunity_record`: camelCase or snake_case, required fields,
defaults, the same errors as :class:`~arbscore.serve.records.RecordError`) and returns the same
answers, rounded the same way (``serve/answers.py``): one request path, bit for bit.

Imports only numpy, onnxruntime, pydantic and arbscore's light modules (schema, features,
manifest).
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from arbscore.composite import CompositeConfig, composite_score_one
from arbscore.data_tools.features import FeatureSpec, build_rows
from arbscore.data_tools.features.inputs import inputs_from_manifest
from arbscore.data_tools.two_pass import hold_index, served_hold, two_pass
from arbscore.export.manifest import MANIFEST_FILE, BundleTerms, read_manifest, sha256_file
from arbscore.schema import HEADS, HOLD_COLUMN
from arbscore.serve.answers import (
    EntryRule,
    Units,
    interval_answer,
    profit_interval,
    rounded,
    training_notional_usd,
    usd,
)
from arbscore.serve.onerow import OneRow
from arbscore.serve.records import Parsed, RequestSchema, opportunity_record, without_hold


@dataclass(frozen=True)
class Predictions:
    """Per-row outputs, numpy float64 arrays of equal length."""

    profit_pct: np.ndarray
    success_probability: np.ndarray
    hold_hours: np.ndarray
    composite: np.ndarray


log = logging.getLogger(__name__)


def _manifest_hash(root: Path) -> str | None:
    try:
        return sha256_file(root / MANIFEST_FILE)
    except OSError:
        return None  # read_manifest says why


class Scorer:
    """Loads a bundle once; ``predict_matrix`` / ``predict_records`` are thread-safe."""

    def __init__(
        self,
        bundle_dir: Path | str,
        *,
        composite: CompositeConfig | None = None,
        verify: bool = True,
    ) -> None:
        start = time.perf_counter()
        self.bundle_dir = Path(bundle_dir)
        # resolved once: a symlink swapped mid-load (ops/retrain's ``current``) cannot mix two
        # bundles; each graph is read once as bytes and checked against this manifest's hash
        self._root = Path(os.path.realpath(self.bundle_dir))
        before = _manifest_hash(self._root)
        self.manifest = read_manifest(self._root, verify=verify)
        self.manifest_sha256 = _manifest_hash(self._root)
        if before != self.manifest_sha256:
            raise ValueError(f"bundle {self.bundle_dir}: manifest changed while loading; retry")
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
        try:
            self.hold_col = hold_index(self.spec.feature_names)
            self.entry_rule = EntryRule.from_manifest(self.manifest)
        except ValueError as exc:
            raise ValueError(f"bundle {self.bundle_dir}: {exc}") from exc
        self.notional_usd = training_notional_usd(self.manifest)
        self.interval = profit_interval(self.manifest, self.bundle_dir)
        try:
            self.terms = BundleTerms.from_manifest(self.manifest)
            self.request = RequestSchema.build(
                inputs_from_manifest(
                    self.manifest.get("inputs"), self.spec, self.terms.max_hold_hours
                ),
                self.spec,
            )
        except (ValueError, TypeError) as exc:
            raise ValueError(f"bundle {self.bundle_dir}: {exc}") from exc
        self.units = Units.of_bundle(self.manifest)
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
        self._one = None
        self._probe_batch()
        self._one = OneRow.build(
            self._sessions,
            self._heads,
            self._second,
            self.n_features,
            self.hold_col,
            self.terms.hold_grid_hours,
        )
        if self._one is not None and not self._one_row_agrees():
            log.warning("bundle %s: one-row path disagrees, using the batch path", bundle_dir)
            self._one = None
        log.info(
            "loaded bundle %s (model %s, %d ONNX graphs) in %.3fs",
            self.bundle_dir,
            self.model_version,
            len(self._sessions),
            time.perf_counter() - start,
        )

    def _open(self, file: str) -> ort.InferenceSession:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        try:
            graph = (self._root / file).read_bytes()
        except OSError as exc:
            raise ValueError(f"bundle {self.bundle_dir}: cannot read {file} ({exc})") from exc
        expected = self.manifest["files"].get(file)
        if hashlib.sha256(graph).hexdigest() != expected:
            raise ValueError(
                f"bundle {self.bundle_dir}: {file} does not match the manifest's sha256 (the "
                "bundle changed while loading); retry"
            )
        try:
            return ort.InferenceSession(
                graph, sess_options=opts, providers=["CPUExecutionProvider"]
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
        if inputs[0].type != "tensor(float)":
            raise ValueError(
                f"bundle {self.bundle_dir}: {file} input 'features' is {inputs[0].type}, "
                "expected tensor(float) (float32; re-export the bundle)"
            )
        width = inputs[0].shape[1] if len(inputs[0].shape) == 2 else None
        if width != self.n_features:
            raise ValueError(
                f"bundle {self.bundle_dir}: {file} takes {width} features but the "
                f"manifest lists {self.n_features}"
            )
        if output not in [o.name for o in sess.get_outputs()]:
            raise ValueError(f"bundle {self.bundle_dir}: {file} has no output {output!r}")

    def _probe_batch(self) -> None:
        """Score probe rows through the batch path: a bundle whose graphs fail or answer
        non-finite values (a wrong input dtype, a fixed batch size) never loads, so a reload
        cannot swap in a model that answers 500."""
        X, hold = self.features([{}, {HOLD_COLUMN: 72.0}, {}])
        try:
            p = self.predict_matrix(X, hold)
        except Exception as exc:  # onnxruntime raises its own types
            raise ValueError(
                f"bundle {self.bundle_dir}: its graphs fail on probe rows ({exc})"
            ) from exc
        values = np.concatenate([p.profit_pct, p.success_probability, p.hold_hours])
        if not np.isfinite(values).all():
            raise ValueError(f"bundle {self.bundle_dir}: its graphs answer NaN/inf on probe rows")

    def _one_row_agrees(self) -> bool:
        """Whether :class:`OneRow` answers the batch path's exact floats on probe rows (the
        spec's fill values, at the predicted hold and at a given one)."""
        X = self.features([{}, {HOLD_COLUMN: 72.0}])[0]

        def probes() -> list[Predictions]:
            return [
                self.predict_matrix(X[i : i + 1], np.array([h]))
                for i, h in ((0, np.nan), (1, 72.0))
            ]

        one, self._one = self._one, None
        try:
            want = probes()
            self._one = one
            got = probes()
        except Exception:  # noqa: BLE001 - any failure of the binding path: keep the batch path
            log.exception("one-row path failed its probe")
            return False
        return all(
            np.array_equal(getattr(w, k), getattr(g, k), equal_nan=True)
            for w, g in zip(want, got, strict=True)
            for k in ("profit_pct", "success_probability", "hold_hours", "composite")
        )

    # --- scoring ----------------------------------------------------------------------------
    def _run(self, file: str, outputs: list[str], X: np.ndarray) -> list[np.ndarray]:
        return self._sessions[file].run(outputs, {"features": X})

    def predict_matrix(self, X: np.ndarray, hold_hours: np.ndarray | None = None) -> Predictions:
        """Score a feature matrix (``build_matrix`` output). ``hold_hours``: per-row hold to
        evaluate profit/success at (NaN = use the predicted optimal hold)."""
        X = np.ascontiguousarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"X has shape {X.shape}; expected (rows, {self.n_features})")
        if len(X) == 1 and self._one is not None:
            given = math.nan if hold_hours is None else float(np.asarray(hold_hours).reshape(-1)[0])
            profit, success, duration = self._one.predict(X, given)
            composite = composite_score_one(
                profit, success, duration, self.composite_config, self.terms.hold_grid_hours
            )
            return Predictions(
                np.array([profit]), np.array([success]), np.array([duration]), np.array([composite])
            )
        file, output = self._heads["duration"]

        def at_hold(X2: np.ndarray) -> dict[str, np.ndarray]:
            got: dict[str, np.ndarray] = {}
            for f, pairs in self._second.items():
                values = self._run(f, [o for _, o in pairs], X2)
                for (head, _), v in zip(pairs, values, strict=False):
                    got[head] = v.reshape(-1).astype(np.float64)
            return got

        duration, _, result = two_pass(
            X,
            self.hold_col,
            lambda X1: self._run(file, [output], X1)[0],
            at_hold,
            None if hold_hours is None else np.asarray(hold_hours, np.float64),
            self.terms.hold_grid_hours,
        )
        composite = self._composite(result["profit"], result["success"], duration)
        return Predictions(result["profit"], result["success"], duration, composite)

    def _composite(self, profit: np.ndarray, success: np.ndarray, hold: np.ndarray) -> np.ndarray:
        """The composite per row through the scalar formula, whatever the batch size: numpy's
        vector loops for exp/arcsinh may differ from libm's scalar ones in the last bit on some
        CPUs (seen on AMD EPYC, numpy 2.4), so the array form would make a row's score depend
        on the batch it came in. One row costs ~1 us, small beside the graphs."""
        cfg, grid = self.composite_config, self.terms.hold_grid_hours
        return np.fromiter(
            (
                composite_score_one(p, s, h, cfg, grid)
                for p, s, h in zip(profit.tolist(), success.tolist(), hold.tolist(), strict=True)
            ),
            np.float64,
            count=len(profit),
        )

    def features(self, records: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        """(X, hold) for snake_case records already in the feature layer's form (a pipeline's
        rows: no validation, no request defaults; missing fields take the spec's fill values);
        hold is NaN where the record gives none. Requests go through :meth:`parse`.

        The hold column of X is the spec's fill value (the duration head's first pass must
        not see a caller's hold); ``predict_matrix`` sets it for the second pass."""
        hold = np.array(
            [np.nan if r.get(HOLD_COLUMN) is None else float(r[HOLD_COLUMN]) for r in records],
            np.float64,
        )
        return build_rows([without_hold(r) for r in records], self.spec), hold

    def predict_rows(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Score pipeline rows (:meth:`features`: the feature layer's fill values, no request
        validation or defaults, unrounded): the semantics of the raw-input ONNX graph. The
        four predictions and ``model_version`` per row, in order."""
        if not rows:
            return []
        X, hold = self.features(rows)
        p = self.predict_matrix(X, hold)
        return [
            {
                "predicted_profit_pct": float(p.profit_pct[i]),
                "success_probability": float(p.success_probability[i]),
                "predicted_hold_hours": float(p.hold_hours[i]),
                "composite_score": float(p.composite[i]),
                "model_version": self.model_version,
            }
            for i in range(len(rows))
        ]

    def parse(
        self,
        records: Sequence[Any],
        *,
        now: datetime | None = None,
        loc: Sequence = (),
        index: bool = True,
    ) -> list[Parsed]:
        """Validate raw records (camelCase or snake_case) the way ``POST /predict`` does.

        ``now``: the clock for hour/day when a record has no ``timestamp`` (default: now, UTC).
        Error paths start with ``loc``, then the record's index when ``index``. Raises
        :class:`~arbscore.serve.records.RecordError` naming the first bad record's fields."""
        now = now or datetime.now(timezone.utc)
        return [
            opportunity_record(r, self.request, now, (*loc, i) if index else tuple(loc))
            for i, r in enumerate(records)
        ]

    def answer(self, parsed: Sequence[Parsed]) -> list[dict[str, Any]]:
        """Score parsed records: the answer dicts of ``POST /predict``, in order."""
        if not parsed:
            return []
        X, hold = self.features([p.record for p in parsed])
        p = self.predict_matrix(X, hold)
        served = served_hold(p.hold_hours, hold, self.terms.hold_grid_hours)
        out = []
        for i, item in enumerate(parsed):
            profit = rounded(p.profit_pct[i])
            success = rounded(p.success_probability[i])
            notional = self.notional_usd if item.notional_usd is None else item.notional_usd
            out.append(
                {
                    "predicted_profit_pct": profit,
                    "success_probability": success,
                    "predicted_hold_hours": rounded(p.hold_hours[i]),
                    "composite_score": rounded(p.composite[i]),
                    "model_version": self.model_version,
                    "decision": self.entry_rule.decide(profit, success),
                    "notional_usd": usd(notional),
                    "expected_pnl_usd": usd(profit / 100.0 * notional),
                    "filled_defaults": list(item.filled),
                    **self.units(profit, served[i], notional, item.record),
                    "profit_interval_pct": interval_answer(self.interval, profit, served[i]),
                }
            )
        return out

    def predict_records(
        self, records: Sequence[Any], *, now: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Score raw opportunity records (camelCase or snake_case) exactly as ``POST
        /predict/batch`` does: same validation, defaults, errors (``RecordError``, a
        ``ValueError``; paths ``[index, field]``) and rounded answers."""
        return self.answer(self.parse(records, now=now))

    def known_strategy(self, value: str) -> bool:
        """Whether ``value`` names a strategy this bundle was trained on."""
        return self.spec.knows_strategy(value)
