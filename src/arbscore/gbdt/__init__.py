"""GBDT model families (XGBoost, LightGBM) behind :class:`arbscore.families.ModelFamily`.

Imported lazily (module ``__getattr__``) so that importing ``arbscore.gbdt`` does not load the
training libraries; the registry names ``arbscore.gbdt.xgboost_family.XGBoostFamily`` and
``arbscore.gbdt.lightgbm_family.LightGBMFamily``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

# XGBoost and LightGBM run on OpenMP, whose idle threads spin by default. When the cores are
# shared (other programs, tests in parallel, a busy laptop) a 2-thread fit measured 13x slower
# in wall time and CPU than with passive waiting (20k rows, load 10 on 2 cores). libgomp reads
# this once when it loads, so it is set here, before the submodules import the libraries; an
# explicit user setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

if TYPE_CHECKING:
    from arbscore.gbdt.base import ShapValues
    from arbscore.gbdt.config import GBDTConfig
    from arbscore.gbdt.lightgbm_family import LightGBMFamily
    from arbscore.gbdt.xgboost_family import XGBoostFamily

__all__ = ["GBDTConfig", "LightGBMFamily", "ShapValues", "XGBoostFamily"]


def __getattr__(name: str) -> Any:
    """The public names, each imported on first use (plain imports, no strings)."""
    if name == "GBDTConfig":
        from arbscore.gbdt.config import GBDTConfig

        return GBDTConfig
    if name == "XGBoostFamily":
        from arbscore.gbdt.xgboost_family import XGBoostFamily

        return XGBoostFamily
    if name == "LightGBMFamily":
        from arbscore.gbdt.lightgbm_family import LightGBMFamily

        return LightGBMFamily
    if name == "ShapValues":
        from arbscore.gbdt.base import ShapValues

        return ShapValues
    raise AttributeError(f"module 'arbscore.gbdt' has no attribute {name!r}")
