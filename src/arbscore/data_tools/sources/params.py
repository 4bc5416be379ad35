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
    ``funding_scale``/``funding_bias``: multiplier of the funding noise and shift of its mean
    (per 8 h, decimal); ``volume_usd_per_hour``: mean perp quote volume on the reference
    exchange; ``funding_interval_hours``: settlement interval unless overridden per exchange;
    ``basis_scale``: multiplier of the basis noise.
    """

    price0: float
    hourly_vol: float
    beta: float
    funding_scale: float = 1.0
    funding_bias: float = 0.0
    volume_usd_per_hour: float = 5e7
    funding_interval_hours: int = 8
    basis_scale: float = 1.0

    def __post_init__(self) -> None:
        if self.price0 <= 0 or self.hourly_vol <= 0 or self.volume_usd_per_hour <= 0:
            raise ValueError(f"SymbolProfile needs positive price0/hourly_vol/volume: {self}")
        if self.funding_interval_hours not in (1, 2, 4, 8):
            raise ValueError(
                f"funding_interval_hours must be 1, 2, 4 or 8, got {self.funding_interval_hours}"
            )


#: a symbol not in the calibrated table gets this profile (a mid-cap alt)
GENERIC_PROFILE = SymbolProfile(
    price0=10.0, hourly_vol=0.010, beta=1.1, funding_scale=1.5, volume_usd_per_hour=2e7
)


#: built-in profiles (rough 2025 levels), replaced by calibration.json where it has the symbol
BUILTIN_SYMBOLS = MappingProxyType(
    {
        "BTCUSDT": SymbolProfile(95000.0, 0.0045, 1.0, 0.8, 0.0, 4e8),
        "ETHUSDT": SymbolProfile(3300.0, 0.0070, 1.2, 1.0, 0.0, 3e8),
        "SOLUSDT": SymbolProfile(190.0, 0.0085, 1.3, 2.5, -3e-5, 1e8),
        "BNBUSDT": SymbolProfile(700.0, 0.0050, 0.8, 1.8, -3e-5, 3e7),
        "XRPUSDT": SymbolProfile(2.2, 0.0085, 1.2, 1.5, 0.0, 1e8),
        "DOGEUSDT": SymbolProfile(0.3, 0.0095, 1.4, 1.8, 0.0, 8e7),
        "WIFUSDT": SymbolProfile(1.5, 0.0140, 1.6, 3.0, -2e-5, 3e7, 4),
        "HYPEUSDT": SymbolProfile(30.0, 0.0120, 1.3, 2.0, 0.0, 3e7, 1),
    }
)


@dataclass(frozen=True)
class SyntheticParams:
    """Every knob of the generator. Rates are per 8 h decimals (1e-4 = 0.01 %)."""

    # market factor
    btc_hourly_vol: float = 0.0045
    vol_of_vol: float = 0.35  # std of the log-volatility OU (slow vol clustering)
    vol_half_life_hours: float = 72.0
    # funding regimes (Markov, per symbol, shared by all exchanges)
    funding_calm_mean: float = 4.5e-5
    funding_hot_mean: float = 2.5e-4
    funding_neg_mean: float = -1.5e-4
    regime_hours: tuple[float, float, float] = (240.0, 36.0, 30.0)  # calm, hot, negative
    calm_to_hot_share: float = 0.55  # when calm ends, the share of exits that go hot
    # funding noise (AR(1) on an hourly grid): common per symbol + per exchange
    funding_noise_std: float = 5e-5
    funding_noise_half_life_hours: float = 10.0
    funding_exchange_corr: float = 0.7
    exchange_funding_scale: Any = field(
        default_factory=lambda: MappingProxyType({"binance": 1.0, "bybit": 1.2, "okx": 1.1})
    )
    # basis: perp/spot log gap = coef * funding + OU; spot venues differ by a small OU
    basis_funding_coef: float = 1.0
    basis_std: float = 4e-4
    basis_half_life_hours: float = 3.0
    basis_exchange_corr: float = 0.6
    spot_venue_std: float = 1e-4
    spot_venue_half_life_hours: float = 1.0
    # volume
    intraday_amplitude: float = 0.35  # peak/mean - 1 of the daily cycle (peak ~15:00 UTC)
    volume_noise_std: float = 0.35
    volume_return_coef: float = 0.3  # volume rises with |return|/vol
    spot_volume_ratio: float = 0.25
    exchange_volume_share: Any = field(
        default_factory=lambda: MappingProxyType({"binance": 1.0, "bybit": 0.45, "okx": 0.35})
    )
    symbols: Any = field(default_factory=lambda: BUILTIN_SYMBOLS)

    def __post_init__(self) -> None:
        for name in ("btc_hourly_vol", "funding_noise_std", "basis_std", "spot_venue_std"):
            if getattr(self, name) < 0:
                raise ValueError(f"SyntheticParams.{name} must be >= 0, got {getattr(self, name)}")
        if any(h <= 0 for h in self.regime_hours) or len(self.regime_hours) != 3:
            raise ValueError(f"regime_hours must be 3 positive durations, got {self.regime_hours}")
        for name in ("funding_exchange_corr", "basis_exchange_corr", "calm_to_hot_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"SyntheticParams.{name} must be in [0, 1]")

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
        for key in ("exchange_funding_scale", "exchange_volume_share"):
            if key in kw:
                kw[key] = MappingProxyType({str(k): float(v) for k, v in kw[key].items()})
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
