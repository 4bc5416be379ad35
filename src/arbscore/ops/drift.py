"""Drift: per-feature population stability index (PSI) and prediction-distribution drift
against the bundle's training reference.

The reference (``manifest["reference"]``, written at export by
:func:`arbscore.export.reference.reference_from_matrix`)
holds, per model input and per head output, quantile bin edges fitted on the training rows and
the share of training rows in each bin. Live rows are binned on the same edges, so PSI compares
like with like: ``PSI = sum((a - e) * ln(a / e))`` over bins, shares floored at ``EPS`` so an
empty bin is a large but finite number. Rule of thumb (configurable): < 0.1 stable, 0.1-0.25
moderate shift, > 0.25 the model is scoring a population it was not trained on.

Minimum sample: PSI over a handful of rows measures the sample, not the population (5 rows
against ten decile bins leave at least five empty: PSI 3.8 when they spread over five bins, 8.3
when they share one; an "alert" on every input either way). Below
``MIN_DRIFT_ROWS`` rows a report holds no PSI at all and says "not enough rows (n < N)"; the
``arbscore drift`` command, the server's ``/metrics`` gauges and the dashboard all read that
one rule through :func:`drift_report`.

numpy only: the server imports this module for its ``/metrics`` drift gauges (no pandas).
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

EPS = 1e-4
#: fewest rows a drift report computes PSI on (CLI, /metrics and dashboard alike)
MIN_DRIFT_ROWS = 50
#: the status of a report below the minimum sample
NOT_ENOUGH_ROWS = "not enough rows"
PREDICTION_KEYS = {
    "profit": "predicted_profit_pct",
    "success": "success_probability",
    "duration": "predicted_hold_hours",
}


@dataclass(frozen=True)
class DriftConfig:
    """PSI thresholds (warn / alert), the number of reference bins, and how many recent live
    rows the server's monitor keeps (``window``) and needs before it reports (``min_rows``)."""

    warn_psi: float = 0.1
    alert_psi: float = 0.25
    bins: int = 10
    window: int = 5000
    min_rows: int = MIN_DRIFT_ROWS

    def __post_init__(self) -> None:
        if not 0 < self.warn_psi <= self.alert_psi:
            raise ValueError(
                f"drift thresholds: need 0 < warn_psi ({self.warn_psi}) <= alert_psi "
                f"({self.alert_psi})"
            )
        if self.bins < 2:
            raise ValueError(f"drift bins={self.bins}: need >= 2")
        if self.window < 1 or self.min_rows < 1:
            raise ValueError("drift window and min_rows must be >= 1")

    def level(self, value: float) -> str:
        """``ok`` / ``warn`` / ``alert`` (``n/a`` when undefined) for one PSI value."""
        if not math.isfinite(value):
            return "n/a"
        return "alert" if value >= self.alert_psi else "warn" if value >= self.warn_psi else "ok"


def bin_shares(edges: Sequence[float], values: np.ndarray) -> np.ndarray:
    """Share of ``values`` (finite ones) in each bin of ``edges`` (len(edges) + 1 bins)."""
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v)]
    e = np.asarray(edges, np.float64)
    if v.size == 0:
        return np.full(e.size + 1, np.nan)
    counts = np.bincount(np.searchsorted(e, v, side="right"), minlength=e.size + 1)
    return counts / v.size


def psi(expected: Sequence[float], actual: Sequence[float]) -> float:
    """Population stability index of two share vectors over the same bins (NaN if no data)."""
    e = np.maximum(np.asarray(expected, np.float64), EPS)
    a = np.asarray(actual, np.float64)
    if e.shape != a.shape:
        raise ValueError(f"psi: {e.size} expected bins but {a.size} actual bins")
    if not np.all(np.isfinite(a)):
        return math.nan
    a = np.maximum(a, EPS)
    return float(np.sum((a - e) * np.log(a / e)))


@dataclass(frozen=True)
class DriftReport:
    """PSI per feature and per head, the rows compared, and the level of each."""

    rows: int
    features: dict[str, float]
    predictions: dict[str, float]
    config: DriftConfig = field(default_factory=DriftConfig)

    @property
    def enough_rows(self) -> bool:
        """Whether the report has the minimum sample (``config.min_rows``) and so its PSI."""
        return self.rows >= self.config.min_rows

    @property
    def note(self) -> str:
        """``not enough rows (4 < 50)`` below the minimum sample, else ''."""
        return (
            "" if self.enough_rows else f"{NOT_ENOUGH_ROWS} ({self.rows} < {self.config.min_rows})"
        )

    @property
    def worst_feature(self) -> tuple[str, float] | None:
        finite = {k: v for k, v in self.features.items() if math.isfinite(v)}
        return max(finite.items(), key=lambda kv: kv[1]) if finite else None

    @property
    def status(self) -> str:
        """The worst level over every feature and head (``n/a`` without data, ``not enough
        rows`` below the minimum sample)."""
        if not self.enough_rows:
            return NOT_ENOUGH_ROWS
        levels = [
            self.config.level(v) for v in (*self.features.values(), *self.predictions.values())
        ]
        for level in ("alert", "warn", "ok"):
            if level in levels:
                return level
        return "n/a"

    def to_dict(self) -> dict[str, Any]:
        clean = lambda d: {k: (v if math.isfinite(v) else None) for k, v in d.items()}  # noqa: E731
        return {
            "rows": self.rows,
            "min_rows": self.config.min_rows,
            "status": self.status,
            "note": self.note or None,
            "thresholds": {"warn_psi": self.config.warn_psi, "alert_psi": self.config.alert_psi},
            "features": clean(self.features),
            "predictions": clean(self.predictions),
        }


def drift_report(
    reference: Mapping[str, Any],
    X: np.ndarray,
    feature_names: Sequence[str],
    predictions: Mapping[str, np.ndarray],
    config: DriftConfig = DriftConfig(),
) -> DriftReport:
    """PSI of live rows ``X`` (bundle encoding) and live ``predictions`` against ``reference``.

    Features absent from the reference (or the hold column, which the server sets to the
    predicted hold) are skipped; a reference without a block raises ValueError. Fewer than
    ``config.min_rows`` rows give a report without PSI values (status ``not enough rows``)."""
    if not reference or "features" not in reference:
        raise ValueError(
            "bundle has no drift reference (manifest 'reference'); re-export it with this "
            "arbscore (export writes one when the run directory has training_data.parquet)"
        )
    X = np.asarray(X, np.float64)
    if X.shape[0] < config.min_rows:
        return DriftReport(int(X.shape[0]), {}, {}, config)
    feats: dict[str, float] = {}
    for i, name in enumerate(feature_names):
        ref = reference["features"].get(name)
        if ref is None or name == "hold_hours":
            continue
        feats[name] = psi(ref["shares"], bin_shares(ref["edges"], X[:, i])) if len(X) else math.nan
    preds: dict[str, float] = {}
    for head, ref in reference.get("predictions", {}).items():
        values = np.asarray(predictions.get(head, []), np.float64)
        preds[head] = (
            psi(ref["shares"], bin_shares(ref["edges"], values)) if values.size else math.nan
        )
    return DriftReport(int(X.shape[0]), feats, preds, config)


class DriftMonitor:
    """A prediction sink for the server: keeps the last ``config.window`` scored rows and renders
    Prometheus gauges ``arbscore_feature_psi{feature}``, ``arbscore_prediction_psi{head}`` and
    ``arbscore_drift_status`` (0 ok, 1 warn, 2 alert, -1 not enough rows / no reference).

    The bundle (and so the reference) comes from the scorer passed with each batch; a reload to a
    new model version clears the window, since drift is measured against the serving model."""

    def __init__(self, config: DriftConfig = DriftConfig()) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._rows: deque[np.ndarray] = deque(maxlen=config.window)
        self._preds: deque[tuple[float, float, float]] = deque(maxlen=config.window)
        self._version: str | None = None
        self._reference: Mapping[str, Any] | None = None
        self._names: tuple[str, ...] = ()

    def __call__(
        self,
        scorer: Any,
        records: Sequence[Mapping],
        predictions: Sequence[Mapping],
        raw: Any = None,
    ) -> None:
        X, _ = scorer.features(records)
        with self._lock:
            if scorer.model_version != self._version:
                self._rows.clear()
                self._preds.clear()
                self._version = scorer.model_version
                self._reference = scorer.manifest.get("reference")
                self._names = tuple(scorer.spec.feature_names)
            self._rows.extend(np.asarray(X, np.float64))
            self._preds.extend(
                (p["predicted_profit_pct"], p["success_probability"], p["predicted_hold_hours"])
                for p in predictions
            )

    def report(self) -> DriftReport | None:
        """The current report (without PSI below ``config.min_rows`` rows), or None when the
        bundle has no reference."""
        with self._lock:
            if not self._reference:
                return None
            if len(self._rows) < self.config.min_rows:
                return DriftReport(len(self._rows), {}, {}, self.config)
            X = np.vstack(list(self._rows))
            P = np.asarray(list(self._preds), np.float64)
            ref, names = self._reference, self._names
        preds = {"profit": P[:, 0], "success": P[:, 1], "duration": P[:, 2]}
        return drift_report(ref, X, names, preds, self.config)

    def render(self) -> str:
        """Prometheus exposition lines (appended to the server's /metrics)."""
        report = self.report()
        out = [
            "# HELP arbscore_drift_status Worst drift level: 0 ok, 1 warn, 2 alert, -1 unknown.",
            "# TYPE arbscore_drift_status gauge",
        ]
        code = {"ok": 0, "warn": 1, "alert": 2}.get(report.status if report else "n/a", -1)
        out.append(f"arbscore_drift_status {code}")
        out += [
            "# HELP arbscore_drift_rows Recent scored rows in the drift window.",
            "# TYPE arbscore_drift_rows gauge",
            f"arbscore_drift_rows {len(self._rows)}",
        ]
        if report is None or not report.enough_rows:
            return "\n".join(out) + "\n"
        out += _psi_gauge(
            "arbscore_feature_psi",
            "feature",
            "PSI of a model input vs the bundle's training reference.",
            report.features,
        )
        out += _psi_gauge(
            "arbscore_prediction_psi",
            "head",
            "PSI of a head's outputs vs the training reference.",
            report.predictions,
        )
        return "\n".join(out) + "\n"


def _psi_gauge(metric: str, label: str, about: str, values: dict[str, float]) -> list[str]:
    """One labelled gauge family in Prometheus text format; non-finite values are left out."""
    out = [f"# HELP {metric} {about}", f"# TYPE {metric} gauge"]
    for key, value in sorted(values.items()):
        if math.isfinite(value):
            out.append(f'{metric}{{{label}="{key}"}} {value:.6f}')
    return out
