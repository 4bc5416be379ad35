"""Hyperliquid's public ``POST /info`` API in the replay exchange, in its documented shapes.

ccxt's ``hyperliquid`` class asks ``spotMeta`` (currencies) and ``metaAndAssetCtxs`` (perp
markets, tickers and the current, i.e. predicted, hourly funding) on load, ``fundingHistory``
for settled funding (``startTime`` required, ``endTime`` optional, oldest first, at most 500
events), ``candleSnapshot`` for klines (at most 5000 candles) and ``l2Book`` for the book.
The recorded ``fundingHistory`` answer under ``../shared/data/11_api_response_samples`` has the
same fields (``coin``, ``fundingRate``, ``premium``, ``time``).
"""

from __future__ import annotations

import threading

from tests.support.replay_world import _BAR_MINUTES, MINUTE_MS, World, book

HOST = "api.hyperliquid.xyz"
_DESERIALIZE = "Failed to deserialize the JSON body into the target type"


def _px(value: float) -> str:
    """Prices as Hyperliquid prints them: at most 5 significant figures, no exponent."""
    digits = max(0, 5 - len(str(int(abs(value)))))
    text = f"{value:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


class HyperliquidRoutes:
    """``POST /info`` answers, mixed into :class:`~tests.support.replay_exchange.ReplayExchange`."""

    world: World
    page_cap: int | None
    _lock: threading.Lock

    def answer_post(self, host: str, path: str, body: dict) -> tuple[int, object]:
        if host != HOST or path != "/info":
            return 404, {"error": f"replay server: no POST route {host}{path}"}
        kind = body.get("type")
        handler = getattr(self, f"_hl_{kind}", None)
        if handler is None:
            return 422, _DESERIALIZE
        return handler(body)

    def _hl_cap(self, maximum: int) -> int:
        return min(maximum, self.page_cap) if self.page_cap else maximum

    def _hl_spec(self, coin: str):
        return next((s for s in self.world.symbols.get("hyperliquid", ()) if s.base == coin), None)

    def _hl_spotMeta(self, body: dict) -> tuple[int, object]:  # noqa: N802 - the API's name
        usdc = {
            "name": "USDC",
            "szDecimals": 8,
            "weiDecimals": 8,
            "index": 0,
            "tokenId": "0x6d1e7cde53ba9467b783cb7c530ce054",
            "isCanonical": True,
            "evmContract": None,
            "fullName": None,
        }
        return 200, {"universe": [], "tokens": [usdc]}

    def _hl_metaAndAssetCtxs(self, body: dict) -> tuple[int, object]:  # noqa: N802
        w, now = self.world, self.world.now_ms()
        universe, ctxs = [], []
        for s in w.symbols.get("hyperliquid", ()):
            universe.append(
                {
                    "szDecimals": 5 if s.base == "BTC" else 4,
                    "name": s.base,
                    "maxLeverage": 40 if s.base == "BTC" else 25,
                    "marginTableId": 56 if s.base == "BTC" else 55,
                }
            )
            mark = w.price("hyperliquid", s.name, "perp", now)
            ctxs.append(
                {
                    "funding": f"{w.rate('hyperliquid', s.name, now):.8f}".rstrip("0"),
                    "openInterest": "1234.5",
                    "prevDayPx": _px(mark),
                    "dayNtlVlm": f"{7000 * mark:.2f}",
                    "premium": f"{w.premium('hyperliquid', s.name, now):.8f}",
                    "oraclePx": _px(w.price("hyperliquid", s.name, "spot", now)),
                    "markPx": _px(mark),
                    "midPx": _px(mark),
                    "impactPxs": [_px(mark * 0.9999), _px(mark * 1.0001)],
                    "dayBaseVlm": "7000.0",
                }
            )
        return 200, [{"universe": universe, "marginTables": [], "collateralToken": 0}, ctxs]

    def _hl_fundingHistory(self, body: dict) -> tuple[int, object]:  # noqa: N802
        w = self.world
        spec = self._hl_spec(str(body.get("coin")))
        if "startTime" not in body:
            return 422, _DESERIALIZE
        if spec is None:
            return 500, None
        lo, hi = int(body["startTime"]), int(body.get("endTime") or w.now_ms())
        times = w.funding_times("hyperliquid", spec, lo, hi)[: self._hl_cap(500)]
        return 200, [
            {
                "coin": spec.base,
                "fundingRate": f"{w.rate('hyperliquid', spec.name, t):.8f}".rstrip("0"),
                "premium": f"{w.premium('hyperliquid', spec.name, t):.8f}",
                "time": t,
            }
            for t in times
        ]

    def _hl_candleSnapshot(self, body: dict) -> tuple[int, object]:  # noqa: N802
        w, req = self.world, body.get("req") or {}
        spec = self._hl_spec(str(req.get("coin")))
        if spec is None or "startTime" not in req or req.get("interval") not in _BAR_MINUTES:
            return 500, None
        minutes = _BAR_MINUTES[req["interval"]]
        hi = int(req.get("endTime") or w.now_ms())
        opens = w.open_times(int(req["startTime"]), hi, minutes)[: self._hl_cap(5000)]
        rows = []
        for t in opens:
            c = w.candle("hyperliquid", spec.name, "perp", t, minutes)
            rows.append(
                {
                    "t": t,
                    "T": t + minutes * MINUTE_MS - 1,
                    "s": spec.base,
                    "i": req["interval"],
                    "o": _px(c[1]),
                    "c": _px(c[4]),
                    "h": _px(c[2]),
                    "l": _px(c[3]),
                    "v": f"{c[5]}",
                    "n": 100,
                }
            )
        return 200, rows

    def _hl_l2Book(self, body: dict) -> tuple[int, object]:  # noqa: N802
        w, now = self.world, self.world.now_ms()
        spec = self._hl_spec(str(body.get("coin")))
        if spec is None:
            return 200, None
        bids, asks = book(w.price("hyperliquid", spec.name, "perp", now))
        side = lambda levels: [{"px": p, "sz": s, "n": 3} for p, s in levels]  # noqa: E731
        return 200, {"coin": spec.base, "time": now, "levels": [side(bids), side(asks)]}
