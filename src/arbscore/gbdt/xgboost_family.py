"""XGBoost family: histogram trees on CPU, one scikit-learn wrapper per head.

Training uses ``xgboost.train`` on a ``QuantileDMatrix``; the kept booster is then loaded into a
scikit-learn wrapper (``XGBRegressor`` / ``XGBClassifier``) because onnxmltools'
``convert_xgboost`` converts only those. Models are fed numpy arrays, so their
feature names are the converter-friendly ``f0..fN``; ``feature_names_`` maps them back. After
early stopping only the kept trees survive (the booster is sliced and reloaded), so the model
in memory, its file and any export all hold the same trees.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

from arbscore.gbdt.base import GBDTFamily, base_score
from arbscore.gbdt.config import GBDTConfig, min_delta

#: log-loss hessians are p(1-p) (about 0.05 when most trades lose), so a success leaf with
#: ``min_samples_leaf`` rows carries about this fraction of that many hessian units
_SUCCESS_HESSIAN_PER_ROW = 0.05


def xgb_params(head: str, cfg: GBDTConfig, y_train: np.ndarray) -> dict[str, Any]:
    """``xgboost.train`` parameters for one head (explicit ``base_score`` for exporters)."""
    success = head == "success"
    min_child = cfg.min_samples_leaf * (_SUCCESS_HESSIAN_PER_ROW if success else 1.0)
    return {
        "objective": "binary:logistic" if success else "reg:squarederror",
        "eval_metric": "logloss" if success else "rmse",
        "tree_method": "hist",
        "eta": cfg.learning_rate,
        "max_depth": cfg.max_depth,
        "min_child_weight": min_child,
        "subsample": cfg.subsample,
        "colsample_bytree": cfg.colsample,
        "lambda": cfg.reg_lambda,
        "alpha": cfg.reg_alpha,
        "max_bin": cfg.max_bin,
        "base_score": base_score(head, y_train),
        "nthread": cfg.threads(),
        "seed": cfg.seed,
    }


def _wrapper_class(head: str) -> type[xgb.XGBModel]:
    return xgb.XGBClassifier if head == "success" else xgb.XGBRegressor


class XGBoostFamily(GBDTFamily):
    """XGBoost (``tree_method="hist"``) for the profit, success and duration heads."""

    name = "xgboost"
    library = "xgboost"
    model_suffix = ".json"

    def _fit_head(self, head, train, valid, cfg):
        (X_tr, y_tr), (X_va, y_va) = train, valid
        # native training: the wrapper's early-stopping path is several times slower here
        dtrain = xgb.QuantileDMatrix(X_tr, y_tr, max_bin=cfg.max_bin, nthread=cfg.threads())
        dvalid = xgb.QuantileDMatrix(X_va, y_va, ref=dtrain, nthread=cfg.threads())
        trained = xgb.train(
            xgb_params(head, cfg, y_tr),
            dtrain,
            num_boost_round=cfg.n_estimators,
            evals=[(dvalid, "valid")],
            callbacks=[
                xgb.callback.EarlyStopping(
                    rounds=cfg.early_stopping_rounds,
                    min_delta=min_delta(
                        head, y_va, cfg.early_stopping_min_improvement, squared=False
                    ),
                    save_best=False,
                )
            ],
            verbose_eval=False,
        )
        n_trees = int(trained.best_iteration) + 1
        booster = trained[:n_trees]
        booster.set_attr(best_iteration=None, best_score=None)
        kept = _wrapper_class(head)(n_jobs=cfg.threads())
        kept.load_model(bytearray(booster.save_raw("json")))
        return kept, n_trees

    @staticmethod
    def _margin(model, X):
        return np.asarray(model.predict(X, output_margin=True), dtype=np.float64)

    @classmethod
    def _load_model(cls, head: str, file: Path):
        model = _wrapper_class(head)()
        model.load_model(str(file))
        return model

    @staticmethod
    def _gain(model, n_features: int) -> np.ndarray:
        scores = model.get_booster().get_score(importance_type="total_gain")
        return np.array([scores.get(f"f{i}", 0.0) for i in range(n_features)])

    @staticmethod
    def _contribs(model, X):
        return model.get_booster().predict(xgb.DMatrix(X), pred_contribs=True)
