"""Request metrics in the Prometheus text format, and the body-size limit, as one ASGI wrapper.

Hand-written (no prometheus_client in the serving install): three families,
``arbscore_requests_total{path,method,status}``, ``arbscore_request_errors_total{path,status}``
(4xx and 5xx) and the histogram ``arbscore_request_duration_seconds{path}``. Paths outside the
API's own routes are counted as ``other`` so a scanner cannot blow up the label set.

The size limit sits here because it must act before anything reads the body: a declared
``Content-Length`` over the limit is refused at once, and a chunked body is buffered only up to
the limit.
"""

from __future__ import annotations

import json
import threading
import time
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable

from arbscore.serve.errors import error_body

Scope = dict
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


class Metrics:
    """Counters and a latency histogram; thread-safe, cheap to update."""

    def __init__(self, paths: Iterable[str]) -> None:
        self.paths = frozenset(paths)
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self._errors: dict[tuple[str, int], int] = defaultdict(int)
        self._hist: dict[str, list[int]] = defaultdict(lambda: [0] * (len(BUCKETS) + 1))
        self._sum: dict[str, float] = defaultdict(float)
        self._collectors: list[Callable[[], str]] = []

    def add_collector(self, render: Callable[[], str]) -> None:
        """Append another family's exposition text to every render (e.g. ops drift gauges)."""
        self._collectors.append(render)

    def label(self, path: str) -> str:
        return path if path in self.paths else "other"

    def observe(self, path: str, method: str, status: int, seconds: float) -> None:
        path = self.label(path)
        with self._lock:
            self._requests[(path, method, status)] += 1
            if status >= 400:
                self._errors[(path, status)] += 1
            self._hist[path][bisect_left(BUCKETS, seconds)] += 1
            self._sum[path] += seconds

    def render(self) -> str:
        """The exposition text (format 0.0.4)."""
        out = [
            "# HELP arbscore_requests_total HTTP requests by path, method and status.",
            "# TYPE arbscore_requests_total counter",
        ]
        with self._lock:
            for (path, method, status), n in sorted(self._requests.items()):
                labels = f'path="{path}",method="{method}",status="{status}"'
                out.append(f"arbscore_requests_total{{{labels}}} {n}")
            out += [
                "# HELP arbscore_request_errors_total HTTP responses with status >= 400.",
                "# TYPE arbscore_request_errors_total counter",
            ]
            for (path, status), n in sorted(self._errors.items()):
                out.append(f'arbscore_request_errors_total{{path="{path}",status="{status}"}} {n}')
            out += [
                "# HELP arbscore_request_duration_seconds Time from request start to response end.",
                "# TYPE arbscore_request_duration_seconds histogram",
            ]
            for path, counts in sorted(self._hist.items()):
                cumulative = 0
                for bound, n in zip((*BUCKETS, float("inf")), counts, strict=False):
                    cumulative += n
                    le = "+Inf" if bound == float("inf") else repr(bound)
                    labels = f'path="{path}",le="{le}"'
                    out.append(f"arbscore_request_duration_seconds_bucket{{{labels}}} {cumulative}")
                out.append(
                    f'arbscore_request_duration_seconds_sum{{path="{path}"}} {self._sum[path]:.9f}'
                )
                out.append(f'arbscore_request_duration_seconds_count{{path="{path}"}} {cumulative}')
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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status_box = [500]

        async def send_wrapper(message: dict) -> None:
            if message["type"] == "http.response.start":
                status_box[0] = message["status"]
            await send(message)

        too_big = error_body(
            [
                {
                    "loc": ["body"],
                    "msg": f"request body over the limit of {self.max_body_bytes} bytes",
                    "type": "too_large",
                }
            ]
        )
        try:
            length = dict(scope.get("headers") or []).get(b"content-length")
            if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
                await _reply(send_wrapper, 413, too_big)
                return
            if length is None and scope.get("method") in ("POST", "PUT", "PATCH"):
                receive = await self._buffered(receive)
                if receive is None:
                    await _reply(send_wrapper, 413, too_big)
                    return
            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.observe(
                scope.get("path", ""),
                scope.get("method", ""),
                status_box[0],
                time.perf_counter() - start,
            )

    async def _buffered(self, receive: Receive) -> Receive | None:
        """Read a body of unknown length up to the limit; None when it is over."""
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
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
