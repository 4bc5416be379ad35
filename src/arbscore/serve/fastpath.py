"""``POST /predict`` answered in ASGI directly, ahead of FastAPI.

A single ``/predict`` costs ~0.2 ms to score; FastAPI's middleware stack, request object,
routing, dependency solving and exception middleware around it cost a good part of that again,
and at 32 connections on two cores that overhead is queueing time for every other connection.
:class:`FrontDoorAPI` is the FastAPI app whose HTTP requests enter through ``front`` first:
:class:`~arbscore.serve.metrics.MetricsAndLimits` (every request counted and size-limited)
around :class:`FastPredict`, which answers exactly ``POST /predict`` itself, through the same
handler as the FastAPI route and the same error mapping
(:func:`arbscore.serve.errors.scoring_problem`), so the answers, their headers and every
error body are the route's byte for byte (``tests/serve`` compares both). Everything else,
including other methods on ``/predict`` (405), goes on to FastAPI; the route stays for the
OpenAPI document and serves when the fast path is off (``ServeConfig.fast_predict``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI

from arbscore.serve.errors import scoring_problem
from arbscore.serve.metrics import ASGIApp, Receive, Scope, Send

Handle = Callable[[bytes], Awaitable[bytes]]
JSON_CONTENT_TYPE = (b"content-type", b"application/json")


async def read_body(receive: Receive) -> bytes | None:
    """The whole request body; None when the client went away before sending it."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class FastPredict:
    """ASGI middleware answering ``POST {path}`` with ``handle(raw body) -> JSON bytes``."""

    def __init__(self, app: ASGIApp, path: str, handle: Handle) -> None:
        self.app, self.path, self.handle = app, path, handle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        raw = await read_body(receive)
        if raw is None:
            return
        try:
            body = await self.handle(raw)
        except Exception as exc:  # noqa: BLE001 - mapped as the app's handlers map it
            await scoring_problem(exc, "POST", self.path)(scope, receive, send)
            return
        # what starlette's Response(body, media_type="application/json") sends, built directly
        headers = [(b"content-length", str(len(body)).encode()), JSON_CONTENT_TYPE]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class FrontDoorAPI(FastAPI):
    """FastAPI whose HTTP requests go through ``front`` (an ASGI app ending in
    :meth:`inner`, FastAPI's own handling) when one is set; lifespan events go to FastAPI."""

    front: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        front = self.front
        if front is None or scope["type"] != "http":
            await super().__call__(scope, receive, send)
        else:
            await front(scope, receive, send)

    async def inner(self, scope: Scope, receive: Receive, send: Send) -> None:
        """FastAPI's handling of a request: its middleware stack, routes and handlers."""
        await FastAPI.__call__(self, scope, receive, send)
