"""What the three heads learn, aligned with the rows of ``X`` (made from a training set).

A data type, below the model families: the loaders (:mod:`arbscore.data_tools.dataset_files`)
build :class:`Targets` and every family (:mod:`arbscore.families`) fits on them. The duration
head is trained on one row per opportunity (:func:`first_row_per_opportunity`) so opportunities
are not counted once per hold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
