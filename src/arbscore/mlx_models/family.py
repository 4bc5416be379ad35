"""``MLXFamily``: the multi-head MLX network behind :class:`arbscore.families.ModelFamily`.

fit: split the rows by time (training part, purge gap, validation slice), scale inputs
with statistics of the training part only (one-hot columns stay 0/1), fit the PLE bins on the
training part's scaled rows, standardise the profit target, train the three heads
together (profit and success on every (opportunity, hold) row, duration on one row per
opportunity), restore the best validation epoch, fold the profit target scale back into the
last profit layer (so the net outputs percent directly), then Platt-scale the success logit on
the validation slice. Fitted state: ``net_``, ``mean_``, ``scale_``, ``calibration_ = (a, b)``,
``feature_names_``, ``device_``, ``importances_`` and ``fit_report_``; see
:mod:`arbscore.mlx_models.model` for the exact graph and :meth:`MLXFamily.layer_params` for
exporters.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import mlx.core as mx
import numpy as np

from arbscore.calibration import fit_platt
from arbscore.data_tools.targets import Targets
from arbscore.families import HeadOutputs
from arbscore.mlx_models import io
from arbscore.mlx_models.blas import describe_device
from arbscore.mlx_models.config import MLXConfig
from arbscore.mlx_models.embeddings import input_layout
from arbscore.mlx_models.importance import permutation_importance
from arbscore.mlx_models.model import (
    InputParams,
    LayerParams,
    MultiHeadNet,
    input_params,
    layer_params,
)
from arbscore.mlx_models.prepare import (
    check_targets,
    duration_mask,
    duration_target,
    fit_standardiser,
    standardise,
    time_split,
)
from arbscore.mlx_models.reference import fit_ple_bins
from arbscore.mlx_models.train import TrainArrays, loss_weights, train_net
from arbscore.progress import Progress
from arbscore.schema import HOLD_COLUMN, clip_hold_hours

PREDICT_CHUNK = 65_536


class MLXFamily:
    """Shared-trunk, three-head MLX network (Metal GPU on Apple Silicon, CPU elsewhere)."""

    name = "mlx"

    def __init__(self, config: MLXConfig | None = None) -> None:
        self.config = config

    @classmethod
    def fast_config(cls) -> MLXConfig:
        """Fast but real settings for ``arbscore.families.check_family`` (3 epochs)."""
        return MLXConfig(max_epochs=3, batch_size=512)

    # --- fit ----------------------------------------------------------------------------------
    def fit(
        self,
        X: np.ndarray,
        targets: Targets,
        feature_names: list[str],
        progress: Progress | None = None,
    ) -> MLXFamily:
        """Train all three heads; returns self."""
        config = self.config or MLXConfig()
        x = _check_x(X, feature_names)
        if len(x) != len(targets.profit):
            raise ValueError(f"X has {len(x)} rows but targets have {len(targets.profit)}")
        if len(x) < 2:
            raise ValueError(f"need at least 2 training rows, got {len(x)}")
        check_targets(targets)
        t0 = time.perf_counter()
        split = time_split(np.asarray(targets.timestamp_ms), config)
        layout = input_layout(list(feature_names))
        self.mean_, self.scale_ = fit_standardiser(
            x[split.train], config.scaling, layout.categorical_flat
        )
        x_s = standardise(x, self.mean_, self.scale_, config.input_clip, config.smooth_clip)
        profit = np.asarray(targets.profit, dtype=np.float64)
        p_mean = float(profit[split.train].mean())
        p_std = float(profit[split.train].std())
        p_scale = p_std if p_std > 1e-12 else 1.0
        arrays = TrainArrays(
            x=x_s,
            profit=((profit - p_mean) / p_scale).astype(np.float32),
            success=np.asarray(targets.success, dtype=np.float32),
            duration_log=duration_target(targets.duration),
            duration_mask=duration_mask(targets),
        )
        train, val = _take(arrays, split.train), _take(arrays, split.val)
        mx.random.seed(config.seed)
        bins = None
        if config.numeric_embedding == "ple":
            cols = [*layout.numeric, layout.hold]
            bins = fit_ple_bins(x_s[split.train][:, cols], config.n_bins)
        net = MultiHeadNet(layout, config, bins)
        mx.eval(net.parameters())
        report = train_net(net, train, val if len(val) else None, config, progress)
        held_out = val if len(val) else train
        # importance in the standardised target space the losses are defined in, so before folding
        self.importances_ = permutation_importance(
            net, held_out, list(feature_names), loss_weights(config), seed=config.seed
        )
        _fold_target_scale(net, p_mean, p_scale)
        self.net_ = net
        self.feature_names_ = list(feature_names)
        logit = self._raw(held_out.x)[1]
        self.calibration_ = fit_platt(logit, held_out.success, config.min_calibration_events)
        self.device_ = describe_device()
        self.fit_report_: dict[str, Any] = {
            **asdict(report),
            "rows": len(x),
            "train_rows": len(split.train),
            "val_rows": len(split.val),
            "purge_hours": split.purge_hours,
            "opportunities": int(arrays.duration_mask.sum()),
            "profit_target_mean": p_mean,
            "profit_target_scale": p_scale,
            "calibration_rows": "validation" if len(val) else "training",
            "fit_seconds": time.perf_counter() - t0,
            "device": self.device_,
        }
        return self

    # --- predict ------------------------------------------------------------------------------
    def _raw(self, x_std: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(profit, logit, duration_log) for already standardised rows, in chunks."""
        parts: list[tuple[np.ndarray, ...]] = []
        for start in range(0, len(x_std), PREDICT_CHUNK):
            out = self.net_(mx.array(x_std[start : start + PREDICT_CHUNK]))
            mx.eval(out)
            parts.append(tuple(np.array(a, dtype=np.float32) for a in out))
        if not parts:
            empty = np.zeros(0, dtype=np.float32)
            return empty, empty, empty
        return tuple(np.concatenate(cols) for cols in zip(*parts, strict=True))  # type: ignore[return-value]

    def predict(self, X: np.ndarray) -> HeadOutputs:
        """Profit (%), calibrated success probability and optimal hold (hours) per row."""
        if not hasattr(self, "net_"):
            raise ValueError("MLXFamily is not fitted: call fit() or MLXFamily.load() first")
        x = _check_x(X, self.feature_names_)
        c = self.config or MLXConfig()
        x_s = standardise(x, self.mean_, self.scale_, c.input_clip, c.smooth_clip)
        profit, logit, dur_log = self._raw(x_s)
        a, b = self.calibration_
        success = 1.0 / (1.0 + np.exp(-(a * logit.astype(np.float64) + b)))
        duration = clip_hold_hours(np.expm1(dur_log.astype(np.float64)))
        return HeadOutputs(profit.astype(np.float64), success, duration)

    def feature_importances(self) -> dict[str, dict[str, float]]:
        """{head: {feature: share}}: permutation importance on the held-out slice (sums to 1)."""
        if not hasattr(self, "net_"):
            raise ValueError("MLXFamily is not fitted: call fit() or MLXFamily.load() first")
        return {head: dict(v) for head, v in self.importances_.items()}

    def layer_params(self) -> list[LayerParams]:
        """Every linear layer in graph order, weights (in, out); see the model module docstring."""
        if not hasattr(self, "net_"):
            raise ValueError("MLXFamily is not fitted: call fit() or MLXFamily.load() first")
        return layer_params(self.net_)

    def input_params(self) -> InputParams:
        """The input stage (scaling, embeddings) as numpy; see the model module docstring."""
        if not hasattr(self, "net_"):
            raise ValueError("MLXFamily is not fitted: call fit() or MLXFamily.load() first")
        return input_params(self.net_, self.mean_, self.scale_, self.config or MLXConfig())

    # --- persistence --------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Write weights.safetensors + mlx_config.json into directory ``path``."""
        if not hasattr(self, "net_"):
            raise ValueError("MLXFamily is not fitted: nothing to save")
        io.save_family(self, Path(path))

    @classmethod
    def load(cls, path: Path) -> MLXFamily:
        """Rebuild a fitted family from :meth:`save`'s directory; predictions are identical."""
        return io.load_family(cls, Path(path))


def _check_x(X: np.ndarray, feature_names: list[str]) -> np.ndarray:
    x = np.asarray(X)
    if x.ndim != 2:
        raise ValueError(f"X must be 2-D (rows, features), got shape {x.shape}")
    if x.shape[1] != len(feature_names):
        raise ValueError(
            f"X has {x.shape[1]} columns but feature_names has {len(feature_names)} names"
        )
    if not feature_names or feature_names[-1] != HOLD_COLUMN:
        last = feature_names[-1] if feature_names else None
        raise ValueError(f"the last feature must be {HOLD_COLUMN!r}, got {last!r}")
    x = x.astype(np.float32, copy=False)
    if not np.all(np.isfinite(x)):
        bad = np.flatnonzero(~np.all(np.isfinite(x), axis=0))
        names = [feature_names[i] for i in bad[:5]]
        raise ValueError(f"X has NaN/inf in columns {names}; build X with features.build_matrix")
    return x


def _take(arrays: TrainArrays, idx: np.ndarray) -> TrainArrays:
    return TrainArrays(*(getattr(arrays, f)[idx] for f in TrainArrays.__dataclass_fields__))


def _fold_target_scale(net: MultiHeadNet, mean: float, scale: float) -> None:
    """Make the last profit layer output percent: W' = W * scale, b' = b * scale + mean."""
    head = net.profit
    head.weights[-1] = head.weights[-1] * scale
    head.biases[-1] = head.biases[-1] * scale + mean
    mx.eval(net.parameters())
