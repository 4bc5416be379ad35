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

from arbscore.serve.errors import BadRequest
from arbscore.serve.records import Parsed, json_type, opportunity_record, pydantic_errors
from arbscore.serve.scorer import Scorer

__all__ = ["decode_json", "json_type", "parse_opportunity", "validate"]

#: integers longer than this are read as floats: no field takes one that large, so the
#: field's own check refuses it by name (instead of Python's digit limit failing the parse)
_MAX_INT_DIGITS = 30


def _parse_int(text: str) -> int | float:
    return int(text) if len(text) <= _MAX_INT_DIGITS else float(text)


#: built once: ``json.loads(raw, parse_int=...)`` builds a decoder per call
_DECODER = json.JSONDecoder(parse_int=_parse_int)


def _loads(raw: bytes) -> Any:
    """``json.loads(raw, parse_int=_parse_int)``, step for step, with the prebuilt decoder."""
    return _DECODER.decode(raw.decode(json.detect_encoding(raw), "surrogatepass"))


def decode_json(raw: bytes) -> Any:
    """The parsed JSON body; BadRequest 400 for an empty or malformed one."""
    if not raw.strip():
        raise BadRequest(400, ["body"], "empty body; send a JSON document", "missing")
    try:
        return _loads(raw)
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


def parse_opportunity(data: Any, loc: list, scorer: Scorer, now: datetime) -> Parsed:
    """Validate one opportunity JSON object (:func:`arbscore.serve.records.opportunity_record`,
    the in-process scorer's parser too); a RecordError is the 422 it carries."""
    return opportunity_record(data, scorer.request, now, tuple(loc))
