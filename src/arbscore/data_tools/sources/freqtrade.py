"""Readers for freqtrade ``download-data`` feather files, mapped to the SPEC's columns.

freqtrade layout: ``date`` (UTC, bar open) + open/high/low/close/volume. Funding files keep the
per-interval rate in ``open`` (other columns 0) with ``date`` the settlement time; the file name
says ``1h`` or ``8h`` whatever the real interval is, so the interval is inferred from the gaps
between settlements (intervals switch, e.g. Bybit WIF 8 h -> 4 h). Perp pairs are named
``BTC_USDT_USDT``, spot pairs ``BTC_USDT``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

_VALID_INTERVALS = (1, 2, 4, 8)
_PAIR = re.compile(
    r"^(?P<base>[A-Z0-9]+)_(?P<quote>USDT)(?:_USDT)?-(?P<tf>\w+?)(?:-(?P<kind>.+))?$"
)


def canonical_symbol(file_stem: str) -> str:
    """``BTC_USDT_USDT-1h-futures`` / ``BTC_USDT-1h`` -> ``BTCUSDT``."""
    m = _PAIR.match(file_stem)
    if not m:
        raise ValueError(f"not a freqtrade pair file name: {file_stem!r}")
    return m["base"] + m["quote"]


def round_to_minute(times: pd.Series) -> pd.Series:
    """Settlement times carry exchange ms jitter (16:00:00.003): snap them to the minute."""
    return times.dt.round("min")


def infer_interval_hours(times: pd.Series) -> np.ndarray:
    """Per settlement, the hours since the previous one (the period its rate covers).

    The first row, and rows after a data gap (a gap that is no valid interval), take the next
    gap when that one is valid, else the series' most common interval.
    """
    t = times.to_numpy(dtype="datetime64[ns]")
    if len(t) == 0:
        return np.zeros(0, dtype=np.int64)
    gaps = np.diff(t).astype("timedelta64[m]").astype(np.int64) / 60.0
    valid = np.isin(gaps, _VALID_INTERVALS)
    mode = int(pd.Series(gaps[valid]).mode().iloc[0]) if valid.any() else 8
    prev = np.concatenate([[np.nan], np.where(valid, gaps, np.nan)])
    nxt = np.concatenate([np.where(valid, gaps, np.nan), [np.nan]])
    out = np.where(np.isnan(prev), nxt, prev)
    return np.where(np.isnan(out), mode, out).astype(np.int64)


def read_funding(path: Path, exchange: str, symbol: str | None = None) -> pd.DataFrame:
    """A ``*-funding_rate.feather`` as funding events (rate from ``open``, mark_price NaN)."""
    raw = pd.read_feather(path)
    times = round_to_minute(pd.to_datetime(raw["date"], utc=True))
    frame = pd.DataFrame(
        {
            "exchange": exchange,
            "symbol": symbol or canonical_symbol(path.stem),
            "funding_time": times,
            "rate": raw["open"].astype(float).to_numpy(),
        }
    )
    frame = frame.drop_duplicates("funding_time", keep="last").sort_values("funding_time")
    frame["interval_hours"] = infer_interval_hours(frame["funding_time"])
    frame["mark_price"] = np.nan
    return frame.reset_index(drop=True)


def read_klines(
    path: Path, exchange: str, market: str, interval_minutes: int, symbol: str | None = None
) -> pd.DataFrame:
    """A price feather as klines; quote_volume = base volume x typical price (no quote column).

    Mark-price files have no volume: it stays NaN so no one mistakes it for liquidity.
    """
    raw = pd.read_feather(path)
    times = pd.to_datetime(raw["date"], utc=True)
    high, low, close = (raw[c].astype(float) for c in ("high", "low", "close"))
    volume = raw["volume"].astype(float)
    frame = pd.DataFrame(
        {
            "exchange": exchange,
            "symbol": symbol or canonical_symbol(path.stem),
            "market": market,
            "open_time": times,
            "interval_minutes": interval_minutes,
            "open": raw["open"].astype(float),
            "high": high,
            "low": low,
            "close": close,
            "volume": volume,
            "quote_volume": volume * (high + low + close) / 3.0,
        }
    )
    frame = frame.drop_duplicates("open_time", keep="last").sort_values("open_time")
    return frame.reset_index(drop=True)


def attach_mark(funding: pd.DataFrame, mark_bars: pd.DataFrame) -> pd.DataFrame:
    """Fill ``mark_price`` with the price at settlement: the open of the bar starting then."""
    if funding.empty or mark_bars.empty:
        return funding
    price = mark_bars.set_index("open_time")["open"]
    price = price[~price.index.duplicated(keep="last")]
    looked = price.reindex(pd.DatetimeIndex(funding["funding_time"])).to_numpy()
    out = funding.copy()
    out["mark_price"] = np.where(np.isnan(looked), out["mark_price"], looked)
    return out
