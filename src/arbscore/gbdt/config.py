"""Hyperparameters of the GBDT families (one frozen dataclass shared by XGBoost and LightGBM).

Why these defaults: the training set has one row per (opportunity, hold) and consecutive
snapshots 5 minutes apart are near-duplicates, so leaves need many rows (``min_samples_leaf``)
and rows/columns are subsampled to avoid memorising one burst of a market. The number of trees
is an upper bound; early stopping on a later, purged time slice picks the real one, and counts a
round as an improvement only when it lowers the validation loss by at least
``early_stopping_min_improvement`` of the constant model's loss on that slice (see
:func:`min_delta`): a head whose slice holds almost no winners (success on real data) otherwise
keeps adding trees for gains of 1e-7 in log-loss, 2,000 trees that cost serving time and buy no
out-of-sample skill. On the embedded real run (277,713 rows, 4 walk-forward folds) the defaults
(1e-3, a 600-tree ceiling) keep 150 / 600 / 18 trees (profit / success / duration) instead of
150 / 1,993 / 26, with profit MAE 0.02338 vs 0.02329, success AUC 0.800 vs 0.787 and Brier
0.000307 vs 0.000325, duration MAE 44.38 h vs 44.38 h (docs/serving.md, Benchmark).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields

from arbscore.calibration import MIN_CALIBRATION_EVENTS
from arbscore.schema import MAX_HOLD_HOURS, MIN_PREDICTED_HOLD_HOURS

#: a thread bound for fits with n_jobs=0 (set per task by ``arbscore.scale.cluster``)
THREADS_ENV = "ARBSCORE_THREADS"


@dataclass(frozen=True)
class GBDTConfig:
    """Hyperparameters shared by :class:`XGBoostFamily` and :class:`LightGBMFamily`.

    ``max_depth`` is used by XGBoost (depth-wise trees), ``num_leaves`` by LightGBM (leaf-wise
    trees); every other field means the same thing in both.
    """

    n_estimators: int = 600  # tree ceiling; early stopping picks the number actually kept
    learning_rate: float = 0.05
    max_depth: int = 7
    num_leaves: int = 63
    min_samples_leaf: int = 100  # xgboost min_child_weight, lightgbm min_data_in_leaf
    subsample: float = 0.8
    colsample: float = 0.8
    reg_lambda: float = 1.0
    reg_alpha: float = 0.0
    max_bin: int = 256
    early_stopping_rounds: int = 100
    # a round must lower the validation loss by this fraction of the constant model's loss
    early_stopping_min_improvement: float = 1e-3
    # time-ordered inner slices: [train] purge [valid] purge [calibration]
    valid_fraction: float = 0.15
    calibration_fraction: float = 0.10
    # fewer positives/negatives in the calibration slice: Platt fits the intercept only
    min_calibration_events: int = MIN_CALIBRATION_EVENTS
    purge_hours: float = float(MAX_HOLD_HOURS)
    # on short spans the purge is capped at this fraction of the span so slices stay non-empty
    max_purge_fraction: float = 0.05
    duration_min_hours: float = MIN_PREDICTED_HOLD_HOURS  # floor before log (one snapshot step)
    n_jobs: int = 0  # 0 = all cores of this machine
    seed: int = 0

    def __post_init__(self) -> None:
        positive_ints = ("n_estimators", "max_depth", "min_samples_leaf", "early_stopping_rounds")
        for name in positive_ints:
            if int(getattr(self, name)) < 1:
                raise ValueError(f"GBDTConfig.{name} must be >= 1, got {getattr(self, name)}")
        if not 0.0 <= self.early_stopping_min_improvement < 0.1:
            raise ValueError(
                "GBDTConfig.early_stopping_min_improvement must be in [0, 0.1), "
                f"got {self.early_stopping_min_improvement}"
            )
        if self.min_calibration_events < 0:
            raise ValueError(
                f"GBDTConfig.min_calibration_events must be >= 0, got {self.min_calibration_events}"
            )
        if self.num_leaves < 2:
            raise ValueError(f"GBDTConfig.num_leaves must be >= 2, got {self.num_leaves}")
        if not 2 <= self.max_bin <= 65535:
            raise ValueError(f"GBDTConfig.max_bin must be in [2, 65535], got {self.max_bin}")
        if not 0.0 < self.learning_rate <= 1.0:
            raise ValueError(
                f"GBDTConfig.learning_rate must be in (0, 1], got {self.learning_rate}"
            )
        for name in ("subsample", "colsample"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ValueError(f"GBDTConfig.{name} must be in (0, 1], got {value}")
        for name in ("reg_lambda", "reg_alpha", "purge_hours"):
            if getattr(self, name) < 0:
                raise ValueError(f"GBDTConfig.{name} must be >= 0, got {getattr(self, name)}")
        if not 0.0 < self.valid_fraction < 0.5 or not 0.0 < self.calibration_fraction < 0.5:
            raise ValueError(
                "GBDTConfig.valid_fraction and calibration_fraction must each be in (0, 0.5), "
                f"got {self.valid_fraction} and {self.calibration_fraction}"
            )
        if self.valid_fraction + self.calibration_fraction >= 0.6:
            raise ValueError(
                "GBDTConfig.valid_fraction + calibration_fraction must be < 0.6 so most rows "
                f"train, got {self.valid_fraction + self.calibration_fraction}"
            )
        if not 0.0 <= self.max_purge_fraction < 0.3:
            raise ValueError(
                f"GBDTConfig.max_purge_fraction must be in [0, 0.3), got {self.max_purge_fraction}"
            )
        if self.duration_min_hours <= 0:
            raise ValueError(
                f"GBDTConfig.duration_min_hours must be > 0, got {self.duration_min_hours}"
            )
        if self.n_jobs < 0:
            raise ValueError(f"GBDTConfig.n_jobs must be >= 0 (0 = all cores), got {self.n_jobs}")

    def threads(self) -> int:
        """The thread count to hand the libraries (``n_jobs``; 0 = ``ARBSCORE_THREADS`` when
        set, a cluster task's bound (``arbscore.scale.cluster``), else all cores)."""
        bound = os.environ.get(THREADS_ENV, "")
        return self.n_jobs or (int(bound) if bound.isdigit() else 0) or (os.cpu_count() or 1)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> GBDTConfig:
        """Rebuild from :meth:`to_dict` output; unknown keys are an error, not ignored."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"GBDTConfig: unknown keys {unknown}; known keys are {sorted(known)}")
        return cls(**data)


def min_delta(head: str, y_valid, fraction: float, *, squared: bool) -> float:
    """The absolute early-stopping ``min_delta`` for one head: ``fraction`` of the validation
    loss of the best constant prediction (log-loss of the base rate for ``success``; RMSE, or
    its square when ``squared`` (LightGBM's l2), of the mean for the regression heads)."""
    import numpy as np

    y = np.asarray(y_valid, dtype=np.float64)
    if fraction <= 0 or y.size == 0:
        return 0.0
    if head == "success":
        p = float(np.clip(y.mean(), 1e-6, 1 - 1e-6))
        loss = -(p * np.log(p) + (1 - p) * np.log(1 - p))
    else:
        loss = float(y.var()) if squared else float(y.std())
    return float(fraction * loss)
