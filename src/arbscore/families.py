"""The one small interface every model family implements (scikit-learn style).

The evaluation harness, export and the CLI only ever talk to this interface; they never
special-case a family. A family learns all three heads:

- profit:   actual_profit_pct for an (opportunity, hold) row          (regression)
- success:  P(actual_profit_pct > 0) for an (opportunity, hold) row   (calibrated probability)
- duration: optimal_hold_hours for an opportunity                      (regression, hours)

``X`` is the float32 matrix made by :mod:`arbscore.data_tools.features` in the order of its
``feature_names``; the last column is always ``hold_hours``. The duration head is trained on
one row per opportunity (``Targets.opportunity_id``; :mod:`arbscore.data_tools.targets`) so
opportunities are not counted once per hold, and it must not use the ``hold_hours`` column (it
is an input of the simulation).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np

from arbscore.data_tools.targets import Targets


class HeadOutputs(NamedTuple):
    """Predictions of the three heads, one value per input row."""

    profit: np.ndarray  # predicted net profit, percent of notional
    success: np.ndarray  # calibrated probability that profit > 0
    duration: np.ndarray  # predicted optimal hold, hours


@runtime_checkable
class ModelFamily(Protocol):
    """fit / predict / save / load. ``__init__`` only stores keyword hyperparameters."""

    name: str

    def fit(self, X: np.ndarray, targets: Targets, feature_names: list[str]) -> ModelFamily: ...

    def predict(self, X: np.ndarray) -> HeadOutputs: ...

    def save(self, path: Path) -> None: ...

    @classmethod
    def load(cls, path: Path) -> ModelFamily: ...
