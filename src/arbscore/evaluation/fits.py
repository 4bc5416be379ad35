"""One (fold, family) fit of the walk-forward evaluation: fit, predict, time, explain.

A task is picklable, so a cluster worker can run it (``arbscore.scale.cluster``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from arbscore.evaluation.explain import explain, sample_rows
from arbscore.families import HeadOutputs, ModelFamily


@dataclass(frozen=True)
class FitTask:
    """One (fold, family) fit: what ``run_fit_task`` needs, picklable for a cluster worker."""

    factory: Callable[[], ModelFamily]
    X_train: np.ndarray
    targets: Any
    feature_names: tuple[str, ...]
    X_test: np.ndarray
    latency_repeats: int
    explain: bool = False  # explain the model on a sample of the test rows (the last fold)


def run_fit_task(task: FitTask) -> tuple[HeadOutputs, dict, dict | None, dict | None]:
    """Fit the family on the fold's training rows and predict its test rows; with
    ``task.explain`` also its attributions (``evaluation.explain``) on a sample of them."""
    return _fit_predict(
        task.factory,
        task.X_train,
        task.targets,
        task.feature_names,
        task.X_test,
        task.latency_repeats,
        task.explain,
    )


def _fit_predict(factory, X_tr, targets, names, X_te, repeats, explain_test=False):
    model = factory()
    t0 = time.perf_counter()
    model.fit(X_tr, targets, list(names))
    train_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    pred = model.predict(X_te)
    batch_s = time.perf_counter() - t0
    singles = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model.predict(X_te[:1])
        singles.append(time.perf_counter() - t0)
    pred = HeadOutputs(*(np.asarray(p, dtype=float).reshape(-1) for p in pred))
    for head, p in zip(("profit", "success", "duration"), pred, strict=True):
        if p.shape[0] != X_te.shape[0]:
            raise ValueError(
                f"{type(model).__name__}.predict returned {p.shape[0]} {head} "
                f"values for {X_te.shape[0]} rows"
            )
    timing = {
        "train_seconds": train_s,
        "predict_us_per_row": batch_s / max(1, X_te.shape[0]) * 1e6,
        "predict_ms_single_row": float(np.median(singles)) * 1e3,
    }
    importance = None
    if callable(getattr(model, "feature_importances", None)):
        importance = model.feature_importances()
    explained = None
    if explain_test and X_te.shape[0]:
        explained = explain(model, X_te[sample_rows(X_te.shape[0])], list(names))
    return pred, timing, importance, explained
