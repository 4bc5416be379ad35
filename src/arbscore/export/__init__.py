"""Model bundle export: ONNX per head (the MLX net as one graph), optional Core ML, manifest.

Lazy attributes so the server can import ``arbscore.export.manifest`` without onnx or any
training library.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "ExportConfig": "arbscore.export.bundle",
    "export_bundle": "arbscore.export.bundle",
    "export_families": "arbscore.export.bundle",
    "read_manifest": "arbscore.export.manifest",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'arbscore.export' has no attribute {name!r}")
