"""Request metrics for Prometheus, and the body-size limit, as one ASGI wrapper.

Built on ``prometheus_client`` with a :class:`~prometheus_client.CollectorRegistry` per app (not
the process-wide default registry), so several apps in one process (tests, a composite
server) never share or collide on series. Three families:
``arbscore_requests_total{path,method,status}``, ``arbscore_request_errors_total{path,status}``
(4xx and 5xx) and the histogram ``arbscore_request_duration_seconds{path}`` (each counter and
the histogram also have the client's standard ``*_created`` timestamps). Paths outside the
API's own routes are counted as ``other`` so a scanner cannot blow up the label set.

Cheap on both sides: a request updates cached labelled children (no ``labels()`` lookup after
a series' first request), and a scrape is one ``generate_latest`` over the app's registry plus
whatever text the extra collectors (ops' drift gauges) return.

The size limit sits here because it must act before anything reads the body: a declared
``Content-Length`` over the limit is refused at once, and a chunked body is buffered only up to
the limit.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

from arbscore.serve.errors import CLIENT_CLOSED, error_body

Scope = dict
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST  # what ``generate_latest`` writes


class Metrics:
    """Counters and a latency histogram in this app's own registry; thread-safe."""

    def __init__(self, paths: Iterable[str]) -> None:
        self.paths = frozenset(paths)
        self.registry = CollectorRegistry()
        self._requests = Counter(
            "arbscore_requests_total",
            "HTTP requests by path, method and status.",
            ("path", "method", "status"),
            registry=self.registry,
        )
        self._errors = Counter(
            "arbscore_request_errors_total",
            "HTTP responses with status >= 400.",
            ("path", "status"),
            registry=self.registry,
        )
        self._duration = Histogram(
            "arbscore_request_duration_seconds",
            "Time from request start to response end.",
            ("path",),
            buckets=BUCKETS,
            registry=self.registry,
        )
        # (path, method, status) -> (requests child, errors child or None, histogram child);
        # a dict read is atomic, and a racing first insert only builds the same children twice
        self._children: dict[tuple[str, str, int], tuple[Any, Any, Any]] = {}
        self._collectors: list[Callable[[], str]] = []

    def add_collector(self, render: Callable[[], str]) -> None:
        """Append another family's exposition text to every render (e.g. ops drift gauges)."""
        self._collectors.append(render)

    def label(self, path: str) -> str:
        return path if path in self.paths else "other"

    def observe(self, path: str, method: str, status: int, seconds: float) -> None:
        key = (path, method, status)
        children = self._children.get(key)
        if children is None:
            label = self.label(path)
            children = (
                self._requests.labels(label, method, str(status)),
                self._errors.labels(label, str(status)) if status >= 400 else None,
                self._duration.labels(label),
            )
            if path in self.paths:  # unknown paths share "other": not one cache entry each
                self._children[key] = children
        requests, errors, duration = children
        requests.inc()
        if errors is not None:
            errors.inc()
        duration.observe(seconds)

    def render(self) -> str:
        """The exposition text: ``generate_latest`` of this app's registry, then the extra
        collectors' text (a failing one leaves a comment line, never a failed scrape)."""
        out = [generate_latest(self.registry).decode().rstrip("\n")]
        for collect in self._collectors:
            try:
                text = collect().rstrip("\n")
            except Exception as exc:  # noqa: BLE001 - one bad collector must not hide the rest
                text = f"# collector {getattr(collect, '__qualname__', collect)!s} failed: {exc}"
            if text:
                out.append(text)
        return "\n".join(out) + "\n"


async def _reply(send: Send, status: int, payload: dict) -> None:
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class MetricsAndLimits:
    """ASGI middleware: counts every HTTP request and refuses bodies over ``max_body_bytes``."""

    def __init__(self, app: ASGIApp, metrics: Metrics, max_body_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.too_big = error_body(
            [
                {
                    "loc": ["body"],
                    "msg": f"request body over the limit of {max_body_bytes} bytes",
                    "type": "too_large",
                }
            ]
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status_box = [0]
        gone = [False]
        inner_receive = receive

        async def receive_watch() -> dict:
            message = await inner_receive()
            if message["type"] == "http.disconnect":
                gone[0] = True
            return message

        receive = receive_watch

        async def send_wrapper(message: dict) -> None:
            if message["type"] == "http.response.start":
                status_box[0] = message["status"]
            await send(message)

        try:
            length = None
            for name, value in scope.get("headers") or ():
                if name == b"content-length":
                    length = value
            if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
                await _reply(send_wrapper, 413, self.too_big)
                return
            if length is None and scope.get("method") in ("POST", "PUT", "PATCH"):
                buffered = await self._buffered(receive)
                if buffered is None:
                    if not gone[0]:  # over the limit (a client that left gets no answer)
                        await _reply(send_wrapper, 413, self.too_big)
                    return
                receive = buffered
            await self.app(scope, receive, send_wrapper)
        finally:
            # no answer: the client left (499, not the server's fault) or the app failed (500)
            status = status_box[0] or (CLIENT_CLOSED if gone[0] else 500)
            self.metrics.observe(
                scope.get("path", ""),
                scope.get("method", ""),
                status,
                time.perf_counter() - start,
            )

    async def _buffered(self, receive: Receive) -> Receive | None:
        """Read a body of unknown length up to the limit; None when it is over or the client
        left before its end."""
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return None  # the client left mid-body: nothing to answer
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_body_bytes:
                return None
            more = message.get("more_body", False)
        body, sent = b"".join(chunks), [False]

        async def replay() -> dict:
            if sent[0]:
                return await receive()
            sent[0] = True
            return {"type": "http.request", "body": body, "more_body": False}

        return replay
