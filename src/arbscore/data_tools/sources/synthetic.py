"""Deterministic synthetic market: several exchanges and symbols, perp + spot klines, funding.

Used by tests, scale benchmarks and as the embedded default on a machine without the real data
(``../shared/data``). Everything is vectorised numpy; the structure follows what the real data
shows (see docs/data.md):

- prices: one BTC-driven factor with slow volatility clustering and fat tails; each symbol loads
  on it (beta) plus its own noise, so symbols are correlated;
- premium and funding: per symbol a Markov regime (calm, hot positive, negative) shared by all
  exchanges, plus AR(1) noise that is partly common across exchanges (cross-exchange
  correlation) and partly per exchange, gives an hourly premium index; a settlement applies the
  exchanges' formula ``P + clamp(0.01 % - P, +-0.05 %)`` to the mean premium over its interval,
  scaled to the interval, so calm markets pay the 0.01 %/8h baseline and 1 h / 4 h / 8 h
  symbols and misaligned legs stay consistent;
- basis: perp log price = index + premium + fast OU noise (mean-reverting, partly common across
  exchanges), so basis and funding co-move; spot venues differ from the index by a small OU;
- volume: intraday seasonality, persistent noise and a rise with |return|.

The processes (AR(1), regimes, premium, settlement) are in :mod:`.synthetic_processes`. The
output is labelled synthetic (``MarketData.synthetic`` and ``source``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from arbscore.data_tools.market import MarketData
from arbscore.data_tools.sources.params import SyntheticParams
from arbscore.data_tools.sources.synthetic_processes import (
    ar1,
    ar1_coefficient,
    latent_premium,
    settle,
)
from arbscore.schema import EXCHANGES, FUNDING_COLUMNS, KLINE_COLUMNS

_KLINE_MINUTES = (1, 5, 15, 30, 60)


@dataclass(frozen=True)
class SyntheticMarketConfig:
    """What to generate. ``params=None`` means the calibrated defaults (calibration.json).

    ``interval_overrides`` are ``(exchange, symbol, hours)``: the default gives Bybit SOLUSDT a
    4 h interval while the other venues settle it every 8 h, so perp_perp legs are misaligned;
    a venue's own interval (``SyntheticParams.exchange_interval_hours``: Hyperliquid settles
    hourly) comes next, then the symbol's profile.
    ``spot_exchanges=None`` lists spot markets on every exchange.
    ``listings`` (``(exchange, market, symbol)`` triples), when given, keeps only those series
    (and the funding of the listed perps), so a market can mirror a real layout where not every
    venue lists every symbol; ``venue_start`` (``(exchange, date)``) drops a venue's rows before
    its first day. Both filter the generated market, so the other series stay the same.
    """

    seed: int = 0
    start: str = "2025-01-01"
    days: float = 30.0
    exchanges: tuple[str, ...] = ("binance", "bybit", "okx")
    symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "WIFUSDT")
    kline_minutes: int = 5
    spot_exchanges: tuple[str, ...] | None = None
    interval_overrides: tuple[tuple[str, str, int], ...] = (("bybit", "SOLUSDT", 4),)
    params: SyntheticParams | None = None
    listings: tuple[tuple[str, str, str], ...] | None = None
    venue_start: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        # JSON config files give lists and a dict of params: normalise them once here
        object.__setattr__(self, "exchanges", tuple(self.exchanges))
        object.__setattr__(self, "symbols", tuple(self.symbols))
        object.__setattr__(
            self, "interval_overrides", tuple(tuple(o) for o in self.interval_overrides)
        )
        if self.spot_exchanges is not None:
            object.__setattr__(self, "spot_exchanges", tuple(self.spot_exchanges))
        if self.listings is not None:
            object.__setattr__(self, "listings", tuple(tuple(x) for x in self.listings))
        object.__setattr__(self, "venue_start", tuple(tuple(x) for x in self.venue_start))
        if isinstance(self.params, dict):
            object.__setattr__(self, "params", SyntheticParams.from_dict(self.params))
        if self.days <= 0 or self.days * 24 < 1:
            raise ValueError(f"days must cover at least one hour, got {self.days}")
        if self.days > 3660:  # ten years of 5-minute candles per venue: already ~10^6 rows
            raise ValueError(f"days must be at most 3660 (ten years), got {self.days}")
        if self.kline_minutes not in _KLINE_MINUTES:
            raise ValueError(
                f"kline_minutes must be one of {_KLINE_MINUTES}, got {self.kline_minutes}"
            )
        if not self.exchanges or not self.symbols:
            raise ValueError("exchanges and symbols must not be empty")
        bad = [e for e in self.exchanges if e not in EXCHANGES]
        if bad:
            raise ValueError(f"exchanges {bad} unknown; expected some of {list(EXCHANGES)}")
        if len(set(self.exchanges)) != len(self.exchanges) or len(set(self.symbols)) != len(
            self.symbols
        ):
            raise ValueError("exchanges and symbols must not repeat")
        bad = [s for s in self.symbols if not re.fullmatch(r"[A-Z0-9]+USDT", s)]
        if bad:
            raise ValueError(f"symbols {bad} are not canonical (like BTCUSDT)")
        spot = self.spot_exchanges or ()
        extra = sorted(set(spot) - set(self.exchanges))
        if extra:
            raise ValueError(f"spot_exchanges {extra} are not in exchanges")
        for override in self.interval_overrides:
            if len(override) != 3:
                raise ValueError(
                    f"interval_overrides entries are (exchange, symbol, hours): {override}"
                )
            ex, sym, hours = override
            if hours not in (1, 2, 4, 8):
                raise ValueError(f"interval override {ex}/{sym}: hours must be 1, 2, 4 or 8")
        start = pd.Timestamp(self.start)
        if start.tz is None:
            start = start.tz_localize("UTC")
        if start != start.floor("h"):
            raise ValueError(f"start must be on a whole UTC hour, got {self.start}")
        for listing in self.listings or ():
            if (
                len(listing) != 3
                or listing[0] not in self.exchanges
                or listing[2] not in self.symbols
            ):
                raise ValueError(
                    f"listings entries are (exchange, market, symbol) of the configured "
                    f"exchanges and symbols: {listing}"
                )
            if listing[1] not in ("spot", "perp"):
                raise ValueError(f"listings {listing}: market must be spot or perp")
        for entry in self.venue_start:
            if len(entry) != 2 or entry[0] not in self.exchanges:
                raise ValueError(f"venue_start entries are (exchange, date): {entry}")
            try:
                pd.Timestamp(entry[1])
            except ValueError as exc:
                raise ValueError(f"venue_start {entry}: not a date") from exc

    def start_utc(self) -> pd.Timestamp:
        start = pd.Timestamp(self.start)
        return start.tz_localize("UTC") if start.tz is None else start.tz_convert("UTC")

    def interval_hours(self, exchange: str, symbol: str, params: SyntheticParams) -> int:
        for ex, sym, hours in self.interval_overrides:
            if ex == exchange and sym == symbol:
                return int(hours)
        if exchange in params.exchange_interval_hours:
            return int(params.exchange_interval_hours[exchange])
        return params.profile(symbol).funding_interval_hours


def generate_synthetic_market(config: SyntheticMarketConfig) -> MarketData:
    """Generate a deterministic synthetic market (same config -> identical frames)."""
    p = config.params or SyntheticParams.calibrated()
    rng = np.random.default_rng(config.seed)
    start = config.start_utc()
    n_hours = int(round(config.days * 24))
    sph = 60 // config.kline_minutes  # steps per hour
    n = n_hours * sph
    dt = 1.0 / sph
    exchanges, symbols = config.exchanges, config.symbols
    spot_ex = set(config.spot_exchanges or exchanges)
    step_hour = np.arange(n + 1) // sph  # hourly index of each price point
    step_hour = np.minimum(step_hour, n_hours)

    # market factor with slow vol clustering, fat tails (t5 scaled to unit variance)
    log_vol = ar1(rng, (n_hours + 1,), ar1_coefficient(1.0, p.vol_half_life_hours), p.vol_of_vol)
    vol_mult = np.exp(log_vol - p.vol_of_vol**2)[step_hour[:-1]]
    z_btc = rng.standard_t(5, n) / np.sqrt(5.0 / 3.0)
    r_btc = p.btc_hourly_vol * np.sqrt(dt) * vol_mult * z_btc

    kl_parts, fu_parts, intervals = [], [], {}
    hour_of_day = (start.hour + np.arange(n) * dt) % 24.0
    season = 1.0 + p.intraday_amplitude * np.cos(
        2 * np.pi * (hour_of_day - p.intraday_peak_hour) / 24.0
    )
    times = start + pd.to_timedelta(np.arange(n) * config.kline_minutes, unit="min")
    start_epoch_h = int(start.value // 3_600_000_000_000)
    for symbol in symbols:
        prof = p.profile(symbol)
        if symbol == "BTCUSDT":
            r = r_btc * prof.hourly_vol / p.btc_hourly_vol
        else:
            idio = np.sqrt(max(prof.hourly_vol**2 - (prof.beta * p.btc_hourly_vol) ** 2, 1e-8))
            z = rng.standard_t(5, n) / np.sqrt(5.0 / 3.0)
            r = prof.beta * r_btc + idio * np.sqrt(dt) * vol_mult * z
        index = np.log(prof.price0) + np.concatenate([[0.0], np.cumsum(r)])
        sig_step = prof.hourly_vol * np.sqrt(dt) * vol_mult
        wick_hi = np.abs(rng.standard_normal(n)) * sig_step * 0.6
        wick_lo = np.abs(rng.standard_normal(n)) * sig_step * 0.6

        premium = latent_premium(rng, n_hours + 1, p, prof, exchanges)
        phi_b = ar1_coefficient(dt, p.basis_half_life_hours)
        b_std = p.basis_std * prof.basis_scale
        common_b = ar1(rng, (n + 1,), phi_b, b_std, p.basis_tail_df)
        own_b = ar1(rng, (len(exchanges), n + 1), phi_b, b_std, p.basis_tail_df)
        phi_v = ar1_coefficient(dt, p.spot_venue_half_life_hours)
        venue = ar1(rng, (len(exchanges), n + 1), phi_v, p.spot_venue_std)
        vol_noise = ar1(rng, (len(exchanges), 2, n), ar1_coefficient(dt, 6.0), p.volume_noise_std)
        ret_boost = np.exp(p.volume_return_coef * (np.abs(r) / sig_step - 0.8))
        c_b = p.basis_exchange_corr
        for k, ex in enumerate(exchanges):
            x = premium[k]
            fast = np.sqrt(c_b) * common_b + np.sqrt(1 - c_b) * own_b[k]
            perp = index + x[step_hour] + fast
            h = config.interval_hours(ex, symbol, p)
            intervals[f"{ex}:{symbol}"] = h
            # the premium index the exchange averages is the whole perp/index gap, fast part too
            j, rates = settle(x + fast[::sph], h, start_epoch_h, n_hours, p)
            fu_parts.append(_funding_frame(ex, symbol, start_epoch_h + j, rates, h, perp[j * sph]))
            share = float(p.exchange_volume_share.get(ex, 0.3))
            base_q = prof.volume_usd_per_hour * dt * share * season * ret_boost
            markets = [("perp", perp, 1.0)]
            if ex in spot_ex:
                markets.append(("spot", index + venue[k], p.spot_volume_ratio))
            for m, (market, path, ratio) in enumerate(markets):
                qv = base_q * ratio * np.exp(vol_noise[k, m] - 0.5 * p.volume_noise_std**2)
                bars = _bars(ex, symbol, market, times, path, wick_hi, wick_lo, qv)
                kl_parts.append(bars.assign(interval_minutes=config.kline_minutes))

    klines = pd.concat(kl_parts, ignore_index=True)[list(KLINE_COLUMNS)]
    funding = pd.concat(fu_parts, ignore_index=True)[list(FUNDING_COLUMNS)]
    klines, funding, intervals = _apply_layout(config, klines, funding, intervals)
    klines = klines.sort_values(["exchange", "symbol", "market", "open_time"], ignore_index=True)
    funding = funding.sort_values(["exchange", "symbol", "funding_time"], ignore_index=True)
    end = start + pd.Timedelta(hours=n_hours)
    details = {
        "kind": "synthetic",
        "seed": config.seed,
        "exchanges": list(exchanges),
        "symbols": list(symbols),
        "spot_exchanges": sorted(spot_ex)
        if config.listings is None
        else sorted({e for e, m, _ in config.listings if m == "spot"}),
        "series": sorted(f"{e}:{m}:{s}" for e, m, s in config.listings)
        if config.listings is not None
        else None,
        "venue_start": dict(config.venue_start),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "kline_minutes": config.kline_minutes,
        "funding_interval_hours": intervals,
        "rows": {"klines": len(klines), "funding": len(funding)},
    }
    return MarketData(
        funding=funding,
        klines=klines,
        source=f"synthetic(seed={config.seed})",
        synthetic=True,
        details=details,
    )


def _apply_layout(
    config: SyntheticMarketConfig,
    klines: pd.DataFrame,
    funding: pd.DataFrame,
    intervals: dict[str, int],
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Keep the listed series only and drop each venue's rows before its first day."""
    if config.listings is not None:
        listed = pd.MultiIndex.from_tuples(config.listings)
        keys = pd.MultiIndex.from_arrays([klines["exchange"], klines["market"], klines["symbol"]])
        klines = klines[keys.isin(listed)]
        perps = {(e, s) for e, m, s in config.listings if m == "perp"}
        fkeys = pd.MultiIndex.from_arrays([funding["exchange"], funding["symbol"]])
        funding = funding[fkeys.isin(pd.MultiIndex.from_tuples(sorted(perps)))]
        intervals = {k: v for k, v in intervals.items() if tuple(k.split(":")) in perps}
    for ex, day in config.venue_start:
        first = pd.Timestamp(day)
        first = first.tz_localize("UTC") if first.tz is None else first.tz_convert("UTC")
        klines = klines[(klines["exchange"] != ex) | (klines["open_time"] >= first)]
        funding = funding[(funding["exchange"] != ex) | (funding["funding_time"] >= first)]
    return klines, funding, intervals


def _funding_frame(
    ex: str,
    symbol: str,
    epoch_hours: np.ndarray,
    rates: np.ndarray,
    hours: int,
    mark: np.ndarray,
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "exchange": ex,
            "symbol": symbol,
            "funding_time": pd.to_datetime(epoch_hours * 3_600_000, unit="ms", utc=True),
            "rate": rates,
            "interval_hours": np.full(len(rates), hours, dtype=np.int64),
            "mark_price": np.exp(mark),
        }
    )


def _bars(
    ex: str,
    symbol: str,
    market: str,
    times: pd.DatetimeIndex,
    path: np.ndarray,
    wick_hi: np.ndarray,
    wick_lo: np.ndarray,
    quote_volume: np.ndarray,
) -> pd.DataFrame:
    """OHLCV bars from a log-price path (bar i runs from point i to point i + 1)."""
    o, c = np.exp(path[:-1]), np.exp(path[1:])
    hi = np.maximum(o, c) * np.exp(wick_hi)
    lo = np.minimum(o, c) * np.exp(-wick_lo)
    typical = (hi + lo + c) / 3.0
    return pd.DataFrame(
        {
            "exchange": ex,
            "symbol": symbol,
            "market": market,
            "open_time": times,
            "interval_minutes": 0,
            "open": o,
            "high": hi,
            "low": lo,
            "close": c,
            "volume": quote_volume / typical,
            "quote_volume": quote_volume,
        }
    )
