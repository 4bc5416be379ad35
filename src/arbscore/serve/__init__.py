"""The inference server and in-process scorer: onnxruntime, numpy, FastAPI; no training code.

``Scorer(bundle_dir)`` scores in-process; ``create_app(bundle_dir, ServeConfig())`` is the HTTP
server (``arbscore serve``). Imported lazily so ``import arbscore.serve`` costs nothing.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "Scorer": "arbscore.serve.scorer",
    "create_app": "arbscore.serve.app",
    "ServeConfig": "arbscore.serve.app",
    "size": "arbscore.serve.sizing",
    "SizingConfig": "arbscore.serve.sizing",
    "exit_signal": "arbscore.serve.exits",
    "composite_score": "arbscore.composite",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'arbscore.serve' has no attribute {name!r}")
