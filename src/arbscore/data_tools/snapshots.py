"""5-minute as-of snapshots of every market, rebuilt from klines and funding events.

A snapshot at ``t`` is what a bot could have known at ``t`` and nothing more:

- prices come from the last *closed* candle (``open_time + interval <= t``), so a 1 h candle
  opened at 10:00 is first seen at 11:00;
- funding comes from *settled* events (``funding_time <= t``); the next funding time is the last
  settlement plus its interval, which needs no future data.

Times are used exactly as given: the loaders snap exchange millisecond jitter
(``16:00:00.003``) to the settlement minute, so a snapshot at 16:00 knows the 16:00 rate and a
position opened at 16:00 does not receive it (funding is paid in (entry, exit]).

Output (:func:`build_snapshots`): one row per (timestamp, exchange, symbol, market) with
``SNAPSHOT_COLUMNS``; funding columns are NaN on spot rows and where no rate is known yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from arbscore.data_tools.liquidity import LiquidityModel, trailing_spread_pct
from arbscore.data_tools.market import MarketData, to_epoch_ms
from arbscore.progress import Progress
from arbscore.schema import SNAPSHOT_MINUTES

HOUR_MS = 3_600_000
MINUTE_MS = 60_000

SNAPSHOT_COLUMNS: tuple[str, ...] = (
    "timestamp",
    "exchange",
    "symbol",
    "market",
    "price",  # close of the last closed candle
    "price_age_minutes",  # t - that candle's close time
    "volume_24h",  # quote volume (USD) of candles closed in (t - 24 h, t]
    "realised_vol_24h_pct",  # std of candle log returns in that window, scaled to 24 h, percent
    "spread_estimate_pct",  # bid-ask spread estimated from the candles (data_tools.liquidity)
    "return_7d_pct",  # price change since the as-of price 168 h earlier, percent
    "funding_rate",  # last settled per-interval rate (decimal)
    "funding_interval_hours",  # that settlement's interval
    "hours_since_funding",
    "hours_to_next_funding",  # last settlement + interval - t (0 if overdue)
    "rate_sum_24h",  # sum of rates settled in (t - 24 h, t]
    "interval_sum_24h",  # sum of their intervals (hours covered)
    "rate_sum_3d",
    "interval_sum_3d",
    "rate_hourly_8h_ago",  # last settled rate / interval, as known at t - 8 h
    "rate_hourly_24h_ago",
)


def snapshot_table():
    """The market store's table for snapshots (``arbscore snapshots --to-store``)."""
    from arbscore.data_tools.store.tables import Column, TableSpec

    keys = ("timestamp", "exchange", "symbol", "market")
    columns = tuple(
        Column(name, "time" if name == "timestamp" else "text", nullable=False)
        if name in keys
        else Column(name, "float")
        for name in SNAPSHOT_COLUMNS
    )
    return TableSpec(name="market_snapshots", columns=columns, primary_key=keys)


@dataclass(frozen=True)
class SnapshotConfig:
    """Which snapshot times to build and how stale data may be.

    ``every_minutes`` (a multiple of 5) thins the 5-minute grid, e.g. 60 for hourly entries;
    times are multiples of it since the epoch. Without ``start`` the grid begins
    ``warmup_hours`` after the first closed candle so 3-day windows are full. ``start``/``end``
    may be strings; naive times are UTC. ``liquidity``: the spread estimator of the
    ``spread_estimate_pct`` column (the training set keeps it equal to its costs' model).
    """

    every_minutes: int = SNAPSHOT_MINUTES
    warmup_hours: float = 72.0
    start: pd.Timestamp | str | None = None
    end: pd.Timestamp | str | None = None
    max_price_age_minutes: float = 180.0
    liquidity: LiquidityModel = field(default_factory=LiquidityModel)

    def __post_init__(self) -> None:
        if self.every_minutes <= 0 or self.every_minutes % SNAPSHOT_MINUTES:
            raise ValueError(
                f"snapshots.every_minutes is {self.every_minutes}; expected a positive multiple "
                f"of {SNAPSHOT_MINUTES}"
            )
        if self.warmup_hours < 0 or self.max_price_age_minutes <= 0:
            raise ValueError("snapshots.warmup_hours must be >= 0 and max_price_age_minutes > 0")
        for name in ("start", "end"):  # strings from config files; naive times mean UTC
            value = getattr(self, name)
            if value is None:
                continue
            try:
                stamp = pd.Timestamp(value)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"snapshots.{name} {value!r} is not a time") from exc
            stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
            object.__setattr__(self, name, stamp)


def funding_times_ms(funding_time: pd.Series) -> np.ndarray:
    """Settlement times as epoch ms (as given; the loaders remove exchange ms jitter)."""
    return to_epoch_ms(funding_time).to_numpy(dtype=np.int64)


def kline_close_ms(klines: pd.DataFrame) -> np.ndarray:
    """Close time (epoch ms) of each candle: open_time + interval_minutes."""
    opens = to_epoch_ms(klines["open_time"]).to_numpy(dtype=np.int64)
    return opens + klines["interval_minutes"].to_numpy(dtype=np.int64) * MINUTE_MS


def funding_intervals(times_ms: np.ndarray, interval_hours: np.ndarray) -> np.ndarray:
    """Interval per event; a missing one is the gap to the previous settlement (8 h if first)."""
    iv = np.asarray(interval_hours, dtype=np.float64).copy()
    gaps = np.diff(times_ms, prepend=times_ms[:1] - 8 * HOUR_MS) / HOUR_MS
    bad = ~np.isfinite(iv) | (iv <= 0)
    iv[bad] = np.where(gaps[bad] > 0, gaps[bad], 8.0)
    return iv


def snapshot_times(market: MarketData, config: SnapshotConfig) -> np.ndarray:
    """The grid of snapshot times (epoch ms) for ``market`` under ``config``."""
    if market.klines.empty:
        raise ValueError("market has no klines; snapshots need prices")
    closes = kline_close_ms(market.klines)
    step = config.every_minutes * MINUTE_MS
    if config.start is not None:
        start = int(pd.Timestamp(config.start).value // 1_000_000)
    else:
        start = int(closes.min() + config.warmup_hours * HOUR_MS)
    end = (
        int(pd.Timestamp(config.end).value // 1_000_000)
        if config.end is not None
        else int(closes.max())
    )
    first = -(-start // step) * step
    if first > end:
        raise ValueError(
            f"no snapshot time between start {pd.Timestamp(start, unit='ms', tz='UTC')} and end "
            f"{pd.Timestamp(end, unit='ms', tz='UTC')}; the data is shorter than the warm-up "
            f"({config.warmup_hours} h)"
        )
    return np.arange(first, end + 1, step, dtype=np.int64)


def _window_sum(cum: np.ndarray, j: np.ndarray, j_start: np.ndarray) -> np.ndarray:
    """Sum of items (j_start, j] given ``cum`` with a leading zero."""
    return cum[j + 1] - cum[j_start + 1]


def trailing_volatility_pct(close_ms: np.ndarray, close: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Realised volatility of a candle series as of each ``t``: the std of the candle log
    returns of candles closed in (t - 24 h, t] (each with its previous candle in the window),
    scaled to 24 h, percent; NaN with fewer than 2 returns."""
    j = np.searchsorted(close_ms, t, side="right") - 1
    j24 = np.searchsorted(close_ms, t - 24 * HOUR_MS, side="right") - 1
    logret = np.zeros_like(close)
    with np.errstate(invalid="ignore", divide="ignore"):
        logret[1:] = np.log(close[1:] / close[:-1])
    logret = np.nan_to_num(logret, nan=0.0, posinf=0.0, neginf=0.0)
    cum_r = np.concatenate([[0.0], np.cumsum(logret)])
    cum_r2 = np.concatenate([[0.0], np.cumsum(logret**2)])
    # returns of candles whose *previous* candle is also in the window: (j24 + 1, j]
    j_lo = np.minimum(np.maximum(j24 + 1, 0), np.maximum(j, 0))  # (past the data: empty)
    n = (j - j_lo).astype(np.float64)
    s1 = _window_sum(cum_r, j, j_lo)
    s2 = _window_sum(cum_r2, j, j_lo)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = (s2 - s1**2 / n) / (n - 1)
        return np.where(n >= 2, np.sqrt(np.maximum(var, 0.0) * n) * 100.0, np.nan)


def _kline_state(k: pd.DataFrame, t: np.ndarray, config: SnapshotConfig) -> dict | None:
    """As-of price/volume/volatility of one (exchange, symbol, market) candle series at ``t``."""
    k = k.sort_values("open_time")
    close_ms = kline_close_ms(k)
    close = k["close"].to_numpy(dtype=np.float64)
    qv = k["quote_volume"].to_numpy(dtype=np.float64)
    qv = np.where(np.isfinite(qv), qv, k["volume"].to_numpy(dtype=np.float64) * close)
    j = np.searchsorted(close_ms, t, side="right") - 1
    age = (t - close_ms[np.maximum(j, 0)]) / MINUTE_MS
    keep = (j >= 0) & (age <= config.max_price_age_minutes)
    if not keep.any():
        return None
    t, j, age = t[keep], j[keep], age[keep]
    j24 = np.searchsorted(close_ms, t - 24 * HOUR_MS, side="right") - 1
    cum_q = np.concatenate([[0.0], np.cumsum(np.nan_to_num(qv))])
    vol = trailing_volatility_pct(close_ms, close, t)
    high = k["high"].to_numpy(dtype=np.float64)
    low = k["low"].to_numpy(dtype=np.float64)
    spread = trailing_spread_pct(close_ms, close, high, low, t, config.liquidity)
    j7 = np.searchsorted(close_ms, t - 168 * HOUR_MS, side="right") - 1
    ret7 = np.where(j7 >= 0, (close[j] / close[np.maximum(j7, 0)] - 1.0) * 100.0, np.nan)
    return {
        "t": t,
        "price": close[j],
        "price_age_minutes": age,
        "volume_24h": _window_sum(cum_q, j, j24),
        "realised_vol_24h_pct": vol,
        "spread_estimate_pct": spread,
        "return_7d_pct": ret7,
    }


def _funding_state(f: pd.DataFrame, t: np.ndarray) -> dict[str, np.ndarray]:
    """As-of funding state of one perpetual at ``t`` (NaN where nothing settled yet or stale)."""
    times = funding_times_ms(f["funding_time"])
    order = np.argsort(times, kind="stable")
    times = times[order]
    rate = f["rate"].to_numpy(dtype=np.float64)[order]
    iv = funding_intervals(times, f["interval_hours"].to_numpy(dtype=np.float64)[order])
    cum_rate = np.concatenate([[0.0], np.cumsum(rate)])
    cum_iv = np.concatenate([[0.0], np.cumsum(iv)])
    j = np.searchsorted(times, t, side="right") - 1
    jc = np.maximum(j, 0)
    since = (t - times[jc]) / HOUR_MS
    known = (j >= 0) & (since <= 2 * iv[jc] + 1.0)  # a settlement missed twice = stale

    def masked(values: np.ndarray) -> np.ndarray:
        return np.where(known, values, np.nan)

    out = {
        "funding_rate": masked(rate[jc]),
        "funding_interval_hours": masked(iv[jc]),
        "hours_since_funding": masked(since),
        "hours_to_next_funding": masked(np.maximum(iv[jc] - since, 0.0)),
    }
    for label, hours in (("24h", 24), ("3d", 72)):
        js = np.searchsorted(times, t - hours * HOUR_MS, side="right") - 1
        out[f"rate_sum_{label}"] = masked(_window_sum(cum_rate, j, js))
        out[f"interval_sum_{label}"] = masked(_window_sum(cum_iv, j, js))
    for label, hours in (("8h", 8), ("24h", 24)):
        jl = np.searchsorted(times, t - hours * HOUR_MS, side="right") - 1
        ok = known & (jl >= 0)
        jl = np.maximum(jl, 0)
        out[f"rate_hourly_{label}_ago"] = np.where(ok, rate[jl] / iv[jl], np.nan)
    return out


def build_snapshots(
    market: MarketData, config: SnapshotConfig, progress: Progress | None = None
) -> pd.DataFrame:
    """As-of state of every (exchange, symbol, market) at each snapshot time (``SNAPSHOT_COLUMNS``).

    Uses only data with time <= t for the row at t (see the module docstring). Markets with no
    closed candle yet, or whose last candle is older than ``max_price_age_minutes``, have no row.
    """
    times = snapshot_times(market, config)
    funding_groups = {
        key: frame for key, frame in market.funding.groupby(["exchange", "symbol"], sort=False)
    }
    groups = list(market.klines.groupby(["exchange", "symbol", "market"], sort=True))
    parts: list[pd.DataFrame] = []
    for done, ((exchange, symbol, kind), k) in enumerate(groups, start=1):
        state = _kline_state(k, times, config)
        if state is not None:
            t = state.pop("t")
            part = {"timestamp": t, **state}
            f = funding_groups.get((exchange, symbol))
            if kind == "perp" and f is not None and len(f):
                part.update(_funding_state(f, t))
            frame = pd.DataFrame(part)
            frame.insert(1, "exchange", exchange)
            frame.insert(2, "symbol", symbol)
            frame.insert(3, "market", kind)
            parts.append(frame)
        if progress is not None:
            progress("snapshots", done, len(groups))
    if not parts:
        return _empty_snapshots()
    out = pd.concat(parts, ignore_index=True).reindex(columns=list(SNAPSHOT_COLUMNS))
    out["timestamp"] = pd.to_datetime(out["timestamp"], unit="ms", utc=True)
    for name in ("exchange", "symbol", "market"):
        out[name] = out[name].astype(object)
    return out.sort_values(["timestamp", "exchange", "symbol", "market"], ignore_index=True)


def _empty_snapshots() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="float64") for c in SNAPSHOT_COLUMNS})
    frame["timestamp"] = pd.Series(dtype="datetime64[ms, UTC]")
    for name in ("exchange", "symbol", "market"):
        frame[name] = pd.Series(dtype=object)
    return frame
