"""``train_final``: fit each family on every row and save it where export and serve look.

Evaluation (``arbscore.evaluation``) says how good a family is; this module makes the models
that ship. Each family does its own time-ordered inner validation (early stopping,
calibration) inside ``fit``; nothing here splits data.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from arbscore.data_tools.dataset_files import (
    feature_columns,
    normalise_training_frame,
    targets_from_frame,
)
from arbscore.data_tools.features import FeatureSpec, build_matrix, fit_feature_spec
from arbscore.evaluation.run import FamilyArg, resolve_families
from arbscore.progress import Progress


@dataclass(frozen=True)
class TrainResult:
    """Where the fitted models went and how long each took."""

    run_dir: Path
    feature_spec: FeatureSpec
    model_dirs: dict[str, Path] = field(default_factory=dict)
    train_seconds: dict[str, float] = field(default_factory=dict)
    rows: int = 0
    devices: dict[str, dict | None] = field(default_factory=dict)  # what each family ran on


def train_final(
    frame: pd.DataFrame,
    families: Sequence[FamilyArg],
    run_dir: Path,
    progress: Progress | None = None,
) -> TrainResult:
    """Fit ``families`` on all rows of ``frame``; save ``run_dir/models/<family>/`` and
    ``run_dir/models/feature_spec.json`` (plus ``training_summary.json``)."""
    resolved = resolve_families(families)
    df = normalise_training_frame(frame)
    columns = feature_columns(df)
    spec = fit_feature_spec(columns)
    X = build_matrix(columns, spec, strict=True)
    targets = targets_from_frame(df)
    models = Path(run_dir) / "models"
    models.mkdir(parents=True, exist_ok=True)
    spec.save(models / "feature_spec.json")
    dirs, seconds, devices = {}, {}, {}
    for i, (name, factory) in enumerate(resolved):
        if progress:
            progress(f"training {name}", i, len(resolved))
        t0 = time.perf_counter()
        model = factory().fit(X, targets, list(spec.feature_names))
        seconds[name] = time.perf_counter() - t0
        devices[name] = getattr(model, "device_", None)  # e.g. MLX: device + BLAS used
        dirs[name] = models / name
        model.save(dirs[name])
    if progress:
        progress("done", len(resolved), len(resolved))
    summary = {
        "rows": int(len(df)),
        "opportunities": int(df["opportunity_id"].nunique()),
        "start": df["timestamp"].min().isoformat(),
        "end": df["timestamp"].max().isoformat(),
        "data_source": sorted(df["data_source"].astype(str).unique()),
        "families": {
            n: {"dir": n, "train_seconds": s, "device": devices[n]} for n, s in seconds.items()
        },
        "feature_spec": "feature_spec.json",
    }
    (models / "training_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return TrainResult(Path(run_dir), spec, dirs, seconds, int(len(df)), devices)
