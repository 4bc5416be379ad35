"""Margin and liquidation of the perp legs (numpy only, so the server can import it).

Spot legs are fully funded. Each perp leg posts isolated margin ``M = notional / leverage`` at
entry. With entry price ``P0``, quantity ``q`` and the venue's maintenance-margin rate ``m``,
the leg is liquidated when its price loss eats the margin down to maintenance,
``M - loss(P) <= m q P``:

    short perp: P >= P_liq = P0 (1 + 1 / leverage) / (1 + m)
    long perp:  P <= P_liq = P0 (1 - 1 / leverage) / (1 - m)

checked on the candle high (short) / low (long) path. The leg is then closed at ``P_liq`` and
pays ``liquidation_fee_rate`` x its notional at ``P_liq`` (in place of its exit fee and
slippage); the other leg is closed at the same time at the market. Funding is paid to and from
the account, not the isolated margin, so it does not move the liquidation price.

Default maintenance rates are the lowest-tier rates of the majors (BTC/ETH-size positions):
Binance, Bybit and OKX ~0.5 %; Hyperliquid's is half the initial margin at the coin's maximum
leverage (BTC 40x -> 1.25 %; smaller coins are higher); other venues 1 %. The default
liquidation fee (0.5 %) is about what the venues keep (Binance's clearance fee, the
maintenance margin left on Bybit/OKX).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

DEFAULT_MAINTENANCE_RATES: dict[str, float] = {
    "binance": 0.005,
    "bybit": 0.005,
    "okx": 0.005,
    "hyperliquid": 0.0125,
}


@dataclass(frozen=True)
class MarginConfig:
    """Leverage of the perp legs, maintenance-margin rate per venue, liquidation fee."""

    leverage: float = 2.0
    maintenance_rates: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_MAINTENANCE_RATES)
    )
    fallback_maintenance_rate: float = 0.01
    liquidation_fee_rate: float = 0.005

    def __post_init__(self) -> None:
        if not np.isfinite(self.leverage) or self.leverage < 1:
            raise ValueError(f"margin.leverage is {self.leverage}; expected >= 1")
        rates = [*self.maintenance_rates.values(), self.fallback_maintenance_rate]
        if any(not 0 <= r < 1 / self.leverage for r in rates):
            raise ValueError(
                f"margin.maintenance_rates {rates}: expected fractions in [0, 1 / leverage)"
            )
        if not 0 <= self.liquidation_fee_rate < 0.1:
            raise ValueError("margin.liquidation_fee_rate must be a fraction in [0, 0.1)")

    def maintenance_rate(self, exchange: str) -> float:
        """The maintenance-margin rate of a perp leg at ``exchange``."""
        return float(self.maintenance_rates.get(exchange, self.fallback_maintenance_rate))

    def leg_capital(self, notional_usd: np.ndarray | float, market: np.ndarray | str):
        """Capital a leg ties up: its notional for spot, notional / leverage for a perp."""
        perp = np.asarray(market) == "perp"
        return np.where(perp, np.asarray(notional_usd, np.float64) / self.leverage, notional_usd)


def liquidation_price(
    entry_price: np.ndarray | float, side: str, maintenance_rate: np.ndarray | float, leverage
) -> np.ndarray:
    """Price at which an isolated perp leg (``side`` "long" or "short") is liquidated."""
    p0 = np.asarray(entry_price, np.float64)
    m = np.asarray(maintenance_rate, np.float64)
    if side == "short":
        return p0 * (1.0 + 1.0 / leverage) / (1.0 + m)
    if side == "long":
        return p0 * (1.0 - 1.0 / leverage) / (1.0 - m)
    raise ValueError(f"side is {side!r}; expected 'long' or 'short'")
