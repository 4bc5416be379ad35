"""Margin and liquidation of the perp legs (numpy only, so the server can import it).

Spot legs are fully funded; each perp leg posts margin ``M = N / leverage`` at entry (``N``
the leg's notional, ``q = N / P0`` its quantity, ``m`` the venue's maintenance-margin rate).
Two account models:

**Isolated** (every perp_perp leg -- one venue cannot see the other's margin -- and spot_perp
with ``spot_perp_account="isolated"``): the leg is liquidated when its price loss eats its
margin down to maintenance, ``M - loss(P) <= m q P``:

    short perp: P >= P_liq = P0 (1 + 1 / leverage) / (1 + m)
    long perp:  P <= P_liq = P0 (1 - 1 / leverage) / (1 - m)

**Unified** (same-venue spot_perp, the default ``spot_perp_account="unified"``): one
portfolio-margin account holds the spot bought (``q_l`` coins) and the short perp (``q_s``).
The spot counts as collateral at ``1 - spot_collateral_haircut`` of its value, so the account's
equity and the liquidation condition are

    E(P, S) = M + q_l S (1 - h) - q_s (P - P0)  <=  m q_s P

with ``S`` the spot price at the same instant. Writing ``S = r P`` (``r`` the spot/perp ratio
at that instant) the perp is liquidated at

    P_liq = (M + q_s P0) / (q_s (1 + m) - q_l r (1 - h))      (never when the divisor <= 0)

(:func:`unified_liquidation_price`). With spot and perp on one coin (``r`` ~ 1, ``q_l`` ~
``q_s``) that is ``P_liq ~ P0 (1 + 1 / leverage) / (h + m)``: at 2x, a 10 % haircut and 0.5 %
maintenance the coin must rise ~14x, so a cash-and-carry held through a bull market is not
liquidated (the spot gains what the perp loses), as on the venues' portfolio-margin accounts.

Liquidation is checked on the candle high (short) / low (long) path at the finest resolution
of the data. The liquidated leg closes at ``P_liq`` and pays ``liquidation_fee_rate`` x its
notional at ``P_liq`` (in place of its exit fee and slippage); the hedge closes at the same
instant on its own price series (``data_tools.simulate_path``), and the position ends there.
Funding is paid to and from the account, not the isolated margin, so it does not move the
liquidation price.

**Cross-venue margin rebalance** (perp_perp): ``cross_venue_rebalance_hours`` ``None`` (the
default) keeps each leg's margin isolated, as above. A number ``R`` models a desk that moves
margin between the venues every ``R`` hours after entry: at each rebalance both legs are given
half the pair's equity ``E = 2 M + pnl_l + pnl_s`` (unrealised price PnL since entry, at the
as-of closes then; funding stays in the accounts), so over the next ``R`` (whole) hours a leg is
liquidated at

    short: P >= (E / 2 + q_s P_r) / (q_s (1 + m))      long: P <= (q_l P_r - E / 2) / (q_l (1 - m))

with ``P_r`` the leg's price at the rebalance (:func:`rebalanced_liquidation_price`). Margin moves
only at those times: a crash inside one interval still liquidates the losing leg.

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

from arbscore.schema import DEFAULT_PERP_LEVERAGE

SPOT_PERP_ACCOUNTS: tuple[str, ...] = ("unified", "isolated")
DEFAULT_MAINTENANCE_RATES: dict[str, float] = {
    "binance": 0.005,
    "bybit": 0.005,
    "okx": 0.005,
    "hyperliquid": 0.0125,
}


@dataclass(frozen=True)
class MarginConfig:
    """Leverage of the perp legs, maintenance-margin rate per venue, liquidation fee, accounts.

    ``spot_perp_account``: "unified" (default: same-venue spot_perp is one portfolio-margin
    account, the spot collateral at ``1 - spot_collateral_haircut``) or "isolated" (the short
    perp margined alone, as before). ``spot_collateral_haircut``: 0.10 by default, the
    collateral ratio 0.9 that Binance's portfolio margin and Bybit's unified account give the
    mid-sized coins (BTC and ETH get 0.95: a smaller haircut, so the default is cautious for
    them). ``cross_venue_rebalance_hours``: None (isolated per venue) or the hours between the
    margin rebalances of a perp_perp pair (module docstring).
    """

    leverage: float = DEFAULT_PERP_LEVERAGE
    maintenance_rates: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_MAINTENANCE_RATES)
    )
    fallback_maintenance_rate: float = 0.01
    liquidation_fee_rate: float = 0.005
    spot_perp_account: str = "unified"
    spot_collateral_haircut: float = 0.10
    cross_venue_rebalance_hours: float | None = None

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
        if self.spot_perp_account not in SPOT_PERP_ACCOUNTS:
            raise ValueError(
                f"margin.spot_perp_account is {self.spot_perp_account!r}; expected one of "
                f"{SPOT_PERP_ACCOUNTS}"
            )
        if not 0 <= self.spot_collateral_haircut < 1:
            raise ValueError(
                f"margin.spot_collateral_haircut is {self.spot_collateral_haircut}; expected a "
                "fraction in [0, 1)"
            )
        rebalance = self.cross_venue_rebalance_hours
        if rebalance is not None and not (
            np.isfinite(rebalance) and rebalance > 0 and float(rebalance).is_integer()
        ):
            raise ValueError(
                f"margin.cross_venue_rebalance_hours is {rebalance}; expected whole hours > 0 "
                "or None"
            )

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


def unified_liquidation_price(
    perp_entry_price: np.ndarray | float,
    perp_quantity: np.ndarray | float,
    spot_quantity: np.ndarray | float,
    spot_to_perp: np.ndarray | float,
    maintenance_rate: np.ndarray | float,
    leverage: float,
    haircut: float,
) -> np.ndarray:
    """Perp price at which a unified spot_perp account is liquidated (module docstring), with
    the spot at ``spot_to_perp`` x the perp price; ``inf`` where no price liquidates it."""
    p0 = np.asarray(perp_entry_price, np.float64)
    q_s = np.asarray(perp_quantity, np.float64)
    divisor = q_s * (1.0 + np.asarray(maintenance_rate, np.float64)) - np.asarray(
        spot_quantity, np.float64
    ) * np.asarray(spot_to_perp, np.float64) * (1.0 - haircut)
    margin = q_s * p0 / leverage
    with np.errstate(divide="ignore", invalid="ignore"):
        price = (margin + q_s * p0) / divisor
    return np.where(divisor > 0, price, np.inf)


def rebalanced_liquidation_price(
    price_at_rebalance: np.ndarray | float,
    quantity: np.ndarray | float,
    half_equity: np.ndarray | float,
    side: str,
    maintenance_rate: np.ndarray | float,
) -> np.ndarray:
    """Liquidation price of a perp leg whose margin was reset to ``half_equity`` (USD) when its
    price was ``price_at_rebalance`` (the cross-venue rebalance of the module docstring)."""
    p = np.asarray(price_at_rebalance, np.float64)
    q = np.asarray(quantity, np.float64)
    e = np.asarray(half_equity, np.float64)
    m = np.asarray(maintenance_rate, np.float64)
    if side == "short":
        return (e + q * p) / (q * (1.0 + m))
    if side == "long":
        return (q * p - e) / (q * (1.0 - m))
    raise ValueError(f"side is {side!r}; expected 'long' or 'short'")
