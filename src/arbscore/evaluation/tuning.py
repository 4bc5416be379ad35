"""Optional Optuna search of GBDT hyperparameters, inside walk-forward training folds only.

Model selection, so it sits in the evaluation stage beside the splitter it reuses.

Call it with the rows of one walk-forward *training* window only. Without ``folds`` it cuts
that window with the harness's own ``arbscore.evaluation.splits.walk_forward_folds`` (purge by label
window, 168 h embargo); or pass ``Fold`` objects or time-ordered ``(train_idx, valid_idx)``
pairs. Either way the search never looks at the harness's test fold. Each trial fits the
family on every fold's train rows (with its usual inner early-stopping/calibration slices)
and scores the valid rows.

Score (lower is better), averaged over folds: the sum of three unit-free losses,
profit MSE / variance, success log loss / log loss of the base rate, and duration MSE in log
hours / its variance, so no head dominates because of its units.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from arbscore.data_tools.targets import Targets, first_row_per_opportunity
from arbscore.data_tools.two_pass import hold_index
from arbscore.evaluation.config import EvaluationConfig
from arbscore.evaluation.splits import walk_forward_folds
from arbscore.gbdt.base import GBDTFamily
from arbscore.gbdt.config import GBDTConfig
from arbscore.progress import Progress

Fold = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class TuningResult:
    """The best config found, its score and every trial's (params, score)."""

    config: GBDTConfig
    score: float
    trials: list[tuple[dict, float]]


def subset_targets(targets: Targets, idx: np.ndarray) -> Targets:
    """The rows ``idx`` of ``targets``."""
    return Targets(
        profit=np.asarray(targets.profit)[idx],
        success=np.asarray(targets.success)[idx],
        duration=np.asarray(targets.duration)[idx],
        opportunity_id=np.asarray(targets.opportunity_id)[idx],
        timestamp_ms=np.asarray(targets.timestamp_ms)[idx],
    )


def check_folds(folds: Iterable, timestamp_ms: np.ndarray) -> list[Fold]:
    """Materialise folds (``(train_idx, valid_idx)`` pairs or objects with ``train_idx`` and
    ``test_idx``) and check each is time-ordered (every train row before every valid row); a
    random split is refused."""
    ts = np.asarray(timestamp_ms)
    out = []
    for k, fold in enumerate(folds):
        if hasattr(fold, "train_idx"):
            train_idx, valid_idx = fold.train_idx, fold.test_idx
        else:
            train_idx, valid_idx = fold
        tr = np.asarray(train_idx, dtype=np.int64)
        va = np.asarray(valid_idx, dtype=np.int64)
        if tr.size == 0 or va.size == 0:
            raise ValueError(f"folds[{k}]: train and valid indices must be non-empty")
        if ts[tr].max() >= ts[va].min():
            raise ValueError(
                f"folds[{k}]: not time-ordered (last train time {int(ts[tr].max())} >= first "
                f"valid time {int(ts[va].min())}); tuning folds must be walk-forward"
            )
        out.append((tr, va))
    if not out:
        raise ValueError("folds: need at least one (train_idx, valid_idx) pair")
    return out


def inner_folds(
    X: np.ndarray, targets: Targets, n_folds: int, feature_names: Sequence[str]
) -> list:
    """Walk-forward folds inside one training window, cut by the evaluation harness's own
    splitter (the hold column found by name in ``feature_names``)."""
    cfg = EvaluationConfig(n_folds=n_folds)
    hold = np.asarray(X)[:, hold_index(feature_names)]
    return walk_forward_folds(np.asarray(targets.timestamp_ms), hold, cfg)


def fold_score(model: GBDTFamily, X: np.ndarray, targets: Targets) -> float:
    """The unit-free three-head loss of a fitted model on (X, targets); see module docstring."""
    pred = model.predict(X)
    y = np.asarray(targets.profit, dtype=np.float64)
    profit = np.mean((pred.profit - y) ** 2) / max(np.var(y), 1e-12)
    s = np.asarray(targets.success, dtype=np.float64)
    p = np.clip(pred.success.astype(np.float64), 1e-6, 1 - 1e-6)
    rate = np.clip(s.mean(), 1e-6, 1 - 1e-6)
    base_ll = -(rate * np.log(rate) + (1 - rate) * np.log(1 - rate))
    success = -np.mean(s * np.log(p) + (1 - s) * np.log(1 - p)) / max(base_ll, 1e-12)
    first = first_row_per_opportunity(targets.opportunity_id)
    floor = model.config_.duration_min_hours
    d_true = np.log(np.maximum(np.asarray(targets.duration, dtype=np.float64)[first], floor))
    d_pred = np.log(np.maximum(pred.duration[first].astype(np.float64), floor))
    duration = np.mean((d_pred - d_true) ** 2) / max(np.var(d_true), 1e-12)
    return float(profit + success + duration)


def suggest_config(trial, family_name: str, base: GBDTConfig) -> GBDTConfig:
    """The (small) search space; tree-shape knobs differ between XGBoost and LightGBM."""
    params = {
        "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.2, log=True),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 20, 1000, log=True),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "colsample": trial.suggest_float("colsample", 0.5, 1.0),
        "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 10.0, log=True),
    }
    if family_name == "lightgbm":
        params["num_leaves"] = trial.suggest_int("num_leaves", 15, 255, log=True)
    else:
        params["max_depth"] = trial.suggest_int("max_depth", 3, 10)
    return replace(base, **params)


def tune(
    family_cls: type[GBDTFamily],
    X: np.ndarray,
    targets: Targets,
    feature_names: Sequence[str],
    folds: Iterable | None = None,
    *,
    n_folds: int = 2,
    n_trials: int = 20,
    base_config: GBDTConfig | None = None,
    seed: int = 0,
    progress: Progress | None = None,
) -> TuningResult:
    """Search hyperparameters with Optuna's TPE sampler (seeded) on the given training folds.

    Only rows named in ``folds`` are read; ``folds=None`` makes ``n_folds`` walk-forward folds
    of the given rows with :func:`inner_folds`. ``progress(message, trial_number, n_trials)``
    is called after each trial (the message holds the best score so far). Returns the best
    config (``base_config`` with the tuned fields).
    """
    import optuna

    if n_trials < 1:
        raise ValueError(f"n_trials must be >= 1, got {n_trials}")
    base = base_config if base_config is not None else GBDTConfig()
    if folds is None:
        folds = inner_folds(X, targets, n_folds, feature_names)
    fold_list = check_folds(folds, targets.timestamp_ms)
    names = list(feature_names)
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial) -> float:
        cfg = suggest_config(trial, family_cls.name, base)
        scores = []
        for train_idx, valid_idx in fold_list:
            model = family_cls(config=cfg)
            model.fit(X[train_idx], subset_targets(targets, train_idx), names)
            scores.append(fold_score(model, X[valid_idx], subset_targets(targets, valid_idx)))
        return float(np.mean(scores))

    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed))
    callbacks = []
    if progress is not None:
        callbacks.append(
            lambda st, tr: progress(
                f"trial {tr.number + 1}/{n_trials}: best {st.best_value:.4g}",
                tr.number + 1,
                n_trials,
            )
        )
    study.optimize(objective, n_trials=n_trials, callbacks=callbacks)
    best = suggest_config(optuna.trial.FixedTrial(study.best_params), family_cls.name, base)
    trials = [(dict(t.params), float(t.value)) for t in study.trials if t.value is not None]
    return TuningResult(config=best, score=float(study.best_value), trials=trials)
