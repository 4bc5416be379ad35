"""Live snapshots: funding/premium index, ticker and order-book top of each market, every interval.

Funding parity with history: ``funding_rate`` is the last SETTLED rate (the one training
features read from ``funding_events``), taken from the venue's funding history (ccxt's
``fetch_funding_rate_history``; none of Binance, Bybit, OKX or Hyperliquid fills ccxt's
``previousFundingRate``), with its settlement time in ``last_funding_time``. ccxt's
``fundingRate`` from ``fetch_funding_rate`` is the exchange's running estimate for the coming
settlement: it is kept as ``predicted_funding_rate``. The history is asked again only after a
settlement has passed (the answer is cached per market until ``next_funding_time`` changes).

History has no order book; these rows do (bid-ask spread and USD depth within a price band of
the mid), so they are stored apart, in ``live_snapshots`` with ``source = 'live'``. Rows are
keyed by the interval grid slot, so re-taking a slot after a restart overwrites instead of
duplicating, and a restart takes the current slot at once (no slot is lost). One exchange
failing is recorded in the round's ``errors`` and the others are still stored.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from arbscore.data_tools.collect.exchange import (
    HOUR_MS,
    SUPPORTED_EXCHANGES,
    RetryPolicy,
    funding_interval_hours,
    interval_from_settlements,
    recent_settlements,
    resolve_markets,
    with_retries,
)
from arbscore.data_tools.store import LIVE_SNAPSHOTS, MarketStore


@dataclass(frozen=True)
class LiveConfig:
    """Which markets to watch and how: ``depth_band_pct`` is the +/- band around the mid."""

    exchanges: tuple[str, ...]
    symbols: tuple[str, ...]
    interval: str = "5m"
    markets: tuple[str, ...] = ("perp", "spot")
    depth_band_pct: float = 0.5
    book_limit: int = 50
    retry: RetryPolicy = field(default_factory=lambda: RetryPolicy(max_retries=2, base_delay_s=1))

    def __post_init__(self) -> None:
        bad = [e for e in self.exchanges if e not in SUPPORTED_EXCHANGES]
        if bad or not self.exchanges:
            raise ValueError(f"--exchange: {bad or 'none'}; use some of {SUPPORTED_EXCHANGES}")
        if not self.symbols:
            raise ValueError("--symbols: give at least one symbol, e.g. BTCUSDT")
        if not 0 < self.depth_band_pct < 50:
            raise ValueError(f"--depth-band: {self.depth_band_pct} %; expected between 0 and 50")
        if self.interval_seconds < 1:
            raise ValueError(f"--interval: {self.interval!r} is shorter than a second")

    @property
    def interval_seconds(self) -> int:
        import ccxt

        try:
            return int(ccxt.Exchange.parse_timeframe(self.interval))
        except Exception as exc:  # noqa: BLE001 - ccxt raises plain exceptions on bad strings
            raise ValueError(f"--interval: {self.interval!r} is not like 1m, 5m, 1h") from exc


@dataclass
class LiveRound:
    """One pass over all exchanges: the grid slot, rows stored, and per-exchange errors."""

    snapshot_time: pd.Timestamp
    rows: int = 0
    errors: dict[str, str] = field(default_factory=dict)


def grid_slot(now_s: float, interval_s: int) -> pd.Timestamp:
    """The start of the interval slot that contains ``now_s`` (epoch seconds), UTC."""
    return pd.Timestamp(int(now_s // interval_s * interval_s), unit="s", tz="UTC")


def snapshot_once(
    store: MarketStore,
    clients: Mapping[str, Any],
    config: LiveConfig,
    now_s: float | None = None,
    cache: dict | None = None,
) -> LiveRound:
    """Take one snapshot of every configured market; each exchange in its own transaction.

    ``cache`` (kept across rounds by :func:`run_live`) remembers each perp's recent settlements
    (its last settled rate, and its funding interval where the funding endpoint does not state
    it, as on Binance) until the next settlement passes."""
    cache = {} if cache is None else cache
    now_s = time.time() if now_s is None else now_s
    result = LiveRound(grid_slot(now_s, config.interval_seconds))
    fetched_at = pd.Timestamp(now_s, unit="s", tz="UTC")
    for name in config.exchanges:
        try:
            rows = _exchange_rows(clients[name], name, config, cache)
        except Exception as exc:  # noqa: BLE001 - one exchange failing must not stop the rest
            result.errors[name] = f"{type(exc).__name__}: {exc}"[:300]
            continue
        frame = (
            pd.DataFrame(rows)
            .assign(snapshot_time=result.snapshot_time, fetched_at=fetched_at, source="live")
            .reindex(columns=list(LIVE_SNAPSHOTS.column_names))
        )
        result.rows += store.write({LIVE_SNAPSHOTS: frame})
    return result


def run_live(
    store: MarketStore,
    clients: Mapping[str, Any],
    config: LiveConfig,
    stop: threading.Event | None = None,
    max_rounds: int | None = None,
    on_round: Callable[[LiveRound], None] | None = None,
    clock: Callable[[], float] = time.time,
) -> list[LiveRound]:
    """Snapshot now, then at each following slot start, until ``stop`` is set or
    ``max_rounds`` are done. Returns the rounds taken."""
    stop = stop or threading.Event()
    rounds: list[LiveRound] = []
    cache: dict = {}
    while not stop.is_set():
        result = snapshot_once(store, clients, config, clock(), cache)
        rounds.append(result)
        if on_round is not None:
            on_round(result)
        if max_rounds is not None and len(rounds) >= max_rounds:
            break
        next_slot = result.snapshot_time.timestamp() + config.interval_seconds
        stop.wait(max(0.0, next_slot - clock()))
    return rounds


def _exchange_rows(client: Any, exchange: str, config: LiveConfig, cache: dict) -> list[dict]:
    call = lambda fn: with_retries(fn, config.retry)  # noqa: E731
    rows = []
    for symbol in config.symbols:
        markets = resolve_markets(client, symbol, config.retry)
        for market_name in config.markets:
            market = markets.get(market_name)
            if market is None:
                continue
            row: dict[str, Any] = {"exchange": exchange, "symbol": symbol, "market": market_name}
            ccxt_symbol = market["symbol"]
            ticker = call(lambda s=ccxt_symbol: client.fetch_ticker(s))
            book = call(lambda s=ccxt_symbol: client.fetch_order_book(s, config.book_limit))
            last = _num(ticker.get("last"))
            quote_volume = _num(ticker.get("quoteVolume"))
            if quote_volume is None and last is not None and ticker.get("baseVolume"):
                quote_volume = float(ticker["baseVolume"]) * last  # OKX swaps: base only
            row.update(last_price=last, quote_volume_24h=quote_volume)
            row.update(book_top(book, config.depth_band_pct, market.get("contractSize") or 1.0))
            if market_name == "perp":
                rate = call(lambda s=ccxt_symbol: client.fetch_funding_rate(s))
                row.update(_funding_fields(rate, market, client.id))
                row.update(_settled(client, ccxt_symbol, rate, row, config, cache))
            rows.append(row)
    return rows


def _settled(
    client: Any,
    ccxt_symbol: str,
    rate: Mapping[str, Any],
    row: dict,
    config: LiveConfig,
    cache: dict,
) -> dict:
    """``funding_rate`` / ``last_funding_time`` (and a missing ``interval_hours``) from the
    venue's last settlement; the request is cached until a settlement passes."""
    nxt = row["next_funding_time"]
    next_ms = int(nxt.value // 1_000_000) if nxt is not None else None
    if rate.get("previousFundingRate") is not None and rate.get("previousFundingTimestamp"):
        events = [(int(rate["previousFundingTimestamp"]), float(rate["previousFundingRate"]))]
        hours = row["interval_hours"]
    else:
        key = (client.id, ccxt_symbol)
        hit = cache.get(key)
        if hit is not None and next_ms is not None and hit[0] == next_ms:
            events = hit[1]
        else:
            events = recent_settlements(client, ccxt_symbol, config.retry, next_ms)
        hours = row["interval_hours"] or interval_from_settlements(events)
        # cache only once the settlement before the coming one is published (venues lag)
        published = bool(events) and bool(hours) and next_ms is not None
        if published and events[-1][0] >= next_ms - hours * HOUR_MS - 60_000:
            cache[key] = (next_ms, events)
    if next_ms is not None:  # only settlements before the coming one count as "last settled"
        events = [e for e in events if e[0] < next_ms]
    if not events:
        return {"funding_rate": None, "last_funding_time": None, "interval_hours": hours}
    t, value = events[-1]
    return {
        "funding_rate": value,
        "last_funding_time": pd.Timestamp(t, unit="ms", tz="UTC"),
        "interval_hours": hours,
    }


def book_top(book: Mapping[str, Any], band_pct: float, contract_size: float = 1.0) -> dict:
    """Best bid/ask, spread in % of mid and USD depth on each side within +/- ``band_pct`` %.

    ``contract_size`` turns contract amounts (OKX swaps) into base units.
    """
    bids, asks = book.get("bids") or [], book.get("asks") or []
    if not bids or not asks:
        return {
            "bid": None,
            "ask": None,
            "spread_pct": None,
            "bid_depth_usd": None,
            "ask_depth_usd": None,
            "depth_band_pct": band_pct,
        }
    bid, ask = float(bids[0][0]), float(asks[0][0])
    mid = (bid + ask) / 2
    lo, hi = mid * (1 - band_pct / 100), mid * (1 + band_pct / 100)
    size = float(contract_size)
    return {
        "bid": bid,
        "ask": ask,
        "spread_pct": (ask - bid) / mid * 100,
        "bid_depth_usd": sum(float(p) * float(a) * size for p, a, *_ in bids if float(p) >= lo),
        "ask_depth_usd": sum(float(p) * float(a) * size for p, a, *_ in asks if float(p) <= hi),
        "depth_band_pct": band_pct,
    }


def _funding_fields(rate: Mapping[str, Any], market: dict, exchange: str | None = None) -> dict:
    """The predicted-funding/premium-index part of a perp row; interval from ccxt, else market
    info, else the gap between the next two settlements."""
    hours = None
    interval = rate.get("interval")
    if isinstance(interval, str) and interval.endswith("h"):
        hours = float(interval[:-1])
    hours = hours or funding_interval_hours(market, exchange)
    nxt, after = rate.get("fundingTimestamp"), rate.get("nextFundingTimestamp")
    if hours is None and nxt and after and after > nxt:
        hours = (after - nxt) / 3_600_000
    return {
        "predicted_funding_rate": _num(rate.get("fundingRate")),
        "next_funding_time": pd.Timestamp(nxt, unit="ms", tz="UTC") if nxt else None,
        "interval_hours": hours,
        "mark_price": _num(rate.get("markPrice")),
        "index_price": _num(rate.get("indexPrice")),
    }


def _num(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
