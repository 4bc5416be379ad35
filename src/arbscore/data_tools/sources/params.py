"""Parameters of the synthetic market, with defaults fitted to the real data.

``benchmarks/calibrate_synthetic.py`` measures the real Binance/Bybit data in ``../shared/data``
and writes ``calibration.json`` beside this file (our own fitted numbers, no market data).
:meth:`SyntheticParams.calibrated` reads it, so a fresh machine without the real data still
generates a market with realistic funding levels, persistence, basis and volatility.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any

CALIBRATION_FILE = "calibration.json"


@dataclass(frozen=True)
class SymbolProfile:
    """How one symbol differs from the market factor.

    ``hourly_vol``: std of hourly log returns; ``beta``: loading on the BTC factor;
    ``premium_scale``: multiplier of the premium's regimes and slow noise (SOL swings more than
    BTC); ``spread_scale``: multiplier of the per-exchange part of that noise alone, so a symbol
    whose funding swings widely everywhere (BNB) need not have wide cross-exchange funding
    edges; ``premium_bias``: shift of its mean premium; ``basis_scale``: multiplier of the fast
    basis noise; ``volume_usd_per_hour``: mean perp quote volume on the reference exchange;
    ``funding_interval_hours``: settlement interval unless overridden per exchange.
    """

    price0: float
    hourly_vol: float
    beta: float
    premium_scale: float = 1.0
    premium_bias: float = 0.0
    basis_scale: float = 1.0
    volume_usd_per_hour: float = 5e7
    funding_interval_hours: int = 8
    spread_scale: float = 1.0

    def __post_init__(self) -> None:
        if self.spread_scale < 0:
            raise ValueError(f"SymbolProfile.spread_scale must be >= 0: {self}")
        if self.price0 <= 0 or self.hourly_vol <= 0 or self.volume_usd_per_hour <= 0:
            raise ValueError(f"SymbolProfile needs positive price0/hourly_vol/volume: {self}")
        if self.premium_scale < 0 or self.basis_scale < 0:
            raise ValueError(f"SymbolProfile scales must be >= 0: {self}")
        if self.funding_interval_hours not in (1, 2, 4, 8):
            raise ValueError(
                f"funding_interval_hours must be 1, 2, 4 or 8, got {self.funding_interval_hours}"
            )


#: a symbol not in the calibrated table gets this profile (a mid-cap alt)
GENERIC_PROFILE = SymbolProfile(
    price0=10.0,
    hourly_vol=0.010,
    beta=1.2,
    premium_scale=2.0,
    basis_scale=2.0,
    volume_usd_per_hour=2e7,
)

#: built-in profiles (rough 2025 levels), replaced by calibration.json where it has the symbol
BUILTIN_SYMBOLS = MappingProxyType(
    {
        "BTCUSDT": SymbolProfile(95000.0, 0.0047, 1.0, 1.0, 0.0, 1.0, 7e8),
        "ETHUSDT": SymbolProfile(3300.0, 0.0077, 1.3, 1.2, 0.0, 1.1, 6e8),
        "SOLUSDT": SymbolProfile(190.0, 0.0092, 1.5, 3.0, -5e-5, 2.4, 1.7e8),
        "BNBUSDT": SymbolProfile(700.0, 0.0058, 0.8, 2.4, 4e-4, 4.4, 3e7),
        "XRPUSDT": SymbolProfile(2.2, 0.0090, 1.4, 1.8, 0.0, 1.9, 9e7),
        "DOGEUSDT": SymbolProfile(0.3, 0.0100, 1.5, 2.0, 0.0, 2.0, 8e7),
        "WIFUSDT": SymbolProfile(1.5, 0.0140, 1.6, 3.5, -5e-5, 3.0, 3e7, 4),
        "HYPEUSDT": SymbolProfile(30.0, 0.0120, 1.3, 2.5, 0.0, 2.5, 3e7, 1),
    }
)


@dataclass(frozen=True)
class SyntheticParams:
    """Every knob of the generator.

    Funding follows the exchanges' formula: a premium index p (perp vs index, a fraction; the
    funding formula treats it as a per-8 h rate) is averaged over the interval and
    ``F = P + clamp(interest - P, -clamp, +clamp)``, so calm markets pay exactly the 0.01 %
    interest rate, as the real Binance/Bybit data shows. The perp/spot log basis is the same
    premium plus fast mean-reverting noise.
    """

    # market factor
    btc_hourly_vol: float = 0.0047
    vol_of_vol: float = 0.35  # std of the log-volatility OU (slow vol clustering)
    vol_half_life_hours: float = 72.0
    # premium regimes (Markov, per symbol, shared by all exchanges)
    premium_mean: float = -4.3e-4  # calm regime level of the premium index
    hot_excess: float = 9e-4
    neg_excess: float = -4e-4
    regime_hours: tuple[float, float, float] = (240.0, 36.0, 30.0)  # calm, hot, negative
    calm_to_hot_share: float = 0.5  # when calm ends, the share of exits that go hot
    # slow premium noise (AR(1) on an hourly grid): common per symbol + per exchange
    premium_std: float = 6e-5
    premium_half_life_hours: float = 10.0
    premium_exchange_corr: float = 0.7
    #: shift of a venue's premium (Hyperliquid's sits nearer the interest rate than Binance's)
    exchange_premium_bias: Any = field(default_factory=lambda: MappingProxyType({}))
    exchange_premium_scale: Any = field(
        default_factory=lambda: MappingProxyType(
            {"binance": 1.0, "bybit": 1.2, "okx": 1.0, "hyperliquid": 1.0}
        )
    )
    # a venue's own settlement interval, over the symbol's (Hyperliquid settles every hour)
    exchange_interval_hours: Any = field(
        default_factory=lambda: MappingProxyType({"hyperliquid": 1})
    )
    # funding formula, per 8 h (scaled by interval / 8)
    interest_8h: float = 1e-4
    clamp_8h: float = 5e-4
    # fast basis noise on top of the premium (OU), partly common across exchanges
    basis_std: float = 1.0e-4
    basis_half_life_hours: float = 1.2
    basis_exchange_corr: float = 0.3
    basis_tail_df: float = 4.0  # Student-t innovations: real basis spikes (kurtosis 10-600)
    # spot venues differ from the common index by a small OU (not measurable in the data here)
    spot_venue_std: float = 1e-4
    spot_venue_half_life_hours: float = 1.0
    # volume
    intraday_amplitude: float = 0.5  # (max - min) / 2 of the daily profile, mean 1
    intraday_peak_hour: float = 14.0
    volume_noise_std: float = 0.35
    volume_return_coef: float = 0.3  # volume rises with |return|/vol
    spot_volume_ratio: float = 0.25
    exchange_volume_share: Any = field(
        default_factory=lambda: MappingProxyType(
            {"binance": 1.0, "bybit": 0.45, "okx": 0.35, "hyperliquid": 0.3}
        )
    )
    symbols: Any = field(default_factory=lambda: BUILTIN_SYMBOLS)

    def __post_init__(self) -> None:
        for name in ("btc_hourly_vol", "premium_std", "basis_std", "spot_venue_std", "clamp_8h"):
            if getattr(self, name) < 0:
                raise ValueError(f"SyntheticParams.{name} must be >= 0, got {getattr(self, name)}")
        if len(self.regime_hours) != 3 or any(h < 1 for h in self.regime_hours):
            raise ValueError(f"regime_hours must be 3 durations >= 1 h, got {self.regime_hours}")
        for name in ("premium_exchange_corr", "basis_exchange_corr", "calm_to_hot_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"SyntheticParams.{name} must be in [0, 1]")
        if not self.basis_tail_df > 2.0:
            raise ValueError(
                f"basis_tail_df must be > 2 (finite variance), got {self.basis_tail_df}"
            )
        bad = {e: h for e, h in dict(self.exchange_interval_hours).items() if h not in (1, 2, 4, 8)}
        if bad:
            raise ValueError(f"SyntheticParams.exchange_interval_hours must be 1, 2, 4 or 8: {bad}")
        for name in ("premium_half_life_hours", "basis_half_life_hours", "vol_half_life_hours"):
            if getattr(self, name) <= 0:
                raise ValueError(f"SyntheticParams.{name} must be > 0")

    def profile(self, symbol: str) -> SymbolProfile:
        """The calibrated profile of ``symbol`` or the generic one."""
        return self.symbols.get(symbol, GENERIC_PROFILE)

    @classmethod
    def from_dict(cls, raw: dict) -> SyntheticParams:
        """Build from the JSON layout; unknown keys are rejected so typos do not pass silently."""
        known = {f.name for f in fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise ValueError(f"unknown synthetic parameter(s) {sorted(unknown)}")
        kw = dict(raw)
        if "regime_hours" in kw:
            kw["regime_hours"] = tuple(float(x) for x in kw["regime_hours"])
        for key in ("exchange_premium_scale", "exchange_volume_share", "exchange_premium_bias"):
            if key in kw:
                kw[key] = MappingProxyType({str(k): float(v) for k, v in kw[key].items()})
        if "exchange_interval_hours" in kw:
            kw["exchange_interval_hours"] = MappingProxyType(
                {str(k): int(v) for k, v in kw["exchange_interval_hours"].items()}
            )
        if "symbols" in kw:
            merged = dict(BUILTIN_SYMBOLS)
            merged.update({s: SymbolProfile(**p) for s, p in kw["symbols"].items()})
            kw["symbols"] = MappingProxyType(merged)
        return cls(**kw)

    def to_dict(self) -> dict:
        out: dict = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "symbols":
                v = {s: p.__dict__.copy() for s, p in v.items()}
            elif isinstance(v, MappingProxyType):
                v = dict(v)
            elif isinstance(v, tuple):
                v = list(v)
            out[f.name] = v
        return out

    @classmethod
    def calibrated(cls) -> SyntheticParams:
        """Defaults fitted by ``benchmarks/calibrate_synthetic.py`` (falls back to built-ins)."""
        return _load_calibrated()


@lru_cache(maxsize=1)
def _load_calibrated() -> SyntheticParams:
    raw = load_calibration_file()
    return SyntheticParams.from_dict(raw["params"]) if raw else SyntheticParams()


def load_calibration_file() -> dict | None:
    """The committed calibration JSON (``params`` + measured ``targets``), or None if absent."""
    ref = resources.files("arbscore.data_tools.sources").joinpath(CALIBRATION_FILE)
    if not ref.is_file():
        return None
    return json.loads(ref.read_text())
