"""What the models learned: per-feature attributions of each head on a bounded sample of rows.

Written by ``evaluate`` for the most recent fold's model (``evaluation/shap.json``) and drawn by
the report's SHAP section. Two methods, named in the artefact:

- ``treeshap``: a family with ``shap_values(X, head)`` (the GBDTs: xgboost
  ``pred_contribs=True``, lightgbm ``pred_contrib=True``): exact TreeSHAP of each head's raw
  margin: profit in percent, success in log-odds before calibration, duration in log hours.
- ``occlusion``: any other family (the MLX net): an approximation, not SHAP: a feature's
  attribution on a row is the head's prediction minus the prediction with that one feature set
  to the sample's median (profit in percent, success as a probability, duration in hours). It
  ignores interactions the way a one-at-a-time change does, and it costs one prediction of the
  sample per feature.

Per head: the mean |attribution| per feature (the summary) and, for the feature with the
largest one, its values and attributions on the sample (the dependence plot).
"""

from __future__ import annotations

from typing import Any

import numpy as np

HEADS = ("profit", "success", "duration")
#: the artefact under the run's evaluation/ directory (family -> ``explain``'s result)
SHAP_FILE = "shap.json"
#: rows explained (a random sample of the fold's test rows): keeps ``arbscore run`` fast
SAMPLE_ROWS = 2000
#: how many features a summary lists (the largest mean |attribution|)
SUMMARY_TOP = 15
METHOD_UNITS = {
    "treeshap": {
        "profit": "percent (raw margin)",
        "success": "log-odds before calibration",
        "duration": "log hours",
    },
    "occlusion": {"profit": "percent", "success": "probability", "duration": "hours"},
}


def sample_rows(n: int, seed: int = 0) -> np.ndarray:
    """Sorted indices of at most ``SAMPLE_ROWS`` of ``n`` rows (all when fewer)."""
    if n <= SAMPLE_ROWS:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, SAMPLE_ROWS, replace=False))


def _occlusion(model: Any, X: np.ndarray) -> dict[str, np.ndarray]:
    """{head: (rows, features)} prediction minus the prediction with one feature at its median."""
    base = model.predict(X)
    medians = np.median(X, axis=0)
    out = {h: np.zeros(X.shape, dtype=np.float64) for h in HEADS}
    for j in range(X.shape[1]):
        Xj = X.copy()
        Xj[:, j] = medians[j]
        moved = model.predict(Xj)
        for h, b, m in zip(HEADS, base, moved, strict=True):
            out[h][:, j] = np.asarray(b, np.float64) - np.asarray(m, np.float64)
    return out


def _head_summary(values: np.ndarray, X: np.ndarray, names: list[str]) -> dict:
    mean_abs = np.mean(np.abs(values), axis=0)
    order = np.argsort(-mean_abs, kind="stable")
    top = int(order[0])
    return {
        "mean_abs": {names[i]: float(mean_abs[i]) for i in order[:SUMMARY_TOP]},
        "dependence": {
            "feature": names[top],
            "x": [float(v) for v in X[:, top]],
            "attribution": [float(v) for v in values[:, top]],
        },
    }


def explain(model: Any, X: np.ndarray, names: list[str]) -> dict:
    """The attributions of a fitted family on the rows ``X`` (already a sample), per head."""
    X = np.asarray(X, dtype=np.float32)
    if callable(getattr(model, "shap_values", None)):
        method = "treeshap"
        heads = {}
        for head in HEADS:
            sv = model.shap_values(X, head)
            head_names = list(sv.feature_names)  # the duration head has no hold column
            cols = [names.index(n) for n in head_names]
            heads[head] = _head_summary(np.asarray(sv.values, np.float64), X[:, cols], head_names)
    else:
        method = "occlusion"
        values = _occlusion(model, X)
        heads = {h: _head_summary(values[h], X, list(names)) for h in HEADS}
    for head in HEADS:
        heads[head]["unit"] = METHOD_UNITS[method][head]
    return {"method": method, "rows": int(X.shape[0]), "heads": heads}
