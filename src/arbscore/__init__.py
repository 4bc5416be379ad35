"""arbscore: score crypto funding-rate arbitrage opportunities."""

__version__ = "0.1.0"


def __getattr__(name: str):
    """Lazy top-level helpers (importing ``arbscore`` stays free of numpy/onnxruntime):
    ``arbscore.size(...)`` -- fractional-Kelly position size, see ``arbscore.serve.sizing``."""
    if name == "size":
        from arbscore.serve.sizing import size

        return size
    raise AttributeError(f"module 'arbscore' has no attribute {name!r}")
