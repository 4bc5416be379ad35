"""Shared logic of the GBDT families: slicing, the three heads, calibration, save/load.

A subclass only says how its library trains one head, computes a raw margin, and stores a
model file. Everything that must be identical across XGBoost and LightGBM (which rows train
which head, the purge, the duration transform, the file layout) lives here once.

Heads (all trees predict a *margin*):
- profit:   margin = predicted actual_profit_pct (squared error)
- success:  margin = log-odds (binary log loss); p = sigmoid(a * margin + b), ``calibration_``
- duration: margin = log(optimal hold hours), trained on one row per opportunity without the
  ``hold_hours`` column (squared error in log space); hours = exp(margin). ``DURATION_TRANSFORM``
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from arbscore.calibration import apply_platt, fit_platt
from arbscore.data_tools.targets import Targets, first_row_per_opportunity
from arbscore.families import HeadOutputs
from arbscore.gbdt.config import GBDTConfig
from arbscore.gbdt.slices import inner_slices
from arbscore.progress import Progress
from arbscore.schema import HEADS, HOLD_COLUMN

FORMAT_VERSION = 1
CONFIG_FILE = "family.json"
#: how the duration head's margin maps to hours (the exporter rebuilds it: an Exp node)
DURATION_TRANSFORM = "exp"


@dataclass(frozen=True)
class ShapValues:
    """Per-row contributions of each feature to one head's raw margin (native TreeSHAP).

    ``values[i].sum() + base[i]`` equals the head's margin for row i: profit in percent,
    success in log-odds *before* calibration, duration in log hours.
    """

    values: np.ndarray  # (n_rows, n_features) float32
    base: np.ndarray  # (n_rows,) float32, the expected margin
    feature_names: list[str]
    head: str


class GBDTFamily:
    """Base of :class:`XGBoostFamily` and :class:`LightGBMFamily` (``arbscore.families``).

    ``__init__`` only stores the config; ``fit`` sets ``models_``, ``calibration_``,
    ``feature_names_``, ``config_``, ``n_trees_`` and ``fit_info_``.
    """

    name: ClassVar[str] = ""
    library: ClassVar[str] = ""
    model_suffix: ClassVar[str] = ""

    def __init__(self, config: GBDTConfig | None = None) -> None:
        self.config = config

    @classmethod
    def fast_config(cls) -> GBDTConfig:
        """Fast but real settings for ``arbscore.families.check_family`` (150 trees, 1 thread)."""
        return GBDTConfig(n_estimators=150, early_stopping_rounds=20, min_samples_leaf=20, n_jobs=1)

    # --- scikit-learn style parameter access --------------------------------------------------
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"config": self.config}

    def set_params(self, **params: Any) -> GBDTFamily:
        unknown = sorted(set(params) - {"config"})
        if unknown:
            raise ValueError(f"{type(self).__name__}: unknown parameters {unknown}; use config=")
        self.config = params.get("config", self.config)
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}(config={self.config!r})"

    # --- library hooks (subclasses) -------------------------------------------------------------
    def _fit_head(
        self,
        head: str,
        train: tuple[np.ndarray, np.ndarray],
        valid: tuple[np.ndarray, np.ndarray],
        cfg: GBDTConfig,
    ) -> tuple[Any, int]:
        """Train one head with early stopping; return (model holding only kept trees, n_trees)."""
        raise NotImplementedError

    @staticmethod
    def _margin(model: Any, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def _save_model(model: Any, file: Path) -> None:
        """Write one head's model file (Booster and XGBoost wrapper alike: ``save_model(path)``)."""
        model.save_model(str(file))

    @classmethod
    def _load_model(cls, head: str, file: Path) -> Any:
        raise NotImplementedError

    @staticmethod
    def _gain(model: Any, n_features: int) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def _contribs(model: Any, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # --- fit / predict ----------------------------------------------------------------------------
    def fit(
        self,
        X: np.ndarray,
        targets: Targets,
        feature_names: list[str],
        *,
        progress: Progress | None = None,
    ) -> GBDTFamily:
        """Fit the three heads; see the module docstring for what each learns.

        Rows are cut in time (``targets.timestamp_ms``) into train, validation (early stopping)
        and a later calibration slice (Platt scaling of the success head), with purge gaps.
        """
        names = _check_feature_names(feature_names)
        X = _check_matrix(X, len(names), "X")
        cfg = self.config if self.config is not None else GBDTConfig()
        y_profit, y_success, y_duration = _check_targets(targets, X.shape[0], cfg)
        bounds = inner_slices(
            targets.timestamp_ms,
            valid_fraction=cfg.valid_fraction,
            calibration_fraction=cfg.calibration_fraction,
            purge_hours=cfg.purge_hours,
            max_purge_fraction=cfg.max_purge_fraction,
        )
        tr, va, ca = bounds.masks(targets.timestamp_ms)
        first = first_row_per_opportunity(targets.opportunity_id)
        d_tr, d_va, _ = bounds.masks(np.asarray(targets.timestamp_ms)[first])
        if not d_tr.any() or not d_va.any():
            raise ValueError(
                "targets.opportunity_id: the duration head needs opportunities in both the "
                f"train and validation time slices (got {int(d_tr.sum())} and {int(d_va.sum())})"
            )
        X_dur = X[first, :-1]
        y_dur = y_duration[first]

        models: dict[str, Any] = {}
        n_trees: dict[str, int] = {}
        jobs = {
            "profit": ((X[tr], y_profit[tr]), (X[va], y_profit[va])),
            "success": ((X[tr], y_success[tr]), (X[va], y_success[va])),
            "duration": ((X_dur[d_tr], y_dur[d_tr]), (X_dur[d_va], y_dur[d_va])),
        }
        for head in HEADS:
            if progress is not None:
                progress(f"{self.name}: fitting {head} head")
            train, valid = jobs[head]
            models[head], n_trees[head] = self._fit_head(head, train, valid, cfg)
        margin_cal = self._margin(models["success"], X[ca])
        self.calibration_ = fit_platt(margin_cal, y_success[ca], cfg.min_calibration_events)
        self.models_ = models
        self.n_trees_ = n_trees
        self.feature_names_ = names
        self.n_features_in_ = len(names)
        self.config_ = cfg
        self.fit_info_ = {
            "slices": bounds.to_dict(),
            "rows": {
                "train": int(tr.sum()),
                "valid": int(va.sum()),
                "calibration": int(ca.sum()),
                "duration_train": int(d_tr.sum()),
                "duration_valid": int(d_va.sum()),
            },
        }
        return self

    def predict(self, X: np.ndarray) -> HeadOutputs:
        """Profit (percent), calibrated success probability and duration (hours), float32."""
        self._check_fitted()
        X = _check_matrix(X, self.n_features_in_, "X")
        profit = self._margin(self.models_["profit"], X).astype(np.float32)
        success = apply_platt(self._margin(self.models_["success"], X), self.calibration_)
        duration = np.exp(self._margin(self.models_["duration"], X[:, :-1])).astype(np.float32)
        return HeadOutputs(profit=profit, success=success, duration=duration)

    def raw_margins(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """Each head's raw tree output (what ONNX tree ensembles compute before transforms)."""
        self._check_fitted()
        X = _check_matrix(X, self.n_features_in_, "X")
        return {
            "profit": self._margin(self.models_["profit"], X),
            "success": self._margin(self.models_["success"], X),
            "duration": self._margin(self.models_["duration"], X[:, :-1]),
        }

    # --- explanations -----------------------------------------------------------------------------
    def head_feature_names(self, head: str) -> list[str]:
        """Input columns of ``head``: all features, except ``hold_hours`` for duration."""
        self._check_fitted()
        _check_head(head)
        return self.feature_names_[:-1] if head == "duration" else list(self.feature_names_)

    def feature_importances(self) -> dict[str, dict[str, float]]:
        """{head: {feature: share of total split gain}}; shares sum to 1 per head (0 if none)."""
        self._check_fitted()
        out: dict[str, dict[str, float]] = {}
        for head in HEADS:
            names = self.head_feature_names(head)
            gain = np.asarray(self._gain(self.models_[head], len(names)), dtype=np.float64)
            total = gain.sum()
            share = gain / total if total > 0 else gain
            out[head] = {n: float(v) for n, v in zip(names, share, strict=True)}
        return out

    def shap_values(self, X: np.ndarray, head: str) -> ShapValues:
        """Exact TreeSHAP contributions to ``head``'s raw margin via the library's native code."""
        self._check_fitted()
        _check_head(head)
        X = _check_matrix(X, self.n_features_in_, "X")
        Xh = X[:, :-1] if head == "duration" else X
        contrib = np.asarray(self._contribs(self.models_[head], Xh), dtype=np.float32)
        return ShapValues(
            values=contrib[:, :-1],
            base=contrib[:, -1],
            feature_names=self.head_feature_names(head),
            head=head,
        )

    # --- persistence ------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Write native model files (one per head) and ``family.json``; no pickle anywhere."""
        self._check_fitted()
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        files = {}
        for head in HEADS:
            files[head] = f"{head}{self.model_suffix}"
            self._save_model(self.models_[head], path / files[head])
        meta = {
            "format_version": FORMAT_VERSION,
            "family": self.name,
            "library": self.library,
            "config": self.config_.to_dict(),
            "feature_names": self.feature_names_,
            "calibration": list(self.calibration_),
            "duration_transform": DURATION_TRANSFORM,
            "model_files": files,
            "n_trees": self.n_trees_,
            "fit_info": self.fit_info_,
        }
        (path / CONFIG_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True))

    @classmethod
    def load(cls, path: Path) -> GBDTFamily:
        """Rebuild the exact fitted family written by :meth:`save`."""
        path = Path(path)
        meta_file = path / CONFIG_FILE
        if not meta_file.is_file():
            raise ValueError(f"{path}: no {CONFIG_FILE}; not a saved {cls.name} model directory")
        meta = json.loads(meta_file.read_text())
        if meta.get("family") != cls.name:
            raise ValueError(
                f"{meta_file}: family is {meta.get('family')!r}, expected {cls.name!r}"
            )
        if meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"{meta_file}: format_version {meta.get('format_version')!r} is not supported "
                f"(expected {FORMAT_VERSION})"
            )
        cfg = GBDTConfig.from_dict(meta["config"])
        self = cls(config=cfg)
        self.models_ = {h: cls._load_model(h, path / meta["model_files"][h]) for h in HEADS}
        a, b = meta["calibration"]
        self.calibration_ = (float(a), float(b))
        self.feature_names_ = list(meta["feature_names"])
        self.n_features_in_ = len(self.feature_names_)
        self.n_trees_ = {h: int(v) for h, v in meta["n_trees"].items()}
        self.config_ = cfg
        self.fit_info_ = meta["fit_info"]
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "models_"):
            raise ValueError(f"{type(self).__name__} is not fitted; call fit(X, targets, names)")


def base_score(head: str, y: np.ndarray) -> float:
    """Explicit starting margin (pinned so exporters and Core ML need not guess it): the mean
    for regression heads, 0.5 (margin 0) for the success head."""
    return 0.5 if head == "success" else float(np.mean(y))


def _check_head(head: str) -> None:
    if head not in HEADS:
        raise ValueError(f"head must be one of {list(HEADS)}, got {head!r}")


def _check_feature_names(feature_names: list[str]) -> list[str]:
    names = [str(n) for n in feature_names]
    if not names or names[-1] != HOLD_COLUMN:
        raise ValueError(
            f"feature_names: the last feature must be {HOLD_COLUMN!r} "
            f"(got {names[-1] if names else 'no features'!r})"
        )
    if len(set(names)) != len(names):
        raise ValueError("feature_names: names must be unique")
    return names


def _check_matrix(X: np.ndarray, n_features: int, field: str) -> np.ndarray:
    X = np.ascontiguousarray(X, dtype=np.float32)
    if X.ndim != 2 or X.shape[1] != n_features:
        raise ValueError(f"{field}: expected a 2-D array with {n_features} columns, got {X.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"{field}: has no rows")
    if np.isinf(X).any():
        raise ValueError(f"{field}: contains inf; the feature builder must map it to a number")
    return X


def _check_targets(
    targets: Targets, n_rows: int, cfg: GBDTConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if len(targets.profit) != n_rows:
        raise ValueError(f"targets: {len(targets.profit)} rows but X has {n_rows}")
    profit = np.asarray(targets.profit, dtype=np.float64)
    success = np.asarray(targets.success, dtype=np.float64)
    duration = np.asarray(targets.duration, dtype=np.float64)
    if not np.isfinite(profit).all():
        raise ValueError("targets.profit: contains NaN or inf")
    if not np.isin(success, (0.0, 1.0)).all():
        raise ValueError("targets.success: must be 0/1")
    if not np.isfinite(duration).all() or (duration < 0).any():
        raise ValueError("targets.duration: must be finite hours >= 0")
    log_duration = np.log(np.maximum(duration, cfg.duration_min_hours))
    return profit, success, log_duration
