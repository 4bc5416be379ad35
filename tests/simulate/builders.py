"""Tiny hand-made markets and opportunity rows for the simulator's tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from arbscore.data_tools.market import MarketData
from arbscore.schema import FUNDING_COLUMNS, KLINE_COLUMNS

T0 = pd.Timestamp("2025-01-01 00:00", tz="UTC")


def klines(
    exchange: str,
    symbol: str,
    market: str,
    closes: np.ndarray | list[float],
    start: pd.Timestamp = T0,
    interval_minutes: int = 5,
    quote_volume: float = 1e9,
) -> pd.DataFrame:
    """Candles opening at ``start`` every ``interval_minutes`` with the given closes."""
    closes = np.asarray(closes, dtype=np.float64)
    opens = start + pd.to_timedelta(np.arange(len(closes)) * interval_minutes, unit="min")
    return pd.DataFrame(
        {
            "exchange": exchange,
            "symbol": symbol,
            "market": market,
            "open_time": pd.DatetimeIndex(opens).astype("datetime64[ms, UTC]"),
            "interval_minutes": interval_minutes,
            "open": closes,
            "high": closes,
            "low": closes,
            "close": closes,
            "volume": quote_volume / closes,
            "quote_volume": quote_volume,
        }
    )[list(KLINE_COLUMNS)]


def funding(
    exchange: str,
    symbol: str,
    times: list[pd.Timestamp] | pd.DatetimeIndex,
    rates: list[float] | np.ndarray,
    interval_hours: float | list[float] = 8,
    mark_price: float = np.nan,
) -> pd.DataFrame:
    """Funding settlements at ``times`` with ``rates`` (decimal per interval)."""
    times = pd.DatetimeIndex(times).astype("datetime64[ms, UTC]")
    return pd.DataFrame(
        {
            "exchange": exchange,
            "symbol": symbol,
            "funding_time": times,
            "rate": np.asarray(rates, dtype=np.float64),
            "interval_hours": np.broadcast_to(np.asarray(interval_hours, float), (len(times),)),
            "mark_price": mark_price,
        }
    )[list(FUNDING_COLUMNS)]


def every(hours: float, start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    """Settlement times every ``hours`` from ``start`` to ``end`` inclusive."""
    return pd.date_range(start, end, freq=pd.Timedelta(hours=hours))


def market(kline_parts: list[pd.DataFrame], funding_parts: list[pd.DataFrame]) -> MarketData:
    """A MarketData from frame parts (labelled synthetic: it is made up)."""
    k = pd.concat(kline_parts, ignore_index=True)
    f = pd.concat(funding_parts, ignore_index=True) if funding_parts else funding("x", "X", [], [])
    return MarketData(funding=f, klines=k, source="test fixture", synthetic=True)


def opportunity(
    timestamp: pd.Timestamp,
    strategy: str,
    symbol: str,
    long: tuple[str, str],
    short: tuple[str, str],
    spread_pct: tuple[float, float] = (0.01, 0.01),
    impact_pct: tuple[float, float] = (0.0, 0.0),
) -> dict:
    """One opportunity row with the columns the simulator reads (the entry's spread and
    square-root-law impact per leg, percent)."""
    return {
        "opportunity_id": f"{strategy}:{symbol}:{'-'.join(long)}:{'-'.join(short)}:{timestamp}",
        "timestamp": timestamp,
        "strategy": strategy,
        "symbol": symbol,
        "long_exchange": long[0],
        "long_market": long[1],
        "short_exchange": short[0],
        "short_market": short[1],
        "long_bid_ask_spread": spread_pct[0],
        "long_impact_pct": impact_pct[0],
        "short_bid_ask_spread": spread_pct[1],
        "short_impact_pct": impact_pct[1],
    }


def frame(rows: list[dict]) -> pd.DataFrame:
    """Opportunity rows -> frame with a ms-resolution UTC timestamp column."""
    out = pd.DataFrame(rows)
    out["timestamp"] = pd.to_datetime(out["timestamp"], utc=True).astype("datetime64[ms, UTC]")
    return out
