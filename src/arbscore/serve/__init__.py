"""The inference server and in-process scorer: onnxruntime, numpy, FastAPI; no training code.

``Scorer(bundle_dir)`` scores in-process; ``create_app(bundle_dir, ServeConfig())`` is the HTTP
server (``arbscore serve``). Imported lazily so ``import arbscore.serve`` costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from arbscore.composite import composite_score
    from arbscore.serve.app import ServeConfig, create_app
    from arbscore.serve.exits import exit_signal
    from arbscore.serve.scorer import Scorer
    from arbscore.serve.sizing import SizingConfig, size

__all__ = [
    "Scorer",
    "ServeConfig",
    "SizingConfig",
    "composite_score",
    "create_app",
    "exit_signal",
    "size",
]


def __getattr__(name: str) -> Any:
    """The public names, each imported on first use (plain imports, no strings)."""
    if name == "Scorer":
        from arbscore.serve.scorer import Scorer

        return Scorer
    if name == "create_app":
        from arbscore.serve.app import create_app

        return create_app
    if name == "ServeConfig":
        from arbscore.serve.app import ServeConfig

        return ServeConfig
    if name == "size":
        from arbscore.serve.sizing import size

        return size
    if name == "SizingConfig":
        from arbscore.serve.sizing import SizingConfig

        return SizingConfig
    if name == "exit_signal":
        from arbscore.serve.exits import exit_signal

        return exit_signal
    if name == "composite_score":
        from arbscore.composite import composite_score

        return composite_score
    raise AttributeError(f"module 'arbscore.serve' has no attribute {name!r}")
