"""Connection limits of ``arbscore serve``: header and body timeouts and a connection cap.

uvicorn has none of the three: a client that sends half a request line and then waits, or a
body at one byte a minute, holds its connection (and file descriptor) for ever, and enough of
them exhaust the process's descriptors until even ``/health`` is refused. :func:`guarded_http`
returns uvicorn's httptools protocol with three additions (``--header-timeout``,
``--body-timeout``, ``--max-connections``):

- the request line and headers must arrive within ``header_timeout_s`` of the connection
  opening or of the request's first byte: else ``408`` and the connection is closed;
- the body must arrive within ``body_timeout_s`` of the headers: else ``408``, closed (the
  handler sees a client that went away);
- a connection beyond ``max_connections`` (per worker process) is closed at once, before it
  is read, so the process keeps descriptors for the connections it serves.

An idle keep-alive connection is closed by uvicorn's own keep-alive timeout (5 s).

:func:`serve_on` runs an app on a socket with these limits under :class:`DrainingServer`,
whose SIGTERM drains instead of cutting: stop accepting (a worker's socket stays open in the
supervisor and in the next worker, so queued connections wait for that one), answer every
further request with ``connection: close``, wait up to ``DRAIN_S`` for the connections to
end, then uvicorn's own graceful shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from dataclasses import dataclass
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger(__name__)
#: how long a stopping server waits for its connections to end before closing them (seconds)
DRAIN_S = 8.0


@dataclass(frozen=True)
class ConnectionLimits:
    """Per worker process; see the module docstring."""

    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    max_connections: int = 2048

    def __post_init__(self) -> None:
        for name in ("header_timeout_s", "body_timeout_s"):
            value = getattr(self, name)
            if not 0 < value <= 3600:
                raise ValueError(f"--{name[:-2].replace('_', '-')} {value}: must be in (0, 3600] s")
        if not 1 <= self.max_connections <= 1_000_000:
            raise ValueError(f"--max-connections {self.max_connections}: must be in 1..1000000")


def _timeout_response() -> bytes:
    body = b"request timeout: the request did not arrive in time\n"
    return (
        b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
        b"connection: close\r\ncontent-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )


def guarded_http(limits: ConnectionLimits) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol with ``limits`` (pass as ``uvicorn.Config(http=...)``)."""

    class GuardedHttp(HttpToolsProtocol):
        _timer: asyncio.TimerHandle | None = None

        def _arm(self, seconds: float, what: str) -> None:
            self._disarm()
            self._timer = self.loop.call_later(seconds, self._expire, what)

        def _disarm(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

        def _expire(self, what: str) -> None:
            self._timer = None
            if self.transport.is_closing():
                return
            cycle = self.cycle
            if cycle is None or not cycle.response_started:
                self.transport.write(_timeout_response())
            if cycle is not None and not cycle.response_complete:
                cycle.disconnected = True  # the handler's receive() says the client left
                cycle.message_event.set()
            log.info("closed a connection: %s not received in time", what)
            self.transport.close()

        def connection_made(self, transport: Any) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > limits.max_connections:
                log.warning("refused a connection: %d open", limits.max_connections)
                transport.abort()
                return
            self._arm(limits.header_timeout_s, "headers")

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm(limits.header_timeout_s, "headers")

        def on_headers_complete(self) -> None:
            super().on_headers_complete()
            self._arm(limits.body_timeout_s, "body")

        def on_message_complete(self) -> None:
            self._disarm()
            super().on_message_complete()

    return GuardedHttp


class DrainingServer(uvicorn.Server):
    """uvicorn's server with a draining shutdown (see the module docstring)."""

    draining = False

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        self.draining = True
        for conn in list(self.server_state.connections):
            cycles = [conn.cycle] if getattr(conn, "cycle", None) else []
            for cycle in [*cycles, *(c for c, _ in getattr(conn, "pipeline", ()))]:
                if not cycle.response_complete:
                    cycle.keep_alive = False  # its response closes the connection
        deadline = time.monotonic() + DRAIN_S
        while self.server_state.connections and time.monotonic() < deadline:
            if self.force_exit:
                break
            await asyncio.sleep(0.05)
        await super().shutdown(sockets=sockets)


class _CloseWhileDraining:
    """ASGI wrapper: while its server drains, every response says ``connection: close``."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.server: DrainingServer | None = None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or self.server is None or not self.server.draining:
            return await self.app(scope, receive, send)

        async def send_closing(message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (b"connection", b"close")]
                message = {**message, "headers": headers}
            await send(message)

        return await self.app(scope, receive, send_closing)


def listening(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` for one server process (no ``SO_REUSEPORT``: a
    second server on the port is an error, not a silent share); OSError when it is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is fine
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def serve_on(app: Any, sock: socket.socket, limits: ConnectionLimits, log_level: str) -> None:
    """Serve ``app`` on ``sock`` (bound; listened on here) until SIGTERM/SIGINT, then drain."""
    wrapped = _CloseWhileDraining(app)
    config = uvicorn.Config(
        wrapped, log_level=log_level, access_log=False, http=guarded_http(limits)
    )
    server = DrainingServer(config)
    wrapped.server = server
    server.run(sockets=[sock])


__all__ = ["ConnectionLimits", "DrainingServer", "guarded_http", "listening", "serve_on"]
