"""Where retrain's test folds lie relative to the champion's training data, and saying so.

The champion's manifest names the entry time of its last training row (``training_data.end``);
its labels read the market up to the largest hold (the evaluation's ``embargo_hours``) after it.
:func:`fresh_folds` places the test folds after ``end + embargo_hours`` when the data reaches a
day per fold past that; :func:`fold_provenance` then reads the folds the harness actually used
and says whether the champion never saw them (see :mod:`arbscore.ops.retrain`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from arbscore.evaluation.config import EvaluationConfig


def _champion_end(champion: dict[str, Any]) -> pd.Timestamp | None:
    """Entry time of the champion's last training row, from its manifest (None: not said)."""
    end = (champion.get("training_data") or {}).get("end")
    if not end:
        return None
    stamp = pd.Timestamp(end)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def fresh_folds(
    frame: pd.DataFrame, champion: dict[str, Any], evaluation: EvaluationConfig
) -> EvaluationConfig:
    """Test folds after the champion's training rows and their label horizon (``end +
    embargo_hours``) when that leaves at least a day per fold; else the configured folds."""
    champ_end = _champion_end(champion)
    if champ_end is None:
        return evaluation
    embargo = evaluation.embargo_for(frame["hold_hours"].unique())  # as the folds will use
    unseen_from = champ_end + pd.Timedelta(hours=embargo)
    data_end = pd.to_datetime(frame["timestamp"], utc=True).max()
    span_h = (data_end - unseen_from).total_seconds() / 3600 / evaluation.n_folds
    if span_h < 24:
        return evaluation
    return dataclasses.replace(evaluation, test_span_hours=span_h)


def fold_provenance(
    metrics: dict[str, Any], champion: dict[str, Any], evaluation: EvaluationConfig
) -> dict[str, Any]:
    """Whether the run's test folds (``metrics["folds"]``) lie on data the champion never saw,
    its training end, the folds' span, and a sentence saying so (``folds_note``)."""
    folds = metrics.get("folds") or []
    start = pd.Timestamp(folds[0]["test_start"]) if folds else None
    out: dict[str, Any] = {
        "champion_unseen_folds": None,
        "champion_trained_until": None,
        "test_folds": [folds[0]["test_start"], folds[-1]["test_end"]] if folds else None,
        "folds_note": "no champion yet: the challenger is scored alone",
    }
    if not champion:
        return out
    champ_end = _champion_end(champion)
    if champ_end is None or start is None:
        out["champion_unseen_folds"] = False
        out["folds_note"] = (
            "the champion's manifest does not say where its training data ends: it may have "
            "been trained on these test folds, which favours keeping it"
        )
        return out
    embargo = metrics.get("embargo_hours")  # what the run used (the set's largest hold)
    embargo = float(embargo) if embargo is not None else evaluation.embargo_for([])
    unseen_from = champ_end + pd.Timedelta(hours=embargo)
    start = start.tz_localize("UTC") if start.tzinfo is None else start
    unseen = bool(start >= unseen_from)
    out["champion_unseen_folds"] = unseen
    out["champion_trained_until"] = champ_end.isoformat()
    if unseen:
        out["folds_note"] = (
            f"test folds from {start:%Y-%m-%d %H:%M} UTC: after the champion's training rows "
            f"(to {champ_end:%Y-%m-%d %H:%M}) and their {embargo:g} h label "
            "horizon, data the champion never saw"
        )
    else:
        out["folds_note"] = (
            f"the champion was trained on rows up to {champ_end:%Y-%m-%d %H:%M} UTC (labels "
            f"to +{embargo:g} h), but the test folds start at "
            f"{start:%Y-%m-%d %H:%M}: it is scored partly on data it was trained on, which "
            "favours keeping it (folds it never saw need "
            f"{evaluation.n_folds} x 24 h of rows after {unseen_from:%Y-%m-%d %H:%M})"
        )
    return out
