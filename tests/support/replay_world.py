"""The replay exchange's deterministic "world": listings, funding settlements, prices, books.

Values are smooth functions of time, so any range or page a client asks for can be answered
and tests can compute the exact expected rows. Instrument templates and error bodies live in
``tests/fixtures/exchange/`` in the exchanges' documented shapes.
"""

from __future__ import annotations

import json
import math
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

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
        # USDC-margined perps under the canonical USDT names (coin "BTC" -> BTCUSDT), hourly
        "hyperliquid": (
            SymbolSpec("BTC", 1.0, price=95005.0),
            SymbolSpec("ETH", 1.0, price=3300.5),
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

    def funding_times(
        self, exchange: str, spec: SymbolSpec, lo: int, hi: int, future: bool = False
    ) -> list[int]:
        """Settlement times in [lo, hi], on the symbol's own (possibly switching) interval;
        only past ones unless ``future`` (for "next funding time")."""
        lo, hi = max(lo, self.start_ms), (hi if future else min(hi, self.now_ms()))
        out, t = [], self.start_ms
        while t <= hi:
            if t >= lo:
                out.append(t)
            t += int(spec.hours_at(t) * HOUR_MS)
        return out

    def rate(self, exchange: str, name: str, t_ms: int) -> float:
        phase = zlib.crc32(f"{exchange}{name}".encode()) % 1000 / 159.0
        rate = 0.0001 + 0.0002 * math.sin(t_ms / (36 * HOUR_MS) + phase)
        return round(rate / 8 if exchange == "hyperliquid" else rate, 8)  # hourly: 1/8 of 8 h

    def premium(self, exchange: str, name: str, t_ms: int) -> float:
        """The premium index (decimal) at ``t_ms``: slow wave plus a faster ripple."""
        phase = zlib.crc32(f"premium{exchange}{name}".encode()) % 1000 / 159.0
        slow = 0.0003 * math.sin(t_ms / (9 * HOUR_MS) + phase)
        return round(slow + 0.00005 * math.sin(t_ms / (37 * MINUTE_MS)), 8)

    def premium_candle(self, exchange: str, name: str, t_ms: int, minutes: int) -> list:
        """[open_ms, open, high, low, close] of the premium index over one bar."""
        o = self.premium(exchange, name, t_ms)
        c = self.premium(exchange, name, t_ms + minutes * MINUTE_MS)
        return [t_ms, o, round(max(o, c) + 0.00001, 8), round(min(o, c) - 0.00001, 8), c]

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


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text()


def instrument(template: str, spec: SymbolSpec, **extra: str) -> dict:
    text = template.replace("{base}", spec.base).replace("{quote}", spec.quote)
    for key, value in extra.items():
        text = text.replace("{" + key + "}", value)
    return json.loads(text)


def book(mid: float, size_scale: float = 1.0, levels: int = 20) -> tuple[list, list]:
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
