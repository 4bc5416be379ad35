"""GBDT model families (XGBoost, LightGBM) behind :class:`arbscore.families.ModelFamily`.

Imported lazily (module ``__getattr__``) so that importing ``arbscore.gbdt`` does not load the
training libraries; the registry names ``arbscore.gbdt.xgboost_family.XGBoostFamily`` and
``arbscore.gbdt.lightgbm_family.LightGBMFamily``.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "GBDTConfig": "arbscore.gbdt.config",
    "XGBoostFamily": "arbscore.gbdt.xgboost_family",
    "LightGBMFamily": "arbscore.gbdt.lightgbm_family",
    "ShapValues": "arbscore.gbdt.base",
    "tune": "arbscore.gbdt.tuning",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'arbscore.gbdt' has no attribute {name!r}")
