"""Options that need an optional extra of arbscore: refuse them up front (exit 2, one line
naming the extra to install) instead of failing with an ImportError halfway through the work."""

from __future__ import annotations

import importlib.util

from arbscore.errors import UserInputError

#: extra -> the modules it provides that an option needs (pyproject.toml's optional deps)
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "dask": ("dask", "distributed"),
    "mlflow": ("mlflow",),
    "train": ("coremltools",),
}


def missing_modules(modules: tuple[str, ...]) -> list[str]:
    """Those of ``modules`` that cannot be imported here."""
    out = []
    for name in modules:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):  # a parent package missing or half-installed
            found = False
        if not found:
            out.append(name)
    return out


def require_extra(option: str, extra: str, what: str) -> None:
    """Raise a ``UserInputError`` when ``extra``'s modules are not installed: ``option`` needs
    ``what`` (e.g. ``--cluster``, ``dask``, ``Dask``)."""
    missing = missing_modules(EXTRA_MODULES[extra])
    if missing:
        raise UserInputError(
            f"{option} needs {what} ({', '.join(missing)} not installed): "
            f"pip install 'arbscore[{extra}]'"
        )
