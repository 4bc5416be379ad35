"""A local stand-in for the Binance, Bybit, OKX and Hyperliquid public APIs, for ccxt offline.

ccxt is pointed at it by rewriting every ``https://HOST/...`` API URL to
``http://127.0.0.1:PORT/HOST/...`` (see ``arbscore.data_tools.collect.exchange.override_urls``;
the CLI does it with ``--api-base`` or ``ARBSCORE_CCXT_URL_OVERRIDE``). Responses follow the
exchanges' documented shapes (instrument templates and error pages under
``tests/fixtures/exchange/``); series values (funding, candles, books) come from a deterministic
"world" so that pagination over any range can be answered, the way the real APIs page:

* Binance: ``startTime``/``endTime``, oldest first, ``limit`` capped;
* Bybit v5: ``startTime``/``endTime`` (``start``/``end`` for klines), newest first in the window;
* OKX v5: ``before``/``after`` exclusive cursors, newest first;
* Hyperliquid: ``POST /info`` with a JSON body (``metaAndAssetCtxs``, ``fundingHistory``,
  ``candleSnapshot``, ``l2Book``, ``spotMeta``), ``startTime``/``endTime`` oldest first,
  pages capped at 500 funding events / 5000 candles.

``page_cap`` makes pages smaller than the exchanges' own maxima so tests exercise page edges.
Faults (``add_fault``) answer the next N matching requests with an error page (429 JSON,
HTML 502, ...) before the normal answer. Run standalone for manual or ``arbscore live`` use::

    python -m tests.support.replay_exchange --port 8765
    ARBSCORE_CCXT_URL_OVERRIDE=http://127.0.0.1:8765 arbscore live --exchange binance --once
"""

from __future__ import annotations

import argparse
import contextlib
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from tests.support.replay_hyperliquid import HyperliquidRoutes
from tests.support.replay_routes import ExchangeRoutes
from tests.support.replay_world import (  # noqa: F401 - re-exported for tests
    DAY_MS,
    HOUR_MS,
    WORLD_START_MS,
    SymbolSpec,
    World,
    fixture_text,
)


@dataclass
class Fault:
    path_contains: str
    status: int
    body: str
    content_type: str
    remaining: int
    skip: int = 0
    delay_s: float = 0.0  # > 0: a stall (then the normal answer) instead of an error page


class ReplayExchange(ExchangeRoutes, HyperliquidRoutes):
    """The HTTP server plus its world, fault queue and request log (thread-safe)."""

    def __init__(
        self,
        world: World | None = None,
        page_cap: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.world = world or World()
        self.page_cap = page_cap
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), _make_handler(self))
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ReplayExchange:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> ReplayExchange:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add_fault(
        self, path_contains: str, status: int, fixture: str, times: int = 1, after: int = 0
    ) -> None:
        """Answer ``times`` requests whose path contains ``path_contains`` with ``status`` and
        the fixture file's body, after letting ``after`` matching requests through."""
        ctype = "text/html" if fixture.endswith(".html") else "application/json"
        fault = Fault(path_contains, status, fixture_text(fixture), ctype, times, after)
        with self._lock:
            self._faults.append(fault)

    def add_stall(self, path_contains: str, seconds: float, times: int = 1) -> None:
        """Hold the next ``times`` matching requests for ``seconds`` before answering normally
        (a client with a shorter timeout sees a request timeout)."""
        with self._lock:
            self._faults.append(Fault(path_contains, 0, "", "", times, 0, seconds))

    def calls(self, path_contains: str) -> list[dict[str, str]]:
        """Query parameters of every logged request whose path contains the string."""
        with self._lock:
            return [q for _, p, q in self.requests if path_contains in p]

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and fault.path_contains in path:
                    if fault.skip > 0:
                        fault.skip -= 1
                        continue
                    fault.remaining -= 1
                    return fault
        return None


def _make_handler(replay: ReplayExchange) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else delayed ACKs add ~40 ms per keep-alive answer

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            parts = urlsplit(self.path)
            host, _, rest = parts.path.lstrip("/").partition("/")
            path = "/" + rest
            query = dict(parse_qsl(parts.query))
            with replay._lock:
                replay.requests.append((host, path, query))
            fault = replay._take_fault(path)
            if fault is not None and fault.delay_s > 0:
                time.sleep(fault.delay_s)
                fault = None
            if fault is not None:
                self._send(fault.status, fault.body, fault.content_type)
                return
            status, body = replay.answer(host, path, query)
            self._send(status, json.dumps(body), "application/json")

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            host, _, rest = urlsplit(self.path).path.lstrip("/").partition("/")
            path = "/" + rest
            size = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(size) or b"{}")
            except ValueError:
                self._send(400, '"Failed to deserialize the JSON body"', "application/json")
                return
            # the log keeps the JSON body as the "query": type, coin, req.* flattened
            flat = {k: v for k, v in body.items() if not isinstance(v, dict)}
            flat.update({f"req.{k}": v for k, v in (body.get("req") or {}).items()})
            with replay._lock:
                replay.requests.append((host, path + "#" + str(body.get("type")), flat))
            fault = replay._take_fault(path + "#" + str(body.get("type")))
            if fault is not None and fault.delay_s > 0:
                time.sleep(fault.delay_s)
                fault = None
            if fault is not None:
                self._send(fault.status, fault.body, fault.content_type)
                return
            status, answer = replay.answer_post(host, path, body)
            self._send(status, json.dumps(answer), "application/json")

        def _send(self, status: int, body: str, ctype: str) -> None:
            data = body.encode()
            # the client may have given up (timeout test): nothing to tell it then
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def main(argv: list[str] | None = None) -> None:
    """``python -m tests.support.replay_exchange --port N``: serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--page-cap", type=int, default=None)
    args = parser.parse_args(argv)
    server = ReplayExchange(page_cap=args.page_cap, host=args.host, port=args.port)
    print(
        f"replay exchange on {server.base_url}; ARBSCORE_CCXT_URL_OVERRIDE={server.base_url}",
        flush=True,
    )
    try:
        server._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._server.server_close()


if __name__ == "__main__":
    main()
