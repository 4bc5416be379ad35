"""A local stand-in for the Binance, Bybit and OKX public REST APIs, for ccxt to talk to offline.

ccxt is pointed at it by rewriting every ``https://HOST/...`` API URL to
``http://127.0.0.1:PORT/HOST/...`` (see ``arbscore.data_tools.collect.exchange.override_urls``;
the CLI does it with ``--api-base`` or ``ARBSCORE_CCXT_URL_OVERRIDE``). Responses follow the
exchanges' documented shapes (instrument templates and error pages under
``tests/fixtures/exchange/``); series values (funding, candles, books) come from a deterministic
"world" so that pagination over any range can be answered, the way the real APIs page:

* Binance: ``startTime``/``endTime``, oldest first, ``limit`` capped;
* Bybit v5: ``startTime``/``endTime`` (``start``/``end`` for klines), newest first in the window;
* OKX v5: ``before``/``after`` exclusive cursors, newest first.

``page_cap`` makes pages smaller than the exchanges' own maxima so tests exercise page edges.
Faults (``add_fault``) answer the next N matching requests with an error page (429 JSON,
HTML 502, ...) before the normal answer. Run standalone for manual or ``arbscore live`` use::

    python -m tests.support.replay_exchange --port 8765
    ARBSCORE_CCXT_URL_OVERRIDE=http://127.0.0.1:8765 arbscore live --exchange binance --once
"""

from __future__ import annotations

import argparse
import json
import math
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "exchange"
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
WORLD_START_MS = 1735689600000  # 2025-01-01 00:00 UTC: default listing time of every symbol
MINUTE_MS = 60_000
_BYBIT_INTERVALS = {"1": 1, "3": 3, "5": 5, "15": 15, "30": 30, "60": 60, "240": 240, "D": 1440}
_BAR_MINUTES = {
    "1m": 1,
    "3m": 3,
    "5m": 5,
    "15m": 15,
    "30m": 30,
    "1h": 60,
    "1H": 60,
    "4h": 240,
    "4H": 240,
    "1d": 1440,
    "1D": 1440,
    "1Dutc": 1440,
}


@dataclass(frozen=True)
class SymbolSpec:
    """One listed pair: spot + USDT perp; funding every ``funding_hours`` (switching once if
    ``switch_ms`` is set, as real symbols do)."""

    base: str
    funding_hours: float = 8.0
    switch_ms: int | None = None
    switch_hours: float | None = None
    price: float = 100.0
    quote: str = "USDT"

    @property
    def name(self) -> str:
        return f"{self.base}{self.quote}"

    def hours_at(self, t_ms: int) -> float:
        if self.switch_ms is not None and t_ms >= self.switch_ms:
            return float(self.switch_hours)
        return self.funding_hours


def _default_symbols() -> dict[str, tuple[SymbolSpec, ...]]:
    return {
        "binance": (
            SymbolSpec("BTC", 8.0, price=95000.0),
            SymbolSpec("ETH", 8.0, price=3300.0),
            SymbolSpec("SOL", 8.0, price=190.0),
        ),
        "bybit": (
            SymbolSpec("BTC", 8.0, price=95010.0),
            SymbolSpec("ETH", 4.0, price=3301.0),
            SymbolSpec("SOL", 8.0, price=190.2),
        ),
        "okx": (
            SymbolSpec("BTC", 8.0, price=94990.0),
            SymbolSpec("ETH", 8.0, price=3299.0),
            SymbolSpec("SOL", 8.0, price=189.9),
        ),
    }


@dataclass
class World:
    """What the fake exchanges "know": listings from ``start_ms``; history up to ``end_ms``
    (None = the real clock, for live use)."""

    start_ms: int = WORLD_START_MS
    end_ms: int | None = None
    symbols: dict[str, tuple[SymbolSpec, ...]] = field(default_factory=_default_symbols)

    def now_ms(self) -> int:
        return self.end_ms if self.end_ms is not None else int(time.time() * 1000)

    def spec(self, exchange: str, name: str) -> SymbolSpec | None:
        return next((s for s in self.symbols.get(exchange, ()) if s.name == name), None)

    def funding_times(self, exchange: str, spec: SymbolSpec, lo: int, hi: int) -> list[int]:
        """Settlement times in [lo, hi], on the symbol's own (possibly switching) interval."""
        lo, hi = max(lo, self.start_ms), min(hi, self.now_ms())
        out, t = [], self.start_ms
        while t <= hi:
            if t >= lo:
                out.append(t)
            t += int(spec.hours_at(t) * HOUR_MS)
        return out

    def rate(self, exchange: str, name: str, t_ms: int) -> float:
        phase = zlib.crc32(f"{exchange}{name}".encode()) % 1000 / 159.0
        return round(0.0001 + 0.0002 * math.sin(t_ms / (36 * HOUR_MS) + phase), 8)

    def price(self, exchange: str, name: str, market: str, t_ms: int) -> float:
        spec = self.spec(exchange, name)
        base = spec.price if spec else 100.0
        wave = 0.02 * math.sin(t_ms / (7 * HOUR_MS)) + 0.005 * math.sin(t_ms / (23 * MINUTE_MS))
        basis = 0.0004 * math.sin(t_ms / (11 * HOUR_MS)) if market == "perp" else 0.0
        return round(base * (1 + wave + basis), 4)

    def candle(self, exchange: str, name: str, market: str, t_ms: int, minutes: int) -> list:
        """[open_ms, open, high, low, close, base volume, quote volume]"""
        o = self.price(exchange, name, market, t_ms)
        c = self.price(exchange, name, market, t_ms + minutes * MINUTE_MS)
        vol = round(5 + 3 * abs(math.sin(t_ms / (5 * HOUR_MS))) * minutes, 4)
        return [
            t_ms,
            o,
            round(max(o, c) * 1.0005, 4),
            round(min(o, c) * 0.9995, 4),
            c,
            vol,
            round(vol * (o + c) / 2, 4),
        ]

    def open_times(self, lo: int, hi: int, minutes: int) -> list[int]:
        step = minutes * MINUTE_MS
        lo = max(lo, self.start_ms)
        hi = min(hi, self.now_ms() - step)  # only closed bars
        first = -(-lo // step) * step
        return list(range(first, hi + 1, step)) if hi >= first else []


@dataclass
class Fault:
    path_contains: str
    status: int
    body: str
    content_type: str
    remaining: int
    skip: int = 0


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text()


def _instrument(template: str, spec: SymbolSpec, **extra: str) -> dict:
    text = template.replace("{base}", spec.base).replace("{quote}", spec.quote)
    for key, value in extra.items():
        text = text.replace("{" + key + "}", value)
    return json.loads(text)


class ReplayExchange:
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

    def _cap(self, limit: str | None, default: int, maximum: int) -> int:
        n = min(int(limit) if limit else default, maximum)
        return min(n, self.page_cap) if self.page_cap else n

    # --- routing --------------------------------------------------------------------------
    def answer(self, host: str, path: str, q: dict[str, str]) -> tuple[int, object]:
        with self._lock:
            self.requests.append((host, path, q))
        exchange = {
            "api.binance.com": "binance",
            "fapi.binance.com": "binance",
            "api.bybit.com": "bybit",
            "www.okx.com": "okx",
        }.get(host)
        handler = getattr(self, f"_{exchange}", None)
        if handler is None:
            return 404, {"error": f"replay server: unknown host {host}"}
        return handler(host, path, q)

    # --- binance --------------------------------------------------------------------------
    def _binance(self, host: str, path: str, q: dict[str, str]) -> tuple[int, object]:
        w, spot = self.world, host == "api.binance.com"
        market = "spot" if spot else "perp"
        if path.endswith("/exchangeInfo"):
            tpl = fixture_text("binance_spot_symbol.json" if spot else "binance_fapi_symbol.json")
            syms = [_instrument(tpl, s) for s in w.symbols["binance"]]
            return 200, {
                "timezone": "UTC",
                "serverTime": w.now_ms(),
                "rateLimits": [],
                "exchangeFilters": [],
                "symbols": syms,
            }
        if path == "/fapi/v1/fundingInfo":
            return 200, [
                {
                    "symbol": s.name,
                    "adjustedFundingRateCap": "0.02",
                    "adjustedFundingRateFloor": "-0.02",
                    "fundingIntervalHours": int(s.hours_at(w.now_ms())),
                    "disclaimer": False,
                }
                for s in w.symbols["binance"]
                if s.hours_at(w.now_ms()) != 8
            ]
        name = q.get("symbol", "")
        spec = w.spec("binance", name)
        if name and spec is None:
            return 400, json.loads(fixture_text("binance_bad_symbol.json"))
        if path == "/fapi/v1/fundingRate":
            limit = self._cap(q.get("limit"), 100, 1000)
            lo, hi = int(q.get("startTime", 0)), int(q.get("endTime", w.now_ms()))
            times = w.funding_times("binance", spec, lo, hi)
            times = times[:limit] if "startTime" in q else times[-limit:]
            return 200, [
                {
                    "symbol": name,
                    "fundingTime": t,
                    "fundingRate": f"{w.rate('binance', name, t):.8f}",
                    "markPrice": f"{w.price('binance', name, 'perp', t):.8f}",
                }
                for t in times
            ]
        if path.endswith("/klines"):
            minutes = _BAR_MINUTES[q["interval"]]
            limit = self._cap(q.get("limit"), 500, 1000 if spot else 1500)
            lo, hi = int(q.get("startTime", 0)), int(q.get("endTime", w.now_ms()))
            opens = w.open_times(lo, hi, minutes)
            opens = opens[:limit] if "startTime" in q else opens[-limit:]
            rows = []
            for t in opens:
                c = w.candle("binance", name, market, t, minutes)
                rows.append(
                    [
                        t,
                        *(f"{v:.8f}" for v in c[1:6]),
                        t + minutes * MINUTE_MS - 1,
                        f"{c[6]:.8f}",
                        120,
                        f"{c[5] / 2:.8f}",
                        f"{c[6] / 2:.8f}",
                        "0",
                    ]
                )
            return 200, rows
        now = w.now_ms()
        if path == "/fapi/v1/premiumIndex":
            nxt = w.funding_times("binance", spec, now, now + 9 * HOUR_MS)
            return 200, {
                "symbol": name,
                "markPrice": f"{w.price('binance', name, 'perp', now):.8f}",
                "indexPrice": f"{w.price('binance', name, 'spot', now):.8f}",
                "estimatedSettlePrice": f"{w.price('binance', name, 'spot', now):.8f}",
                "lastFundingRate": f"{w.rate('binance', name, now):.8f}",
                "interestRate": "0.00010000",
                "nextFundingTime": nxt[0] if nxt else 0,
                "time": now,
            }
        if path.endswith("/ticker/24hr"):
            last = w.price("binance", name, market, now)
            return 200, {
                "symbol": name,
                "priceChange": "0",
                "priceChangePercent": "0",
                "weightedAvgPrice": f"{last}",
                "lastPrice": f"{last}",
                "lastQty": "1",
                "openPrice": f"{last}",
                "highPrice": f"{last * 1.01:.4f}",
                "lowPrice": f"{last * 0.99:.4f}",
                "volume": "10000",
                "quoteVolume": f"{10000 * last:.2f}",
                "openTime": now - 24 * HOUR_MS,
                "closeTime": now,
                "firstId": 1,
                "lastId": 2,
                "count": 2,
                "bidPrice": f"{last * 0.9999:.4f}",
                "askPrice": f"{last * 1.0001:.4f}",
            }
        if path.endswith("/depth"):
            bids, asks = _book(w.price("binance", name, market, now))
            return 200, {"lastUpdateId": now, "E": now, "T": now, "bids": bids, "asks": asks}
        return 404, {"code": -1, "msg": f"replay server: no route {path}"}

    # --- bybit ----------------------------------------------------------------------------
    def _bybit(self, host: str, path: str, q: dict[str, str]) -> tuple[int, object]:
        w, now = self.world, self.world.now_ms()
        category = q.get("category", "linear")
        market = "spot" if category == "spot" else "perp"

        def ok(result: dict) -> tuple[int, object]:
            return 200, {
                "retCode": 0,
                "retMsg": "OK",
                "result": result,
                "retExtInfo": {},
                "time": now,
            }

        if path == "/v5/market/instruments-info":
            if q.get("status") == "PreLaunch":
                return ok({"category": category, "list": [], "nextPageCursor": ""})
            tpl = fixture_text(f"bybit_{'spot' if market == 'spot' else 'linear'}_instrument.json")
            items = [
                _instrument(tpl, s, funding_minutes=str(int(s.hours_at(now) * 60)))
                for s in w.symbols["bybit"]
            ]
            return ok({"category": category, "list": items, "nextPageCursor": ""})
        name = q.get("symbol", "")
        spec = w.spec("bybit", name)
        if name and spec is None:
            return 200, {
                "retCode": 10001,
                "retMsg": "params error: symbol invalid",
                "result": {},
                "retExtInfo": {},
                "time": now,
            }
        if path == "/v5/market/funding/history":
            if "startTime" in q and "endTime" not in q:
                return 200, {
                    "retCode": 10001,
                    "retMsg": "startTime and endTime must be passed together",
                    "result": {},
                    "retExtInfo": {},
                    "time": now,
                }
            limit = self._cap(q.get("limit"), 200, 200)
            times = w.funding_times(
                "bybit", spec, int(q.get("startTime", 0)), int(q.get("endTime", now))
            )[-limit:][::-1]
            rows = [
                {
                    "symbol": name,
                    "fundingRate": f"{w.rate('bybit', name, t):g}",
                    "fundingRateTimestamp": str(t),
                }
                for t in times
            ]
            return ok({"category": category, "list": rows})
        if path == "/v5/market/kline":
            minutes = _BYBIT_INTERVALS[q["interval"]]
            limit = self._cap(q.get("limit"), 200, 1000)
            opens = w.open_times(int(q.get("start", 0)), int(q.get("end", now)), minutes)
            rows = [
                [str(v) for v in w.candle("bybit", name, market, t, minutes)]
                for t in opens[-limit:][::-1]
            ]
            return ok({"category": category, "symbol": name, "list": rows})
        if path == "/v5/market/tickers":
            last = w.price("bybit", name, market, now)
            item = {
                "symbol": name,
                "lastPrice": f"{last}",
                "bid1Price": f"{last * 0.9999:.4f}",
                "bid1Size": "2.5",
                "ask1Price": f"{last * 1.0001:.4f}",
                "ask1Size": "2.1",
                "prevPrice24h": f"{last}",
                "price24hPcnt": "0",
                "highPrice24h": f"{last}",
                "lowPrice24h": f"{last}",
                "turnover24h": f"{8000 * last:.2f}",
                "volume24h": "8000",
            }
            if market == "perp":
                nxt = w.funding_times("bybit", spec, now + 1, now + 9 * HOUR_MS)
                item.update(
                    {
                        "indexPrice": f"{w.price('bybit', name, 'spot', now)}",
                        "markPrice": f"{w.price('bybit', name, 'perp', now)}",
                        "fundingRate": f"{w.rate('bybit', name, now):g}",
                        "nextFundingTime": str(nxt[0] if nxt else 0),
                        "fundingIntervalHour": str(int(spec.hours_at(now))),
                        "openInterest": "1000",
                        "openInterestValue": f"{1000 * last}",
                    }
                )
            return ok({"category": category, "list": [item]})
        if path == "/v5/market/orderbook":
            bids, asks = _book(w.price("bybit", name, market, now))
            return ok({"s": name, "b": bids, "a": asks, "ts": now, "u": 1, "seq": 1, "cts": now})
        return 404, {"retCode": 404, "retMsg": f"replay server: no route {path}"}

    # --- okx ------------------------------------------------------------------------------
    def _okx(self, host: str, path: str, q: dict[str, str]) -> tuple[int, object]:
        w, now = self.world, self.world.now_ms()

        def ok(data: list) -> tuple[int, object]:
            return 200, {"code": "0", "msg": "", "data": data}

        if path == "/api/v5/public/instruments":
            spot = q.get("instType") == "SPOT"
            tpl = fixture_text("okx_spot_instrument.json" if spot else "okx_swap_instrument.json")
            return ok(
                [
                    _instrument(tpl, s, contract_value="0.01" if s.base == "BTC" else "0.1")
                    for s in w.symbols["okx"]
                ]
            )
        inst = q.get("instId", "")
        parts = inst.split("-")
        name, market = "".join(parts[:2]), ("perp" if inst.endswith("-SWAP") else "spot")
        spec = w.spec("okx", name)
        if inst and spec is None:
            return 200, {"code": "51001", "msg": "Instrument ID does not exist", "data": []}
        newer = int(q["before"]) + 1 if "before" in q else 0
        older = int(q["after"]) - 1 if "after" in q else now
        if path == "/api/v5/public/funding-rate-history":
            limit = self._cap(q.get("limit"), 100, 100)
            times = w.funding_times("okx", spec, newer, older)[-limit:][::-1]
            return ok(
                [
                    {
                        "instType": "SWAP",
                        "instId": inst,
                        "formulaType": "withRate",
                        "fundingRate": f"{w.rate('okx', name, t):.10f}",
                        "realizedRate": f"{w.rate('okx', name, t):.6f}",
                        "fundingTime": str(t),
                        "method": "current_period",
                    }
                    for t in times
                ]
            )
        if path in ("/api/v5/market/candles", "/api/v5/market/history-candles"):
            minutes = _BAR_MINUTES[q.get("bar", "1m")]
            limit = self._cap(q.get("limit"), 100, 300 if path.endswith("/candles") else 100)
            opens = w.open_times(newer, older, minutes)[-limit:][::-1]
            ct = 0.01 if spec.base == "BTC" else 0.1
            rows = []
            for t in opens:
                c = w.candle("okx", name, market, t, minutes)
                contracts = c[5] / ct if market == "perp" else c[5]
                vol_ccy = c[5] if market == "perp" else c[6]  # SPOT: volCcy is in quote
                rows.append(
                    [
                        str(c[0]),
                        *(f"{v}" for v in c[1:5]),
                        f"{contracts:.4f}",
                        f"{vol_ccy}",
                        f"{c[6]}",
                        "1",
                    ]
                )
            return ok(rows)
        if path == "/api/v5/public/funding-rate":
            times = w.funding_times("okx", spec, now + 1, now + 17 * HOUR_MS)
            nxt = times[0] if times else now
            after = times[1] if len(times) > 1 else nxt + int(spec.hours_at(now) * HOUR_MS)
            return ok(
                [
                    {
                        "instType": "SWAP",
                        "instId": inst,
                        "fundingRate": f"{w.rate('okx', name, now):.10f}",
                        "fundingTime": str(nxt),
                        "nextFundingTime": str(after),
                        "nextFundingRate": "",
                        "method": "current_period",
                        "formulaType": "withRate",
                        "maxFundingRate": "0.0075",
                        "minFundingRate": "-0.0075",
                        "settState": "settled",
                        "settFundingRate": "0.0001",
                        "premium": "0.0001",
                        "ts": str(now),
                    }
                ]
            )
        if path == "/api/v5/market/ticker":
            last = w.price("okx", name, market, now)
            return ok(
                [
                    {
                        "instType": "SWAP" if market == "perp" else "SPOT",
                        "instId": inst,
                        "last": f"{last}",
                        "lastSz": "1",
                        "askPx": f"{last * 1.0001:.4f}",
                        "askSz": "3",
                        "bidPx": f"{last * 0.9999:.4f}",
                        "bidSz": "4",
                        "open24h": f"{last}",
                        "high24h": f"{last}",
                        "low24h": f"{last}",
                        "volCcy24h": "9000",
                        "vol24h": "900000",
                        "sodUtc0": f"{last}",
                        "sodUtc8": f"{last}",
                        "ts": str(now),
                    }
                ]
            )
        if path == "/api/v5/market/books":
            ct = 0.01 if spec.base == "BTC" else 0.1
            bids, asks = _book(
                w.price("okx", name, market, now), 1 / ct if market == "perp" else 1.0
            )
            return ok(
                [
                    {
                        "asks": [[p, s, "0", "1"] for p, s in asks],
                        "bids": [[p, s, "0", "1"] for p, s in bids],
                        "ts": str(now),
                    }
                ]
            )
        return 404, {"code": "404", "msg": f"replay server: no route {path}", "data": []}


def _book(mid: float, size_scale: float = 1.0, levels: int = 20) -> tuple[list, list]:
    """A symmetric book: 1 bp half-spread, levels 2 bp apart, growing size (in base units
    times ``size_scale``, e.g. contracts on OKX swaps)."""
    bids = [
        [f"{mid * (1 - 0.0001 - 0.0002 * i):.4f}", f"{(1 + i) * size_scale:.4f}"]
        for i in range(levels)
    ]
    asks = [
        [f"{mid * (1 + 0.0001 + 0.0002 * i):.4f}", f"{(1 + i) * size_scale:.4f}"]
        for i in range(levels)
    ]
    return bids, asks


def _make_handler(replay: ReplayExchange) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else delayed ACKs add ~40 ms per keep-alive answer

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            parts = urlsplit(self.path)
            host, _, rest = parts.path.lstrip("/").partition("/")
            path = "/" + rest
            query = dict(parse_qsl(parts.query))
            fault = replay._take_fault(path)
            if fault is not None:
                with replay._lock:
                    replay.requests.append((host, path, query))
                self._send(fault.status, fault.body, fault.content_type)
                return
            status, body = replay.answer(host, path, query)
            self._send(status, json.dumps(body), "application/json")

        def _send(self, status: int, body: str, ctype: str) -> None:
            data = body.encode()
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
