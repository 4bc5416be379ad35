"""Backfill: funding history, perp + spot klines and premium-index klines from one exchange.

Premium-index klines (the input of the funding formula, ``collect/premium.py``) are fetched
where ccxt has ``fetch_premium_index_ohlcv`` for the venue (Binance, Bybit), at the kline
interval, into ``premium_index_klines``. Hyperliquid (perps only, hourly funding) goes through
ccxt's ``hyperliquid`` class like the others.

Each series is fetched in time windows small enough that one page holds the whole window
(Bybit and OKX answer newest-first inside a window, so a full page could hide older rows: the
window is then halved and asked again). Every page is written in its own transaction together
with its ``ingest_log`` row, so an interrupted run keeps what it stored and the next run resumes
from the last stored timestamp instead of the requested start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from arbscore.data_tools.collect.exchange import (
    HOUR_MS,
    SUPPORTED_EXCHANGES,
    RetryPolicy,
    float_or_none,
    funding_interval_hours,
    interval_hours,
    raw_volumes,
    recent_funding_interval,
    resolve_markets,
    with_retries,
)
from arbscore.data_tools.store import FUNDING, INGEST_LOG, KLINES, PREMIUM_INDEX, MarketStore
from arbscore.progress import Progress, no_progress


@dataclass(frozen=True)
class _Paging:
    funding_limit: int
    kline_limit: int
    newest_first: bool


#: page sizes the exchanges allow and the order they answer inside a window
_PAGING = {
    "binance": _Paging(funding_limit=1000, kline_limit=1000, newest_first=False),
    "bybit": _Paging(funding_limit=200, kline_limit=1000, newest_first=True),
    "okx": _Paging(funding_limit=100, kline_limit=100, newest_first=True),
    "hyperliquid": _Paging(funding_limit=500, kline_limit=5000, newest_first=False),
}


@dataclass(frozen=True)
class BackfillConfig:
    """What to fetch: ``symbols`` canonical (``BTCUSDT``), ``[start, end)`` UTC;
    ``premium_index``: also premium-index klines where the venue has them."""

    exchange: str
    symbols: tuple[str, ...]
    start: pd.Timestamp
    end: pd.Timestamp
    interval: str = "5m"
    markets: tuple[str, ...] = ("perp", "spot")
    funding: bool = True
    premium_index: bool = True
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def __post_init__(self) -> None:
        if self.exchange not in SUPPORTED_EXCHANGES:
            raise ValueError(f"--exchange: {self.exchange!r}; use one of {SUPPORTED_EXCHANGES}")
        if not self.symbols:
            raise ValueError("--symbols: give at least one symbol, e.g. BTCUSDT,ETHUSDT")
        bad = [s for s in self.symbols if not s.isalnum() or s != s.upper()]
        if bad:
            raise ValueError(f"--symbols: {bad} are not canonical names such as BTCUSDT")
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, pd.Timestamp) or value.tzinfo is None:
                raise ValueError(f"--{name}: must be a tz-aware UTC timestamp, got {value!r}")
        if self.end <= self.start:
            raise ValueError(f"--end ({self.end}) must be after --start ({self.start})")
        unknown = set(self.markets) - {"perp", "spot"}
        if unknown:
            raise ValueError(f"markets: {sorted(unknown)}; expected perp and/or spot")


@dataclass
class SeriesResult:
    """What one series (funding, or klines of one market) got in this run."""

    symbol: str
    dataset: str
    market: str
    rows: int = 0
    requests: int = 0
    resumed_from: pd.Timestamp | None = None


def backfill(
    store: MarketStore,
    client: Any,
    config: BackfillConfig,
    progress: Progress | None = None,
    sleep: Callable[[float], None] | None = None,
) -> list[SeriesResult]:
    """Fetch every configured series of every symbol into ``store``; returns one result each."""
    import time

    job = _Job(store, client, config, progress or no_progress, sleep or time.sleep)
    results: list[SeriesResult] = []
    for symbol in config.symbols:
        markets = resolve_markets(client, symbol, config.retry)
        if config.funding and "perp" in markets:
            results.append(job.funding(symbol, markets["perp"]))
        if config.premium_index and "perp" in markets and client.has.get("fetchPremiumIndexOHLCV"):
            results.append(job.premium(symbol, markets["perp"]))
        for market in config.markets:
            if market in markets:
                results.append(job.klines(symbol, market, markets[market]))
    return results


def _ms(ts: pd.Timestamp) -> int:
    return int(ts.value // 1_000_000)


class _Job:
    def __init__(self, store, client, config, progress, sleep) -> None:
        self.store, self.client, self.config = store, client, config
        self.progress, self.sleep = progress, sleep
        self.paging = _PAGING[config.exchange]
        self.start, self.end = _ms(config.start), _ms(config.end)

    def _call(self, fn: Callable[[], Any]) -> Any:
        return with_retries(fn, self.config.retry, sleep=self.sleep)

    def _resume(self, spec, symbol, market, minutes, step_ms) -> int:
        """Start of the fetch: after the last stored row when the store covers ``start``."""
        span = self.store.time_range(spec, self.config.exchange, symbol, market, minutes)
        if span is None or _ms(span[0]) > self.start:
            return self.start
        return max(self.start, _ms(span[1]) + step_ms)

    def _log(self, dataset: str, symbol: str, market: str, last_ms: int, rows: int) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "dataset": [dataset],
                "exchange": [self.config.exchange],
                "symbol": [symbol],
                "market": [market],
                "last_time": [pd.Timestamp(last_ms, unit="ms", tz="UTC")],
                "rows": [rows],
                "updated_at": [pd.Timestamp.now(tz="UTC")],
                "origin": ["ccxt"],
            }
        )

    def _walk(self, result, cursor, step_ms, limit, fetch, write, label) -> SeriesResult:
        """Window loop shared by funding and klines; ``fetch(lo, hi)`` -> rows with "t" in
        ``[lo, hi)``, oldest first. Never trusts a page to be complete: servers may cap pages
        below the requested ``limit``."""
        window = step_ms * limit
        total = max(self.end - cursor, 1)
        origin = cursor
        while cursor < self.end:
            hi = min(self.end, cursor + window)
            if self.paging.newest_first:
                rows = self._window_newest_first(result, cursor, hi, step_ms, fetch)
                next_cursor = hi
            else:
                rows = self._page(result, cursor, hi, fetch)
                # rows may continue past the page: ask again from the last one
                more = bool(rows) and hi - rows[-1]["t"] > step_ms
                next_cursor = rows[-1]["t"] + 1 if more else hi
            if rows:
                write(rows)  # one transaction per page/window, in time order (resume-safe)
                result.rows += len(rows)
            cursor = next_cursor
            done = min(cursor - origin, total)
            self.progress(f"{result.symbol} {label}", done, total)  # ms of the range
        self.progress(f"{result.symbol} {label}", total, total)
        return result

    @staticmethod
    def _page(result, lo, hi, fetch) -> list[dict]:
        result.requests += 1
        return [r for r in fetch(lo, hi) if lo <= r["t"] < hi]

    def _window_newest_first(self, result, lo, hi, step_ms, fetch) -> list[dict]:
        """Bybit/OKX answer the newest rows of a window: walk back until the window's start is
        reached or a page comes back empty, then return the window oldest first."""
        collected: list[dict] = []
        upper = hi
        while upper > lo:
            rows = self._page(result, lo, upper, fetch)
            if not rows:
                break
            collected = rows + collected
            if rows[0]["t"] - lo < step_ms:
                break
            upper = rows[0]["t"]
        return collected

    def funding(self, symbol: str, market: dict) -> SeriesResult:
        result = SeriesResult(symbol, "funding", "perp")
        known = funding_interval_hours(market, self.config.exchange)
        step = int((known or 1.0) * HOUR_MS)  # window unit; 1 h is the shortest interval in use
        cursor = self._resume(FUNDING, symbol, None, None, 1000)
        if cursor > self.start:
            result.resumed_from = pd.Timestamp(cursor, unit="ms", tz="UTC")
        last = self.store.last_time(FUNDING, self.config.exchange, symbol)
        prev = {"ms": _ms(last) if last is not None and _ms(last) < cursor else None}

        def fetch(lo: int, hi: int) -> list[dict]:
            params = {"after": hi} if self.config.exchange == "okx" else {"until": hi - 1}
            raw = self._call(
                lambda: self.client.fetch_funding_rate_history(
                    market["symbol"], since=lo, limit=self.paging.funding_limit, params=params
                )
            )
            rows = [
                {
                    "t": int(r["timestamp"]) // 1000 * 1000,
                    "rate": float(r["fundingRate"]),
                    "mark": float_or_none((r.get("info") or {}).get("markPrice")),
                }
                for r in raw
            ]
            return sorted(rows, key=lambda r: r["t"])

        def write(rows: list[dict]) -> None:
            times = [r["t"] for r in rows]
            lone = len(times) == 1
            fallback = known
            if lone and prev["ms"] is None and fallback is None:  # nothing to compare with
                fallback = recent_funding_interval(self.client, market["symbol"], self.config.retry)
            hours = interval_hours(times, prev["ms"], fallback if lone else None)
            frame = pd.DataFrame(
                {
                    "exchange": self.config.exchange,
                    "symbol": symbol,
                    "funding_time": pd.to_datetime(times, unit="ms", utc=True),
                    "rate": [r["rate"] for r in rows],
                    "interval_hours": hours,
                    "mark_price": [r["mark"] for r in rows],
                }
            )
            self.store.write(
                {
                    FUNDING: frame,
                    INGEST_LOG: self._log(
                        "funding", symbol, "perp", times[-1], result.rows + len(rows)
                    ),
                }
            )
            prev["ms"] = times[-1]

        return self._walk(result, cursor, step, self.paging.funding_limit, fetch, write, "funding")

    def klines(self, symbol: str, market_name: str, market: dict) -> SeriesResult:
        result = SeriesResult(symbol, "kline", market_name)
        timeframe = self.config.interval
        minutes = int(self.client.parse_timeframe(timeframe) // 60)
        step = minutes * 60_000
        cursor = self._resume(KLINES, symbol, market_name, minutes, step)
        if cursor > self.start:
            result.resumed_from = pd.Timestamp(cursor, unit="ms", tz="UTC")

        def fetch(lo: int, hi: int) -> list[dict]:
            # OKX's ``after`` cursor is exclusive, Binance/Bybit end times inclusive
            raw = self._call(
                lambda: self.client.fetch_ohlcv(
                    market["symbol"],
                    timeframe,
                    since=lo,
                    limit=self.paging.kline_limit,
                    params={"until": hi if self.config.exchange == "okx" else hi - 1},
                )
            )
            volumes = raw_volumes(self.config.exchange, market_name, self.client.last_json_response)
            rows = []
            for t, o, h, low, c, v in raw:
                base_vol, quote_vol = volumes.get(int(t), (v, None))
                rows.append(
                    {
                        "t": int(t),
                        "open": o,
                        "high": h,
                        "low": low,
                        "close": c,
                        "volume": base_vol,
                        "quote_volume": quote_vol,
                    }
                )
            return sorted(rows, key=lambda r: r["t"])

        def write(rows: list[dict]) -> None:
            frame = pd.DataFrame(rows)
            frame.insert(0, "open_time", pd.to_datetime(frame.pop("t"), unit="ms", utc=True))
            frame = frame.assign(
                exchange=self.config.exchange,
                symbol=symbol,
                market=market_name,
                interval_minutes=minutes,
            )
            last = _ms(frame["open_time"].iloc[-1])
            self.store.write(
                {
                    KLINES: frame,
                    INGEST_LOG: self._log(
                        f"kline_{timeframe}", symbol, market_name, last, result.rows + len(rows)
                    ),
                }
            )

        return self._walk(
            result,
            cursor,
            step,
            self.paging.kline_limit,
            fetch,
            write,
            f"{market_name} {timeframe}",
        )

    def premium(self, symbol: str, market: dict) -> SeriesResult:
        result = SeriesResult(symbol, "premium", "perp")
        timeframe = self.config.interval
        minutes = int(self.client.parse_timeframe(timeframe) // 60)
        step = minutes * 60_000
        cursor = self._resume(PREMIUM_INDEX, symbol, None, minutes, step)
        if cursor > self.start:
            result.resumed_from = pd.Timestamp(cursor, unit="ms", tz="UTC")

        def fetch(lo: int, hi: int) -> list[dict]:
            raw = self._call(
                lambda: self.client.fetch_premium_index_ohlcv(
                    market["symbol"],
                    timeframe,
                    since=lo,
                    limit=self.paging.kline_limit,
                    params={"until": hi - 1},
                )
            )
            rows = [
                {"t": int(t), "open": o, "high": h, "low": low, "close": c}
                for t, o, h, low, c, *_ in raw
            ]
            return sorted(rows, key=lambda r: r["t"])

        def write(rows: list[dict]) -> None:
            frame = pd.DataFrame(rows)
            frame.insert(0, "open_time", pd.to_datetime(frame.pop("t"), unit="ms", utc=True))
            frame = frame.assign(
                exchange=self.config.exchange, symbol=symbol, interval_minutes=minutes
            )
            last = _ms(frame["open_time"].iloc[-1])
            log = self._log(f"premium_{timeframe}", symbol, "perp", last, result.rows + len(rows))
            self.store.write({PREMIUM_INDEX: frame, INGEST_LOG: log})

        return self._walk(
            result, cursor, step, self.paging.kline_limit, fetch, write, f"premium {timeframe}"
        )


__all__ = ["BackfillConfig", "SeriesResult", "backfill", "interval_hours"]
