"""LightGBM family: leaf-wise histogram trees on CPU, one ``lightgbm.Booster`` per head.

Bare Boosters are kept: onnxmltools' ``convert_lightgbm`` accepts them (use ``zipmap=False``
for the success head) and their text model files reload bit-exactly. After early stopping
the booster is rebuilt from its text with only the kept iterations, so memory, file and
export agree. ``deterministic=True`` with a fixed seed makes refits reproducible.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from arbscore.gbdt.base import GBDTFamily
from arbscore.gbdt.config import GBDTConfig, min_delta


def lgb_params(head: str, cfg: GBDTConfig) -> dict[str, Any]:
    """``lightgbm.train`` parameters for one head."""
    success = head == "success"
    return {
        "objective": "binary" if success else "regression",
        "metric": "binary_logloss" if success else "l2",
        "learning_rate": cfg.learning_rate,
        "num_leaves": cfg.num_leaves,
        "max_depth": -1,
        "min_data_in_leaf": cfg.min_samples_leaf,
        "min_sum_hessian_in_leaf": 1e-3,
        "feature_fraction": cfg.colsample,
        "bagging_fraction": cfg.subsample,
        "bagging_freq": 1 if cfg.subsample < 1.0 else 0,
        "lambda_l2": cfg.reg_lambda,
        "lambda_l1": cfg.reg_alpha,
        "max_bin": cfg.max_bin,
        "num_threads": cfg.threads(),
        "seed": cfg.seed,
        "deterministic": True,
        "force_col_wise": True,
        "verbosity": -1,
    }


class LightGBMFamily(GBDTFamily):
    """LightGBM for the profit, success and duration heads."""

    name = "lightgbm"
    library = "lightgbm"
    model_suffix = ".txt"

    def _fit_head(self, head, train, valid, cfg):
        (X_tr, y_tr), (X_va, y_va) = train, valid
        names = [f"f{i}" for i in range(X_tr.shape[1])]
        params = lgb_params(head, cfg)
        dtrain = lgb.Dataset(X_tr, y_tr, feature_name=names, params={"max_bin": cfg.max_bin})
        dvalid = lgb.Dataset(X_va, y_va, feature_name=names, reference=dtrain)
        booster = lgb.train(
            params,
            dtrain,
            num_boost_round=cfg.n_estimators,
            valid_sets=[dvalid],
            callbacks=[
                lgb.early_stopping(
                    cfg.early_stopping_rounds,
                    verbose=False,
                    min_delta=min_delta(
                        head, y_va, cfg.early_stopping_min_improvement, squared=True
                    ),
                )
            ],
        )
        n_trees = int(booster.best_iteration or booster.current_iteration())
        kept = lgb.Booster(model_str=booster.model_to_string(num_iteration=n_trees))
        return kept, n_trees

    @staticmethod
    def _margin(model, X):
        return np.asarray(model.predict(X, raw_score=True), dtype=np.float64)

    @classmethod
    def _load_model(cls, head: str, file: Path):
        return lgb.Booster(model_file=str(file))

    @staticmethod
    def _gain(model, n_features: int) -> np.ndarray:
        gain = np.asarray(model.feature_importance(importance_type="gain"), dtype=np.float64)
        return gain[:n_features]

    @staticmethod
    def _contribs(model, X):
        return model.predict(X, pred_contrib=True)
