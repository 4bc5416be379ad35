"""The one error shape of every 4xx/5xx answer, and the handlers that produce it.

Every error body is ``{"detail": [{"loc", "msg", "type"}, ...], "message": "..."}``: ``loc``
names the field (``["body", 1, "fund_apr"]``), ``message`` is one readable line naming every
field. Statuses: 400 a body that is not JSON (or empty), 401 a missing/wrong reload token,
403 reload over HTTP not enabled, 404 an unknown path or a bundle not found under the reload
root, 405 a method a path does not take, 413 a body or batch over the limit, 422 JSON that
does not validate, 500 a bug (never a traceback in the answer).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from arbscore.serve.records import RecordError, pydantic_errors

log = logging.getLogger(__name__)


class ErrorItem(BaseModel):
    """One problem: where (``loc``), what (``msg``) and its kind (``type``)."""

    loc: list[str | int]
    msg: str
    type: str


class ErrorBody(BaseModel):
    """Every error answer of the server."""

    detail: list[ErrorItem]
    message: str


#: the statuses each kind of route can answer with, for the OpenAPI document
_DESCRIPTIONS = {
    400: "malformed or empty JSON body",
    401: "missing or wrong bearer token",
    403: "reload over HTTP is not enabled (start with --allow-reload)",
    404: "no bundle by that name under the reload root",
    413: "body or batch over the limit",
    422: "JSON that does not validate; `detail[].loc` names the field",
}


def error_responses(*statuses: int) -> dict[int, dict]:
    """``responses=`` for a route: each status documented with :class:`ErrorBody`."""
    return {s: {"model": ErrorBody, "description": _DESCRIPTIONS[s]} for s in statuses}


def field_path(loc: tuple | list) -> str:
    """``["body", 1, "fund_apr"]`` -> ``1.fund_apr`` (``body`` for the whole body)."""
    return ".".join(str(p) for p in loc if p != "body") or "body"


def error_body(errors: list[dict]) -> dict:
    """The error shape: the errors and one line naming every field."""
    message = "; ".join(f"{field_path(e['loc'])}: {e['msg']}" for e in errors)
    return {"detail": errors, "message": message}


def problem(status: int, errors: list[dict], headers: dict | None = None) -> JSONResponse:
    """An error answer with ``status``."""
    return JSONResponse(error_body(errors), status_code=status, headers=headers)


class BadRequest(Exception):
    """A request the client can fix; becomes ``status`` with the field in ``loc``."""

    def __init__(
        self,
        status: int,
        loc: list,
        msg: str,
        kind: str = "value_error",
        headers: dict | None = None,
    ) -> None:
        super().__init__(msg)
        self.status, self.headers = status, headers
        self.errors = [{"loc": loc, "msg": msg, "type": kind}]


#: what the metrics record for a request whose client left before the answer (nginx's code)
CLIENT_CLOSED = 499

_HTTP_KINDS = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}


INTERNAL_ERROR = [
    {"loc": [], "msg": "internal error; the server log has the details", "type": "internal"}
]


def scoring_problem(exc: Exception, method: str, path: str) -> JSONResponse:
    """The answer to an exception a scoring handler raised: BadRequest and RecordError (the
    input checks' errors) with their status, anything else a logged 500 that shows no
    internals: a ValueError from deep inside (numpy broadcasting, onnxruntime) is the
    server's fault, not the caller's. The FastAPI handlers below and the ``/predict`` fast
    path (``serve/fastpath.py``) both answer through this."""
    if isinstance(exc, BadRequest):
        return problem(exc.status, exc.errors, exc.headers)
    if isinstance(exc, RecordError):
        return problem(exc.status, exc.errors)
    log.error("unhandled error on %s %s", method, path, exc_info=exc)
    return problem(500, INTERNAL_ERROR)


def install_error_handlers(app: FastAPI) -> None:
    """Route every error the app can raise to :func:`problem`."""

    async def _scoring(request: Request, exc: Exception) -> JSONResponse:
        return scoring_problem(exc, request.method, request.url.path)

    for kind in (BadRequest, RecordError, ValueError, Exception):
        app.add_exception_handler(kind, _scoring)

    @app.exception_handler(ClientDisconnect)
    async def _gone(_: Request, exc: ClientDisconnect) -> JSONResponse:
        # the client left mid-body: nobody reads this; the metrics count it as 499
        return problem(
            CLIENT_CLOSED, [{"loc": ["body"], "msg": "client went away", "type": "gone"}]
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(422, pydantic_errors(list(exc.errors()), ()))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            msg = f"no such path {request.url.path}; the API is listed at /docs"
        elif exc.status_code == 405:
            allowed = (exc.headers or {}).get("Allow", "")
            msg = f"{request.method} is not allowed on {request.url.path} (allowed: {allowed})"
        else:
            msg = str(exc.detail)
        kind = _HTTP_KINDS.get(exc.status_code, "http_error")
        return problem(exc.status_code, [{"loc": ["path"], "msg": msg, "type": kind}], exc.headers)
