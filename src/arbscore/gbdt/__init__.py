"""GBDT model families (XGBoost, LightGBM) behind :class:`arbscore.families.ModelFamily`.

Imported lazily (module ``__getattr__``) so that importing ``arbscore.gbdt`` does not load the
training libraries; the registry names ``arbscore.gbdt.xgboost_family.XGBoostFamily`` and
``arbscore.gbdt.lightgbm_family.LightGBMFamily``.
"""

from __future__ import annotations

import importlib
import os

# XGBoost and LightGBM run on OpenMP, whose idle threads spin by default. When the cores are
# shared (other programs, tests in parallel, a busy laptop) a 2-thread fit measured 13x slower
# in wall time and CPU than with passive waiting (20k rows, load 10 on 2 cores). libgomp reads
# this once when it loads, so it is set here, before the submodules import the libraries; an
# explicit user setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

_LAZY = {
    "GBDTConfig": "arbscore.gbdt.config",
    "XGBoostFamily": "arbscore.gbdt.xgboost_family",
    "LightGBMFamily": "arbscore.gbdt.lightgbm_family",
    "ShapValues": "arbscore.gbdt.base",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'arbscore.gbdt' has no attribute {name!r}")
