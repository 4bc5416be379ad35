"""Answers of the replay exchange per REST path, in Binance / Bybit v5 / OKX v5 shapes.

Paging follows each API: Binance ``startTime``/``endTime`` oldest first; Bybit
``startTime``/``endTime`` (klines ``start``/``end``) newest first in the window; OKX exclusive
``before``/``after`` cursors, newest first. ``page_cap`` trims pages below the APIs' maxima.
"""

from __future__ import annotations

import json
import threading

from tests.support.replay_world import (
    _BAR_MINUTES,
    _BYBIT_INTERVALS,
    HOUR_MS,
    MINUTE_MS,
    World,
    book,
    fixture_text,
    instrument,
)


class ExchangeRoutes:
    """Route table mixed into :class:`~tests.support.replay_exchange.ReplayExchange`."""

    world: World
    page_cap: int | None
    requests: list[tuple[str, str, dict[str, str]]]
    _lock: threading.Lock

    def _cap(self, limit: str | None, default: int, maximum: int) -> int:
        n = min(int(limit) if limit else default, maximum)
        return min(n, self.page_cap) if self.page_cap else n

    # --- routing --------------------------------------------------------------------------
    def answer(self, host: str, path: str, q: dict[str, str]) -> tuple[int, object]:
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
            syms = [instrument(tpl, s) for s in w.symbols["binance"]]
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
        if path == "/fapi/v1/premiumIndexKlines":  # the documented shape: 12 fields, 5 used
            minutes = _BAR_MINUTES[q["interval"]]
            limit = self._cap(q.get("limit"), 500, 1500)
            lo, hi = int(q.get("startTime", 0)), int(q.get("endTime", w.now_ms()))
            opens = w.open_times(lo, hi, minutes)
            opens = opens[:limit] if "startTime" in q else opens[-limit:]
            return 200, [
                [
                    t,
                    *(f"{v:.8f}" for v in w.premium_candle("binance", name, t, minutes)[1:]),
                    "0",
                    t + minutes * MINUTE_MS - 1,
                    "0",
                    minutes * 12,
                    "0",
                    "0",
                    "0",
                ]
                for t in opens
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
            nxt = w.funding_times("binance", spec, now + 1, now + 9 * HOUR_MS, True)
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
            bids, asks = book(w.price("binance", name, market, now))
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
                instrument(tpl, s, funding_minutes=str(int(s.hours_at(now) * 60)))
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
                    "fundingRate": f"{w.rate('bybit', name, t):.8f}",
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
        if path == "/v5/market/premium-index-price-kline":
            minutes = _BYBIT_INTERVALS[q["interval"]]
            limit = self._cap(q.get("limit"), 200, 1000)
            opens = w.open_times(int(q.get("start", 0)), int(q.get("end", now)), minutes)
            rows = [
                [str(t), *(f"{v:.8f}" for v in w.premium_candle("bybit", name, t, minutes)[1:])]
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
                nxt = w.funding_times("bybit", spec, now + 1, now + 9 * HOUR_MS, True)
                item.update(
                    {
                        "indexPrice": f"{w.price('bybit', name, 'spot', now)}",
                        "markPrice": f"{w.price('bybit', name, 'perp', now)}",
                        "fundingRate": f"{w.rate('bybit', name, now):.8f}",
                        "nextFundingTime": str(nxt[0] if nxt else 0),
                        "fundingIntervalHour": str(int(spec.hours_at(now))),
                        "openInterest": "1000",
                        "openInterestValue": f"{1000 * last}",
                    }
                )
            return ok({"category": category, "list": [item]})
        if path == "/v5/market/orderbook":
            bids, asks = book(w.price("bybit", name, market, now))
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
                    instrument(tpl, s, contract_value="0.01" if s.base == "BTC" else "0.1")
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
            times = w.funding_times("okx", spec, now + 1, now + 17 * HOUR_MS, True)
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
                        # SPOT: volCcy24h in quote, vol24h in base; SWAP: base and contracts
                        "volCcy24h": f"{9000 * last:.2f}" if market == "spot" else "9000",
                        "vol24h": "9000" if market == "spot" else "900000",
                        "sodUtc0": f"{last}",
                        "sodUtc8": f"{last}",
                        "ts": str(now),
                    }
                ]
            )
        if path == "/api/v5/market/books":
            ct = 0.01 if spec.base == "BTC" else 0.1
            bids, asks = book(
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
