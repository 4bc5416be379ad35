"""The one small interface every model family implements (scikit-learn style).

The evaluation harness, export and the CLI only ever talk to this interface; they never
special-case a family. A family learns all three heads:

- profit:   actual_profit_pct for an (opportunity, hold) row          (regression)
- success:  P(actual_profit_pct > 0) for an (opportunity, hold) row   (calibrated probability)
- duration: optimal_hold_hours for an opportunity                      (regression, hours)

``X`` is the float32 matrix made by :mod:`arbscore.data_tools.features` in the order of its
``feature_names``; the last column is always ``hold_hours``. The duration head is trained on
one row per opportunity (``Targets.opportunity_id``) so opportunities are not counted once per
hold, and it must not use the ``hold_hours`` column (it is an input of the simulation).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np


class HeadOutputs(NamedTuple):
    """Predictions of the three heads, one value per input row."""

    profit: np.ndarray  # predicted net profit, percent of notional
    success: np.ndarray  # calibrated probability that profit > 0
    duration: np.ndarray  # predicted optimal hold, hours


@dataclass(frozen=True)
class Targets:
    """Training targets aligned with the rows of ``X``."""

    profit: np.ndarray  # float, percent
    success: np.ndarray  # 0/1
    duration: np.ndarray  # float hours (per opportunity, repeated on its hold rows)
    opportunity_id: np.ndarray  # int64, groups the hold rows of one opportunity
    timestamp_ms: np.ndarray  # int64 entry time, for time-ordered validation slices

    def __post_init__(self) -> None:
        n = len(self.profit)
        for name in ("success", "duration", "opportunity_id", "timestamp_ms"):
            if len(getattr(self, name)) != n:
                raise ValueError(
                    f"Targets.{name} has {len(getattr(self, name))} rows, expected {n}"
                )


def first_row_per_opportunity(opportunity_id: np.ndarray) -> np.ndarray:
    """Indices of one row per opportunity (the first), for the duration head."""
    _, idx = np.unique(opportunity_id, return_index=True)
    return np.sort(idx)


@runtime_checkable
class ModelFamily(Protocol):
    """fit / predict / save / load. ``__init__`` only stores keyword hyperparameters."""

    name: str

    def fit(self, X: np.ndarray, targets: Targets, feature_names: list[str]) -> ModelFamily: ...

    def predict(self, X: np.ndarray) -> HeadOutputs: ...

    def save(self, path: Path) -> None: ...

    @classmethod
    def load(cls, path: Path) -> ModelFamily: ...
