"""The served prediction's two passes, written once (numpy only).

1. the duration head on the feature rows as given (the hold column at the spec's fill value);
2. profit and success on the same rows with the hold column set to the served hold: the
   caller's hold where given, else the predicted hold clipped by
   :func:`arbscore.schema.clip_hold_hours` (``grid=True``: the holds the simulator labels).

Used by the server's :class:`~arbscore.serve.scorer.Scorer` (ONNX sessions), the drift
reference a bundle carries (``export/reference.py``, fitted families) and the raw-input ONNX graph's
documentation (``export/onnx_raw.py`` builds the same two passes as graph nodes). The hold's
column is found by name (:data:`arbscore.schema.HOLD_COLUMN`), never by position.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from arbscore.schema import HOLD_COLUMN, clip_hold_hours, hold_clip_bounds

#: a bundle's hold grid (``manifest["hold_grid_hours"]``); None: the default grid
Grid = tuple[float, ...] | None


def hold_index(feature_names: Sequence[str]) -> int:
    """The column of :data:`~arbscore.schema.HOLD_COLUMN` in ``feature_names``."""
    names = list(feature_names)
    if HOLD_COLUMN not in names:
        raise ValueError(f"feature names have no {HOLD_COLUMN!r} column: {names}")
    return names.index(HOLD_COLUMN)


def served_hold(
    duration: np.ndarray, given: np.ndarray | None = None, hold_grid: Grid = None
) -> np.ndarray:
    """The hold profit and success are evaluated at: ``given`` where not NaN, else the
    predicted ``duration`` clipped to the labelled holds (``hold_grid``: the bundle's)."""
    hold = clip_hold_hours(np.asarray(duration, np.float64), grid=True, hold_grid=hold_grid)
    if given is None:
        return hold
    given = np.asarray(given, np.float64)
    return np.where(np.isnan(given), hold, given)


def served_hold_one(duration: float, given: float, hold_grid: Grid = None) -> float:
    """:func:`served_hold` of one row, in floats: ``given`` unless NaN, else the clipped
    ``duration`` (the same clip; the server's one-row path, ``serve/onerow.py``)."""
    if math.isnan(given):
        return clip_hold_hours(duration, grid=True, hold_grid=hold_grid)
    return given


def two_pass(
    X: np.ndarray,
    hold_col: int,
    duration: Callable[[np.ndarray], np.ndarray],
    at_hold: Callable[[np.ndarray], dict[str, np.ndarray]],
    given_hold: np.ndarray | None = None,
    hold_grid: Grid = None,
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """(predicted duration, served hold, ``at_hold`` outputs on the rows at that hold).

    ``duration(X)`` returns the duration head per row; ``at_hold(X2)`` the other heads' outputs
    by name on ``X2`` = ``X`` with column ``hold_col`` set to the served hold (a copy, same
    dtype: the caller's ``X`` is not modified)."""
    d = np.asarray(duration(X), np.float64).reshape(-1)
    hold = served_hold(d, given_hold, hold_grid)
    X2 = np.array(X, copy=True)
    X2[:, hold_col] = hold
    return d, hold, at_hold(X2)


#: (lowest, highest) served hold in hours, from :func:`arbscore.schema.clip_hold_hours`
SERVED_HOLD_RANGE: tuple[float, float] = hold_clip_bounds(grid=True)
