"""Model families by name, imported only when asked for.

Serving never imports this module's targets (it loads ONNX bundles), so training libraries stay
out of the serving install. ``get_family("xgboost")`` imports ``arbscore.gbdt`` then; a
``module:Class`` name loads a user's own family that implements ``arbscore.families.ModelFamily``.
"""

from __future__ import annotations

import importlib

from arbscore.families import ModelFamily

DEFAULT_FAMILIES: tuple[str, ...] = ("xgboost", "lightgbm", "mlx")

#: name -> (module, class)
_FAMILIES: dict[str, tuple[str, str]] = {
    "xgboost": ("arbscore.gbdt", "XGBoostFamily"),
    "lightgbm": ("arbscore.gbdt", "LightGBMFamily"),
    "mlx": ("arbscore.mlx_models", "MLXFamily"),
}


def family_names() -> tuple[str, ...]:
    """The registered family names."""
    return tuple(_FAMILIES)


def get_family(name: str) -> type[ModelFamily]:
    """The family class registered as ``name`` (or ``package.module:Class``).

    Raises ``ValueError`` naming the known families for an unknown name, and ``ImportError``
    saying what to install when the family's library is missing.
    """
    key = name.strip()
    if ":" in key:
        module_name, _, attr = key.partition(":")
    elif key.lower() in _FAMILIES:
        module_name, attr = _FAMILIES[key.lower()]
    else:
        raise ValueError(
            f"unknown model family {name!r}; choose from {list(_FAMILIES)} "
            "or give module:Class for your own family"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportError(
            f"model family {name!r} needs {module_name}, which failed to import ({exc}); "
            "install the training extra: pip install 'arbscore[train]'"
        ) from exc
    cls = getattr(module, attr, None)
    if cls is None:
        raise ImportError(f"model family {name!r}: {module_name} has no {attr}")
    for method in ("fit", "predict", "save", "load"):
        if not callable(getattr(cls, method, None)):
            raise ValueError(f"model family {name!r} ({attr}) has no {method}(); see ModelFamily")
    return cls


def parse_family_list(values: list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """CLI ``--family``: repeated and/or comma-separated names; default DEFAULT_FAMILIES."""
    if not values:
        return DEFAULT_FAMILIES
    names: list[str] = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if part and part not in names:
                names.append(part)
    if not names:
        raise ValueError("--family: no family named")
    for n in names:
        if ":" not in n and n.lower() not in _FAMILIES:
            raise ValueError(f"--family: unknown family {n!r}; choose from {list(_FAMILIES)}")
    return tuple(names)
