"""Request parsing shared by the handlers: JSON bodies, opportunity validation, and the one
error shape every 4xx uses (``detail[].loc`` naming the field, plus a readable ``message``)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from arbscore.data_tools.features import normalise_keys
from arbscore.serve.schemas import Opportunity
from arbscore.serve.scorer import Scorer


def field_path(loc: tuple | list) -> str:
    """``["body", 1, "fund_apr"]`` -> ``1.fund_apr`` (``body`` for the whole body)."""
    return ".".join(str(p) for p in loc if p != "body") or "body"


def pydantic_errors(errors: list[dict], prefix: tuple = ("body",)) -> list[dict]:
    """Pydantic errors without the offending input (it may be NaN, which JSON cannot carry)."""
    return [
        {
            "loc": [*prefix, *e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "value_error")),
        }
        for e in errors
    ]


def problem(status: int, errors: list[dict]) -> JSONResponse:
    """The 4xx response: the errors and one line naming every field."""
    message = "; ".join(f"{field_path(e['loc'])}: {e['msg']}" for e in errors)
    return JSONResponse({"detail": errors, "message": message}, status_code=status)


class BadRequest(Exception):
    """A request the client can fix; becomes ``status`` with the field in ``loc``."""

    def __init__(self, status: int, loc: list, msg: str, kind: str = "value_error") -> None:
        super().__init__(msg)
        self.status, self.errors = status, [{"loc": loc, "msg": msg, "type": kind}]


async def json_body(request: Request) -> Any:
    """The parsed JSON body; 400 for an empty or malformed one."""
    raw = await request.body()
    if not raw.strip():
        raise BadRequest(400, ["body"], "empty body; send a JSON document", "missing")
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise BadRequest(400, ["body"], f"malformed JSON ({exc})", "json_invalid") from exc


def parse_opportunity(data: Any, loc: list, scorer: Scorer, now: datetime) -> dict[str, Any]:
    """Validate one opportunity JSON object into a snake_case record (defaults applied)."""
    if not isinstance(data, dict):
        raise BadRequest(
            422, loc, f"expected a JSON object, got {type(data).__name__}", "dict_type"
        )
    try:
        opp = Opportunity.model_validate(normalise_keys(data))
    except ValidationError as exc:
        raise RequestValidationError(pydantic_errors(exc.errors(), tuple(loc))) from exc
    if not scorer.known_strategy(opp.strategy):
        raise BadRequest(
            422,
            [*loc, "strategy"],
            f"unknown strategy {opp.strategy!r}; this bundle knows {list(scorer.spec.strategies)}",
        )
    return opp.to_record(now)
