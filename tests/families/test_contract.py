"""The family contract (``arbscore.families.check_family``) over every registered family and
over a plug-in family loaded by ``module:Class``, the way a user's own family is.

No family is named here: a family registered in ``arbscore.registry`` is picked up from
``family_names()`` and checked with its own ``fast_config()``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from arbscore.data_tools.targets import Targets, first_row_per_opportunity
from arbscore.families import HeadOutputs, check_family
from arbscore.registry import family_names, get_family


@pytest.mark.parametrize("name", family_names())
def test_registered_family_keeps_the_contract(name):
    check_family(get_family(name), name=name, seed=21)


class TinyFamily:
    """A plug-in family in a few lines: least squares for profit and success (clipped to a
    probability), the median optimal hold for duration."""

    name = "tiny"

    def __init__(self, config: dict | None = None) -> None:
        self.config = config

    def fit(self, X: np.ndarray, targets: Targets, feature_names: list[str]) -> TinyFamily:
        A = self._design(X, len(feature_names))
        self.profit_ = np.linalg.lstsq(A, np.asarray(targets.profit, float), rcond=None)[0]
        self.success_ = np.linalg.lstsq(A, np.asarray(targets.success, float), rcond=None)[0]
        first = first_row_per_opportunity(np.asarray(targets.opportunity_id))
        self.duration_ = float(np.median(np.asarray(targets.duration, float)[first]))
        return self

    def _design(self, X: np.ndarray, n_features: int) -> np.ndarray:
        X = np.asarray(X, float)
        if X.ndim != 2 or X.shape[1] != n_features:
            raise ValueError(f"X must have {n_features} columns, got shape {X.shape}")
        return np.column_stack([X, np.ones(len(X))])

    def predict(self, X: np.ndarray) -> HeadOutputs:
        if not hasattr(self, "profit_"):
            raise ValueError("TinyFamily is not fitted")
        A = self._design(X, len(self.profit_) - 1)
        return HeadOutputs(
            A @ self.profit_,
            np.clip(A @ self.success_, 0.0, 1.0),
            np.full(len(A), max(self.duration_, 1.0)),
        )

    def save(self, path: Path) -> None:
        path = Path(path)
        path.mkdir(parents=True)
        np.save(path / "profit.npy", self.profit_)
        np.save(path / "success.npy", self.success_)
        (path / "tiny.json").write_text(
            json.dumps({"duration": self.duration_, "config": self.config})
        )

    @classmethod
    def load(cls, path: Path) -> TinyFamily:
        path = Path(path)
        meta = json.loads((path / "tiny.json").read_text())
        model = cls(config=meta["config"])
        model.profit_ = np.load(path / "profit.npy")
        model.success_ = np.load(path / "success.npy")
        model.duration_ = meta["duration"]
        return model


class OverconfidentFamily(TinyFamily):
    """Breaks the contract: its "probabilities" are unclipped least-squares scores."""

    def predict(self, X: np.ndarray) -> HeadOutputs:
        out = super().predict(X)
        return out._replace(success=out.success * 3.0 - 1.0)


def test_plugin_family_by_module_and_class():
    cls = get_family(f"{__name__}:TinyFamily")
    assert cls is TinyFamily
    check_family(cls, name="tiny", n_rows=450)
    check_family(cls, config={"ridge": 0}, n_rows=450)  # a config survives save -> load


def test_a_broken_family_is_named_with_the_rule():
    with pytest.raises(AssertionError, match=r"OverconfidentFamily.*success.*\[0, 1\]"):
        check_family(get_family(f"{__name__}:OverconfidentFamily"), n_rows=450)
    with pytest.raises(ValueError, match="n_rows"):
        check_family(TinyFamily, n_rows=10)
