"""Model bundle export: ONNX per head (the MLX net as one graph), optional Core ML, manifest.

Lazy attributes so the server can import ``arbscore.export.manifest`` without onnx or any
training library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from arbscore.export.bundle import ExportConfig, export_bundle, export_families
    from arbscore.export.manifest import read_manifest

__all__ = ["ExportConfig", "export_bundle", "export_families", "read_manifest"]


def __getattr__(name: str) -> Any:
    """The public names, each imported on first use (plain imports, no strings)."""
    if name == "ExportConfig":
        from arbscore.export.bundle import ExportConfig

        return ExportConfig
    if name == "export_bundle":
        from arbscore.export.bundle import export_bundle

        return export_bundle
    if name == "export_families":
        from arbscore.export.bundle import export_families

        return export_families
    if name == "read_manifest":
        from arbscore.export.manifest import read_manifest

        return read_manifest
    raise AttributeError(f"module 'arbscore.export' has no attribute {name!r}")
