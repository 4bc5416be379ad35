"""Hyperparameters of the MLX multi-head family, one frozen dataclass saved with the weights.

The defaults are the best MLX settings of ``benchmarks/mlx_ablation.py`` on the real training
set (PLE embeddings, categorical embeddings, 4-member heads, robust scaling + smooth clip,
per-head loss balance); a gradient step costs about 5x the plain MLP's on CPU, so 500k rows
take minutes on two CPU cores with OpenBLAS (``benchmarks/train.py``; much faster on the Metal
GPU). ``numeric_embedding="none"``, ``ensemble_size=1`` and ``categorical_embedding_dim=0``
give the plain, cheap MLP. Validation happens here so a bad value fails before training.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from arbscore.calibration import MIN_CALIBRATION_EVENTS
from arbscore.schema import MAX_HOLD_HOURS

ACTIVATIONS: tuple[str, ...] = ("relu", "silu")
NUMERIC_EMBEDDINGS: tuple[str, ...] = ("none", "ple", "periodic")
SCALINGS: tuple[str, ...] = ("standard", "robust")
LOSS_BALANCES: tuple[str, ...] = ("none", "baseline")
CHECKPOINTS: tuple[str, ...] = ("last", "best")


def numpy_activation(x: np.ndarray, name: str) -> np.ndarray:
    """``name`` ("relu", "silu"; anything else is the identity) in numpy, for the reference
    forward passes (``model.numpy_forward``, ``export.onnx_mlp.reference_forward``); here
    because this module imports no MLX."""
    if name == "relu":
        return np.maximum(x, 0.0)
    if name == "silu":
        return x / (1.0 + np.exp(-x))
    return x


@dataclass(frozen=True)
class MLXConfig:
    """Architecture, loss weights, optimiser and early-stopping settings of :class:`MLXFamily`.

    ``trunk_sizes`` are the hidden widths of the shared trunk; ``head_hidden`` the width of the
    one hidden layer of each head (0 = a single linear layer). ``ensemble_size`` k gives each
    head k members over the shared trunk, each trained on its own loss, predictions averaged
    (the cheap ensemble of TabM's line of work; exported folded into one wider head).
    Inputs: ``scaling`` "standard" (mean/std) or "robust" (median, IQR / 1.349, as RealMLP),
    then a hard clip at ``input_clip`` and, when ``smooth_clip`` s > 0, x / sqrt(1 + (x/s)^2).
    ``numeric_embedding``: "none" (scaled values), "ple" (piecewise-linear encoding on
    ``n_bins`` quantile bins fitted on training rows) or "periodic" (sin/cos of ``n_frequencies``
    trained frequencies), each followed by a per-feature linear layer to ``embedding_dim`` and
    ReLU (Gorishniy et al. 2022); the hold gets its own embedding, fed to the hold-conditioned
    heads. ``categorical_embedding_dim`` > 0 maps each one-hot group (strategy, regime) to a
    learnt vector of that size. ``loss_balance`` "baseline" divides each head's loss by the
    constant predictor's training loss, so every head starts at ~1 whatever its units.
    ``purge_hours`` is the gap between the training part and the time-ordered validation slice
    (the longest label window, so no training label overlaps the validation period).
    """

    trunk_sizes: tuple[int, ...] = (128, 64)
    head_hidden: int = 32
    activation: str = "relu"
    ensemble_size: int = 4
    # inputs
    scaling: str = "robust"
    input_clip: float = 10.0  # scaled inputs are clipped to [-c, c]; 0 disables it
    smooth_clip: float = 3.0  # 0 disables the smooth clip
    numeric_embedding: str = "ple"
    n_bins: int = 16
    n_frequencies: int = 16
    frequency_scale: float = 0.1  # std of the initial periodic frequencies
    embedding_dim: int = 8
    categorical_embedding_dim: int = 4
    loss_balance: str = "baseline"
    # losses
    profit_weight: float = 1.0
    success_weight: float = 1.0
    duration_weight: float = 1.0  # 0.5 -> 1.0: real set, 3 seeds, every head a little better
    huber_delta: float = 0.25  # in training profit std units; small = close to MAE (the metric)
    # optimisation
    learning_rate: float = 1e-3
    min_learning_rate: float = 1e-5
    weight_decay: float = 1e-4
    warmup_steps: int = 100
    batch_size: int = 2048
    min_steps_per_epoch: int = 20  # small data sets get smaller batches (never below 64 rows)
    max_epochs: int = 30
    max_steps: int = 1200  # caps epochs on big data (was 2000: real set, all heads better)
    patience: int = 4  # checkpoint="best" only
    # "last": the weights at the end of the planned schedule (the validation slice reports
    # and calibrates); "best": early stopping, the best validation epoch's weights restored
    checkpoint: str = "last"
    grad_clip: float = 1.0  # global gradient-norm clip; 0 disables it
    # time-ordered validation slice (early stopping + probability calibration)
    val_fraction: float = 0.15
    purge_hours: float = float(MAX_HOLD_HOURS)
    min_train_fraction: float = 0.5  # the purge shrinks if it would leave fewer training rows
    min_val_rows: int = 64  # below this there is no early stopping; Platt uses training rows
    # fewer positives/negatives than this: Platt fits the intercept only
    min_calibration_events: int = MIN_CALIBRATION_EVENTS
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "trunk_sizes", tuple(int(s) for s in self.trunk_sizes))
        if not self.trunk_sizes or any(s < 1 for s in self.trunk_sizes):
            raise ValueError(f"trunk_sizes must be positive widths, got {self.trunk_sizes!r}")
        for name, allowed in (
            ("numeric_embedding", NUMERIC_EMBEDDINGS),
            ("scaling", SCALINGS),
            ("loss_balance", LOSS_BALANCES),
            ("checkpoint", CHECKPOINTS),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        for name in ("ensemble_size", "n_bins", "n_frequencies", "embedding_dim"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("categorical_embedding_dim", "smooth_clip"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0 (0 disables it), got {getattr(self, name)}")
        if self.frequency_scale <= 0:
            raise ValueError(f"frequency_scale must be > 0, got {self.frequency_scale}")
        if self.head_hidden < 0:
            raise ValueError(f"head_hidden must be >= 0, got {self.head_hidden}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {self.activation!r}")
        for name in ("profit_weight", "success_weight", "duration_weight", "weight_decay"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.profit_weight + self.success_weight + self.duration_weight <= 0:
            raise ValueError("at least one of profit/success/duration_weight must be > 0")
        for name in ("huber_delta", "learning_rate"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if not 0 <= self.min_learning_rate <= self.learning_rate:
            raise ValueError(
                f"min_learning_rate must be in [0, learning_rate={self.learning_rate}], "
                f"got {self.min_learning_rate}"
            )
        for name in ("batch_size", "min_steps_per_epoch", "max_epochs", "max_steps", "patience"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("warmup_steps", "min_val_rows", "min_calibration_events"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.input_clip < 0:
            raise ValueError(f"input_clip must be >= 0 (0 disables it), got {self.input_clip}")
        if self.grad_clip < 0:
            raise ValueError(f"grad_clip must be >= 0 (0 disables it), got {self.grad_clip}")
        if not 0 <= self.val_fraction < 1:
            raise ValueError(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        if self.purge_hours < 0:
            raise ValueError(f"purge_hours must be >= 0, got {self.purge_hours}")
        if not 0 < self.min_train_fraction <= 1:
            raise ValueError(f"min_train_fraction must be in (0, 1], got {self.min_train_fraction}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (tuples become lists)."""
        out = asdict(self)
        out["trunk_sizes"] = list(self.trunk_sizes)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MLXConfig:
        """Rebuild from :meth:`to_dict`; unknown keys are rejected so a typo never passes."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown MLXConfig keys {unknown}; known keys: {sorted(known)}")
        values = dict(data)
        if "trunk_sizes" in values:
            values["trunk_sizes"] = tuple(values["trunk_sizes"])
        return cls(**values)
