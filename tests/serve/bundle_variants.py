"""Bundles that differ from the golden one in a chosen graph, with their manifests re-hashed
(so each is a valid bundle as far as the checksums go)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import onnx
from serve_helpers import copy_bundle

from arbscore.export.manifest import sha256_file


def variant(dest: Path, version: str, change: Callable[[onnx.ModelProto], None]) -> Path:
    """A copy of the golden bundle whose profit graph ``change`` edits in place."""
    bundle = copy_bundle(dest)
    path = bundle / "profit.xgboost.onnx"
    graph = onnx.load(path)
    change(graph)
    onnx.save_model(graph, path)
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["model_version"] = version
    manifest["files"]["profit.xgboost.onnx"] = sha256_file(path)
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return bundle


def shift_profit(offset: float) -> Callable[[onnx.ModelProto], None]:
    """Add ``offset`` to the profit trees' base value: another model, same shape."""

    def change(graph: onnx.ModelProto) -> None:
        node = next(n for n in graph.graph.node if n.op_type == "TreeEnsembleRegressor")
        attr = next(a for a in node.attribute if a.name == "base_values")
        attr.floats[0] += offset

    return change


def input_as_double(graph: onnx.ModelProto) -> None:
    """The graph takes float64: every float32 request fails in onnxruntime."""
    graph.graph.input[0].type.tensor_type.elem_type = onnx.TensorProto.DOUBLE


def batch_of_one(graph: onnx.ModelProto) -> None:
    """The graph takes exactly one row: the one-row path works, every batch fails."""
    graph.graph.input[0].type.tensor_type.shape.dim[0].dim_value = 1
