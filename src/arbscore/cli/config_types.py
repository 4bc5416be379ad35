"""The scalar type check of ``--config`` values (``cli/run_cmds.py``'s ``_build_config``): a
TOML/JSON value that cannot be its config field is refused naming the key, before any work
(``n_estimators = true`` used to train one tree, ``= 2.5`` to crash after the data stage).
A stopgap until the configs parse themselves."""

from __future__ import annotations

import types
import typing
from typing import Any

_SCALARS: dict[type, tuple[type, ...]] = {
    bool: (bool,),
    int: (int,),
    float: (int, float),
    str: (str,),
}


def misfit(cls: type, key: str, value: Any) -> str | None:
    """The expected type's name when ``value`` cannot be field ``key`` of ``cls`` (checked for
    bool, int, float, str and their ``| None``; other field types are left to the class).
    ``true`` is not an int and ``2.5`` not an int; an int is a float."""
    try:
        hint = typing.get_type_hints(cls)[key]
    except Exception:  # noqa: BLE001 - an annotation that does not resolve: not checked here
        return None
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    if typing.get_origin(hint) is typing.Union:
        options = typing.get_args(hint)
    if any(o not in _SCALARS and o is not type(None) for o in options):
        return None
    if value is None and type(None) in options:
        return None
    for option in options:
        ok = isinstance(value, _SCALARS.get(option, ()))
        if ok and not (isinstance(value, bool) and option is not bool):
            return None
    return " or ".join(getattr(o, "__name__", str(o)) for o in options)
