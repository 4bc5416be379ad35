"""ccxt clients for the collectors: construction, URL override, retries, symbol mapping.

Every exchange call goes through ccxt's sync API with its rate limiter on; transient failures
(429 / 5xx / timeouts, i.e. ccxt's ``NetworkError`` family, which includes DDoSProtection,
RateLimitExceeded, ExchangeNotAvailable and RequestTimeout) are retried with exponential
backoff. ``override_urls`` points a client at another host (the offline replay server).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

SUPPORTED_EXCHANGES: tuple[str, ...] = ("binance", "bybit", "okx", "hyperliquid")
#: env var read by the CLI: base URL that replaces ``https://`` in every ccxt API URL
URL_OVERRIDE_ENV = "ARBSCORE_CCXT_URL_OVERRIDE"
#: which ccxt market types to load: spot + USDT-margined perps only (fewer, faster calls)
_MARKET_TYPES = {
    "binance": ["spot", "linear"],
    "bybit": ["spot", "linear"],
    "okx": ["spot", "swap"],
    "hyperliquid": ["swap"],  # its spot pairs are wrapped tokens (UBTC/USDC), not the same coin
}
#: venues whose perps settle every hour whatever the market info says (not published per market)
FIXED_FUNDING_HOURS = {"hyperliquid": 1.0}
#: venues whose USDC-margined perps stand for the USDT pairs of the other venues: the same rule
#: as ``sources/legacy.read_zushen_funding`` (Hyperliquid ``BTC`` -> ``BTCUSDT``), so one coin
#: has one canonical name across venues. Bybit's own USDC perps are NOT folded in (they would
#: collide with its USDT perps).
_QUOTE_AS_USDT = {"hyperliquid": ("USDC",)}
T = TypeVar("T")
HOUR_MS = 3_600_000


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: waits ``base_delay_s * 2**attempt`` (capped) between tries."""

    max_retries: int = 5
    base_delay_s: float = 1.0
    max_delay_s: float = 60.0

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {self.max_retries}")
        if self.base_delay_s < 0 or self.max_delay_s < 0:
            raise ValueError("retry delays must be >= 0")

    def delay(self, attempt: int) -> float:
        return min(self.base_delay_s * (2**attempt), self.max_delay_s)


def with_retries(
    call: Callable[[], T],
    policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[int, float, Exception], None] | None = None,
) -> T:
    """Run ``call``; on a transient ccxt error wait and try again, up to ``policy.max_retries``."""
    import ccxt

    attempt = 0
    while True:
        try:
            return call()
        except ccxt.NetworkError as exc:  # 429, 5xx, timeouts, DDoS protection
            if attempt >= policy.max_retries:
                raise
            wait = policy.delay(attempt)
            if on_retry is not None:
                on_retry(attempt + 1, wait, exc)
            sleep(wait)
            attempt += 1


def override_urls(urls: Any, base: str) -> Any:
    """Replace ``https://HOST/...`` with ``BASE/HOST/...`` in a (nested) ccxt ``urls['api']``."""
    if isinstance(urls, str):
        return urls.replace("https://", base.rstrip("/") + "/", 1)
    if isinstance(urls, dict):
        return {key: override_urls(value, base) for key, value in urls.items()}
    return urls


def make_exchange(name: str, api_base: str | None = None, timeout_ms: int = 20_000) -> Any:
    """A ccxt sync client for ``name`` with rate limiting on; ``api_base`` (or the
    ``ARBSCORE_CCXT_URL_OVERRIDE`` env var) redirects all its API URLs."""
    import ccxt

    if name not in SUPPORTED_EXCHANGES:
        raise ValueError(f"--exchange: {name!r} is not supported; use one of {SUPPORTED_EXCHANGES}")
    client = getattr(ccxt, name)(
        {
            "enableRateLimit": True,
            "enableLastJsonResponse": True,  # raw klines carry the quote volume
            "timeout": timeout_ms,
            "options": {"fetchMarkets": {"types": list(_MARKET_TYPES[name])}},
        }
    )
    base = api_base or os.environ.get(URL_OVERRIDE_ENV)
    if base:
        client.urls["api"] = override_urls(client.urls["api"], base)
    return client


def canonical_symbol(market: dict, exchange: str | None = None) -> str:
    """ccxt market -> canonical name: ``BTC/USDT:USDT`` and ``BTC/USDT`` both -> ``BTCUSDT``;
    on Hyperliquid ``BTC/USDC:USDC`` -> ``BTCUSDT`` too (see ``_QUOTE_AS_USDT``)."""
    quote = market["quote"]
    if quote in _QUOTE_AS_USDT.get(exchange or "", ()):
        quote = "USDT"
    return f"{market['base']}{quote}"


def resolve_markets(client: Any, symbol: str, policy: RetryPolicy) -> dict[str, dict]:
    """The ccxt spot and linear-perp markets for canonical ``symbol`` ({"spot": m, "perp": m}).

    Raises ``ValueError`` naming the symbol when the exchange lists neither.
    """
    markets = with_retries(client.load_markets, policy)
    found: dict[str, dict] = {}
    for market in markets.values():
        if canonical_symbol(market, client.id) != symbol:
            continue
        if market.get("spot"):
            found["spot"] = market
        elif market.get("swap") and market.get("linear"):
            found["perp"] = market
    if not found:
        raise ValueError(f"--symbols: {symbol} is not listed on {client.id} (spot or USDT perp)")
    return found


def funding_interval_hours(market: dict, exchange: str | None = None) -> float | None:
    """The perp's funding interval from ccxt market info where the exchange publishes it, or
    the venue's fixed interval (Hyperliquid: hourly)."""
    if exchange in FIXED_FUNDING_HOURS:
        return FIXED_FUNDING_HOURS[exchange]
    info = market.get("info") or {}
    minutes = info.get("fundingInterval")  # Bybit v5: minutes
    if minutes not in (None, "", 0, "0"):
        return float(minutes) / 60.0
    return None


def recent_settlements(
    client: Any, symbol: str, policy: RetryPolicy, next_ms: int | None = None, count: int = 4
) -> list[tuple[int, float]]:
    """The perp's last few SETTLED funding events as ``(time ms, rate)``, oldest first (times
    to the second: Binance stamps settlements with ms jitter). One request.

    ``next_ms`` (the exchange's next settlement time) anchors the window for venues whose
    history endpoint needs a start (Hyperliquid: ccxt would otherwise start from the local
    clock); elsewhere the endpoint's default answer is the latest events."""
    since, limit = None, count
    hours = FIXED_FUNDING_HOURS.get(client.id)
    if hours is not None and next_ms:
        since, limit = int(next_ms - count * hours * HOUR_MS), None
    history = with_retries(
        lambda: client.fetch_funding_rate_history(symbol, since=since, limit=limit), policy
    )
    events = {
        int(r["timestamp"]) // 1000 * 1000: float(r["fundingRate"])
        for r in history
        if r.get("timestamp") is not None and r.get("fundingRate") is not None
    }
    return sorted(events.items())[-count:]


def interval_from_settlements(events: list[tuple[int, float]]) -> float | None:
    """The shortest gap between consecutive settlements, in hours (None for < 2 events)."""
    times = [t for t, _ in events]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False) if b > a]
    return round(min(gaps) / 60_000) / 60.0 if gaps else None


def recent_funding_interval(client: Any, symbol: str, policy: RetryPolicy) -> float | None:
    """The perp's current funding interval from its last few settlements (hours), for
    exchanges whose endpoints do not state it (Binance). One request."""
    return interval_from_settlements(recent_settlements(client, symbol, policy))


def interval_hours(times_ms: list[int], prev_ms: int | None, fallback: float | None) -> list[float]:
    """Each settlement's interval from its neighbours (the shorter gap, so one missing tick does
    not double it). An edge row whose one gap is a whole multiple of its neighbour's interval is
    taken as sitting next to missing ticks; ``fallback`` (market info) only matters
    for a lone event."""
    out = []
    for i, t in enumerate(times_ms):
        before = times_ms[i - 1] if i else prev_ms
        gaps = [
            d
            for d in (
                (t - before) if before is not None else None,
                (times_ms[i + 1] - t) if i + 1 < len(times_ms) else None,
            )
            if d
        ]
        if fallback is not None:
            gaps.append(int(fallback * HOUR_MS))
        if not gaps:
            raise ValueError(f"cannot tell the funding interval of a lone event at {t}")
        out.append(round(min(gaps) / 60_000) / 60.0)
    if len(out) > 2:
        for edge, inner in ((0, 1), (len(out) - 1, len(out) - 2)):
            if out[edge] > out[inner] and (out[edge] / out[inner]).is_integer():
                out[edge] = out[inner]
    return out


def float_or_none(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def raw_volumes(exchange: str, market: str, response: Any) -> dict[int, tuple]:
    """open time -> (base volume, quote volume) from the raw kline answer; ccxt's unified OHLCV
    drops the quote volume and gives OKX swap volume in contracts."""
    if exchange == "binance" and isinstance(response, list):
        return {
            int(r[0]): (float_or_none(r[5]), float_or_none(r[7])) for r in response if len(r) > 7
        }
    if exchange == "bybit" and isinstance(response, dict):
        rows = (response.get("result") or {}).get("list") or []
        return {int(r[0]): (float_or_none(r[5]), float_or_none(r[6])) for r in rows if len(r) > 6}
    if exchange == "okx" and isinstance(response, dict):
        base = 5 if market == "spot" else 6
        return {
            int(r[0]): (float_or_none(r[base]), float_or_none(r[7]))
            for r in response.get("data") or []
            if len(r) > 7
        }
    return {}
