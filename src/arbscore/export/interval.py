"""The bundle's profit interval: split-conformal half-widths from the run's latest window.

The window is the profit winner's out-of-sample predictions on the run's last test fold
(``evaluation/predictions.parquet``): the most recent rows a model predicted without having
trained on them. Its coverage is the run's ``interval_coverage`` (``EvaluationConfig``, 0.8),
the procedure ``evaluate`` scores fold by fold (``profit.interval`` in metrics.json: fitted on
one fold, measured on the next). The manifest carries the table under
:data:`PROFIT_INTERVAL_KEY`; ``/predict`` answers ``profit_interval_pct`` and the raw-input
graph outputs it. A run without predictions, or a window too small for the coverage, ships
none (the answer's field is then null).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from arbscore.conformal import fit_interval_table
from arbscore.evaluation.config import EvaluationConfig
from arbscore.schema import HOLD_COLUMN

PROFIT_INTERVAL_KEY = "profit_interval"
PREDICTIONS_FILE = Path("evaluation") / "predictions.parquet"


def run_interval(run: Path, metrics: Mapping[str, Any], family: str | None) -> dict[str, Any]:
    """``{PROFIT_INTERVAL_KEY: table}`` for ``family``'s last test fold, or {} (none to fit)."""
    file = Path(run) / PREDICTIONS_FILE
    if family is None or not file.is_file():
        return {}
    import pandas as pd

    cols = ["family", "fold", HOLD_COLUMN, "actual_profit_pct", "profit"]
    frame = pd.read_parquet(file, columns=cols)
    frame = frame[frame["family"] == family]
    if frame.empty:
        return {}
    last = frame[frame["fold"] == frame["fold"].max()]
    config = metrics.get("config") or {}
    coverage = float(config.get("interval_coverage", EvaluationConfig().interval_coverage))
    table = fit_interval_table(
        last["actual_profit_pct"].to_numpy(float),
        last["profit"].to_numpy(float),
        last[HOLD_COLUMN].to_numpy(float),
        coverage,
    )
    if not math.isfinite(table.pooled_half_width):
        return {}
    fold = int(last["fold"].iloc[0])
    source = f"{family}'s residuals on test fold {fold + 1} ({PREDICTIONS_FILE})"
    return {PROFIT_INTERVAL_KEY: {**table.to_dict(), "source": source}}
