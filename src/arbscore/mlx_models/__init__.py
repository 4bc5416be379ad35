"""MLX multi-head network family (profit, success, duration heads; Metal GPU or CPU).

Importing this package does not import mlx: ``MLXFamily`` and ``MLXConfig`` load lazily, so the
CLI can call :func:`arbscore.mlx_models.blas.ensure_fast_blas` (which must run before mlx loads)
and serving installs without mlx never touch it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from arbscore.mlx_models.config import MLXConfig
    from arbscore.mlx_models.family import MLXFamily

__all__ = ["MLXConfig", "MLXFamily"]


def __getattr__(name: str) -> Any:
    if name == "MLXFamily":
        from arbscore.mlx_models.family import MLXFamily

        return MLXFamily
    if name == "MLXConfig":
        from arbscore.mlx_models.config import MLXConfig

        return MLXConfig
    raise AttributeError(f"module 'arbscore.mlx_models' has no attribute {name!r}")
