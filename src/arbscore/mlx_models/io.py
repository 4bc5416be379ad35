"""Saving and loading a fitted MLX family: safetensors weights + one small JSON config.

``weights.safetensors`` holds every network parameter under MLX's own names (``trunk.0.weight``
shaped (out, in), ``profit.weights.0`` shaped (k, in, out), ``embed.lo``, ...) plus
``input.mean`` / ``input.scale``, all float32, so a load restores the exact bits and
predictions are identical. ``mlx_config.json`` holds the format tag, the
:class:`MLXConfig`, the feature names, the Platt calibration (a, b), the device/BLAS used and
the fit report. Nothing is pickled.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mlx.core as mx
import numpy as np
from mlx.utils import tree_flatten
from safetensors.numpy import load_file, save_file

from arbscore.mlx_models.config import MLXConfig
from arbscore.mlx_models.embeddings import input_layout
from arbscore.mlx_models.model import MultiHeadNet

FORMAT = "arbscore-mlx/2"  # 2: embeddings + ensembled heads (1 = plain MLP, retrain it)
WEIGHTS_FILE = "weights.safetensors"
CONFIG_FILE = "mlx_config.json"
_INPUT_KEYS = ("input.mean", "input.scale")


def save_family(family: Any, directory: Path) -> None:
    """Write a fitted ``MLXFamily`` (the family module calls this; it is not imported here)."""
    directory.mkdir(parents=True, exist_ok=True)
    tensors = {
        name: np.array(value, dtype=np.float32)
        for name, value in tree_flatten(family.net_.parameters())
    }
    tensors["input.mean"] = np.asarray(family.mean_, dtype=np.float32)
    tensors["input.scale"] = np.asarray(family.scale_, dtype=np.float32)
    save_file(tensors, str(directory / WEIGHTS_FILE), metadata={"format": FORMAT})
    meta: dict[str, Any] = {
        "format": FORMAT,
        "family": family.name,
        "config": (family.config or MLXConfig()).to_dict(),
        "feature_names": family.feature_names_,
        "calibration": list(family.calibration_),
        "device": family.device_,
        "importances": family.importances_,
        "fit_report": family.fit_report_,
    }
    (directory / CONFIG_FILE).write_text(json.dumps(meta, indent=2))


def load_family(cls: type, directory: Path) -> Any:
    """An instance of ``cls`` (``MLXFamily``) with the state :func:`save_family` wrote."""
    config_path = directory / CONFIG_FILE
    weights_path = directory / WEIGHTS_FILE
    for p in (config_path, weights_path):
        if not p.is_file():
            raise FileNotFoundError(f"{p} not found: is {directory} an MLX family directory?")
    meta = json.loads(config_path.read_text())
    if meta.get("format") != FORMAT:
        raise ValueError(
            f"{config_path}: format {meta.get('format')!r}, expected {FORMAT!r}; "
            "retrain the MLX family with this version (arbscore train)"
        )
    config = MLXConfig.from_dict(meta["config"])
    feature_names = list(meta["feature_names"])
    tensors = load_file(str(weights_path))
    missing = [k for k in _INPUT_KEYS if k not in tensors]
    if missing:
        raise ValueError(f"{weights_path} lacks {missing}")
    net = MultiHeadNet(input_layout(feature_names), config)
    net.load_weights(
        [(k, mx.array(v)) for k, v in tensors.items() if k not in _INPUT_KEYS], strict=True
    )
    mx.eval(net.parameters())
    family = cls(config=config)
    family.net_ = net
    family.mean_ = tensors["input.mean"]
    family.scale_ = tensors["input.scale"]
    a, b = meta["calibration"]
    family.calibration_ = (float(a), float(b))
    family.feature_names_ = feature_names
    family.device_ = meta.get("device", {})
    family.importances_ = meta.get("importances", {})
    family.fit_report_ = meta.get("fit_report", {})
    return family
