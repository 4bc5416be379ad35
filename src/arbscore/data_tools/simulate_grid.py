"""The market laid out on the simulator's 5-minute grid: prices, cumulative funding, coverage.

Each (exchange, symbol, market) series becomes one row of 2-D arrays indexed by grid step, so
the simulator can read any set of positions' paths with a single fancy-index gather:

- ``price[s, g]``: close of the last candle closed at grid time ``g`` (as-of, like snapshots);
- ``cum_funding[s, g]``: sum of ``settlement price x rate`` over the series' funding events with
  time <= grid time ``g`` (per unit of quantity), so funding in (entry, exit] is a difference;
- ``cum_count[s, g]``: number of those events;
- ``cum_rate[s, g]``: sum of the settled rates (decimal) of those events (the signal exit's
  trailing edge is a difference of it);
- ``high[s, g]`` / ``low[s, g]``: highest high / lowest low of the candles that closed in
  (grid time ``g - 1``, ``g``] (-inf / +inf where none did), the liquidation check's path;
- ``volume_24h[s, g]``: quote volume of candles closed in (``g`` - 24 h, ``g``], as the snapshots
  compute it; ``volatility_pct[s, g]``: the snapshots' 24 h realised volatility and
  ``spread_pct[s, g]``: the candle spread estimate (``data_tools.liquidity``), for the exit's own
  slippage estimate;
- ``last_valid[s]``: last grid step the data covers (last candle close; for a perp also before
  the next settlement that the data no longer records).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from arbscore.data_tools.liquidity import LiquidityModel, trailing_spread_pct
from arbscore.data_tools.market import MarketData
from arbscore.data_tools.snapshots import (
    HOUR_MS,
    MINUTE_MS,
    funding_intervals,
    funding_times_ms,
    kline_close_ms,
    trailing_volatility_pct,
)

SeriesKey = tuple[str, str, str]


@dataclass(frozen=True)
class MarketGrid:
    """Series on a regular grid (see module docstring); ``keys`` maps series -> row."""

    start_ms: int
    step_ms: int
    keys: dict[SeriesKey, int]
    price: np.ndarray
    cum_funding: np.ndarray
    cum_count: np.ndarray
    last_valid: np.ndarray
    cum_rate: np.ndarray
    high: np.ndarray
    low: np.ndarray
    volume_24h: np.ndarray
    volatility_pct: np.ndarray
    spread_pct: np.ndarray

    @property
    def size(self) -> int:
        return self.price.shape[1]

    def rows(self, exchanges: np.ndarray, symbols: np.ndarray, markets: np.ndarray) -> np.ndarray:
        """Row index of each (exchange, symbol, market); -1 where the grid lacks the series."""
        lookup = {"|".join(k): row for k, row in self.keys.items()}
        text = [np.asarray(a, dtype=object).astype(str) for a in (exchanges, symbols, markets)]
        joined = np.char.add(np.char.add(np.char.add(text[0], "|"), text[1]), "|")
        names, inverse = np.unique(np.char.add(joined, text[2]), return_inverse=True)
        found = np.array([lookup.get(str(name), -1) for name in names], dtype=np.int64)
        return found[inverse.reshape(-1)] if len(names) else np.zeros(0, np.int64)


def settlement_prices(
    funding: pd.DataFrame, close_ms: np.ndarray, close: np.ndarray, times_ms: np.ndarray
) -> np.ndarray:
    """Price each funding payment is charged on: the event's mark price, else the as-of close."""
    mark = funding["mark_price"].to_numpy(dtype=np.float64)
    j = np.searchsorted(close_ms, times_ms, side="right") - 1
    asof = np.where(j >= 0, close[np.maximum(j, 0)], np.nan)
    price = np.where(np.isfinite(mark) & (mark > 0), mark, asof)
    return np.nan_to_num(price, nan=0.0)


def build_market_grid(
    market: MarketData,
    series: set[SeriesKey],
    start_ms: int,
    end_ms: int,
    step_minutes: int = 5,
    liquidity: LiquidityModel | None = None,
) -> MarketGrid:
    """Lay the ``series`` of ``market`` on the grid ``start_ms, start_ms + step, ... <= end_ms``."""
    step = step_minutes * MINUTE_MS
    times = np.arange(start_ms, end_ms + 1, step, dtype=np.int64)
    keys = {key: i for i, key in enumerate(sorted(series))}
    n_series, n_times = len(keys), len(times)
    price = np.full((n_series, n_times), np.nan)
    cum_funding = np.zeros((n_series, n_times))
    cum_count = np.zeros((n_series, n_times), dtype=np.int32)
    cum_rate = np.zeros((n_series, n_times))
    high = np.full((n_series, n_times), -np.inf)
    low = np.full((n_series, n_times), np.inf)
    volume = np.zeros((n_series, n_times))
    volatility = np.full((n_series, n_times), np.nan)
    liquidity = liquidity or LiquidityModel()
    spread = np.full((n_series, n_times), liquidity.max_spread_pct)
    last_valid = np.full(n_series, -1, dtype=np.int64)
    kl = market.klines
    kgroups = dict(iter(kl.groupby(["exchange", "symbol", "market"], sort=False)))
    fgroups = dict(iter(market.funding.groupby(["exchange", "symbol"], sort=False)))
    for key, row in keys.items():
        k = kgroups.get(key)
        if k is None or k.empty:
            continue
        k = k.sort_values("open_time")
        close_ms = kline_close_ms(k)
        close = k["close"].to_numpy(dtype=np.float64)
        j = np.searchsorted(close_ms, times, side="right") - 1
        price[row] = np.where(j >= 0, close[np.maximum(j, 0)], np.nan)
        # each candle's extremes land on the first grid time at or after its close
        at = np.searchsorted(times, close_ms, side="left")
        inside = at < n_times
        np.maximum.at(high[row], at[inside], k["high"].to_numpy(np.float64)[inside])
        np.minimum.at(low[row], at[inside], k["low"].to_numpy(np.float64)[inside])
        qv = k["quote_volume"].to_numpy(dtype=np.float64)
        qv = np.where(np.isfinite(qv), qv, k["volume"].to_numpy(dtype=np.float64) * close)
        cum_q = np.concatenate([[0.0], np.cumsum(np.nan_to_num(qv))])
        j24 = np.searchsorted(close_ms, times - 24 * HOUR_MS, side="right") - 1
        volume[row] = cum_q[j + 1] - cum_q[j24 + 1]
        volatility[row] = trailing_volatility_pct(close_ms, close, times)
        spread[row] = trailing_spread_pct(
            close_ms,
            close,
            k["high"].to_numpy(np.float64),
            k["low"].to_numpy(np.float64),
            times,
            liquidity,
        )
        cover_end = int(close_ms[-1])
        if key[2] == "perp":
            f = fgroups.get(key[:2])
            if f is None or f.empty:
                continue  # a perp without funding history cannot be simulated
            ft = funding_times_ms(f["funding_time"])
            order = np.argsort(ft, kind="stable")
            f = f.iloc[order]
            ft = ft[order]
            iv = funding_intervals(ft, f["interval_hours"].to_numpy(dtype=np.float64))
            amount = settlement_prices(f, close_ms, close, ft) * f["rate"].to_numpy(np.float64)
            cum = np.concatenate([[0.0], np.cumsum(amount)])
            idx = np.searchsorted(ft, times, side="right")
            cum_funding[row] = cum[idx]
            cum_count[row] = idx
            rates = np.nan_to_num(f["rate"].to_numpy(np.float64))
            cum_rate[row] = np.concatenate([[0.0], np.cumsum(rates)])[idx]
            # after the last recorded settlement + its interval the data would miss payments
            cover_end = min(cover_end, int(ft[-1] + iv[-1] * HOUR_MS) - 1)
        last_valid[row] = np.searchsorted(times, cover_end, side="right") - 1
    return MarketGrid(
        start_ms,
        step,
        keys,
        price,
        cum_funding,
        cum_count,
        last_valid,
        cum_rate,
        high,
        low,
        volume,
        volatility,
        spread,
    )
