"""Request parsing shared by the handlers: JSON bodies and opportunity validation.

Both are plain functions (no ``await``): the handlers run them, with the scoring, in the
thread pool, so a 1000-row batch never holds the event loop (``/health`` stays fast).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from arbscore.data_tools.features import normalise_keys
from arbscore.serve.errors import BadRequest, pydantic_errors
from arbscore.serve.schemas import Opportunity
from arbscore.serve.scorer import Scorer

#: integers longer than this are read as floats: no field takes one that large, so the
#: field's own check refuses it by name (instead of Python's digit limit failing the parse)
_MAX_INT_DIGITS = 30


def _parse_int(text: str) -> int | float:
    return int(text) if len(text) <= _MAX_INT_DIGITS else float(text)


def decode_json(raw: bytes) -> Any:
    """The parsed JSON body; BadRequest 400 for an empty or malformed one."""
    if not raw.strip():
        raise BadRequest(400, ["body"], "empty body; send a JSON document", "missing")
    try:
        return json.loads(raw, parse_int=_parse_int)
    except RecursionError as exc:
        raise BadRequest(
            400, ["body"], "malformed JSON (nested too deeply)", "json_invalid"
        ) from exc
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise BadRequest(
            400, ["body"], f"malformed JSON ({exc.msg} at {where})", "json_invalid"
        ) from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(400, ["body"], "malformed JSON (not UTF-8 text)", "json_invalid") from exc


def validate(model: type, data: Any, loc: tuple = ("body",)) -> Any:
    """``model.model_validate(data)``; a RequestValidationError (422) locating each field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(pydantic_errors(exc.errors(), loc)) from exc


def parse_opportunity(data: Any, loc: list, scorer: Scorer, now: datetime) -> dict[str, Any]:
    """Validate one opportunity JSON object into a snake_case record (defaults applied)."""
    if not isinstance(data, dict):
        raise BadRequest(422, loc, f"expected a JSON object, got {json_type(data)}", "dict_type")
    opp = validate(Opportunity, normalise_keys(data), tuple(loc))
    if not scorer.known_strategy(opp.strategy):
        raise BadRequest(
            422,
            [*loc, "strategy"],
            f"unknown strategy {opp.strategy!r}; this bundle knows {list(scorer.spec.strategies)}",
        )
    return opp.to_record(now)


def json_type(value: Any) -> str:
    """The JSON name of a decoded value's type (what the client sent, in its words)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
