"""Trading costs of a round trip: exchange fees, slippage tiers and the liquidity estimate.

History has no order books, so the bid-ask spread and the order-book depth of a market are
*estimated* from its traded volume (:func:`estimate_spread_depth`); every feature and label
that uses them says so. The same :class:`CostConfig` is used by opportunity detection (break-even
hours) and by the simulator (labels), so the two never disagree about what a trade costs.

Units: fee and slippage *rates* are decimal fractions of the filled notional (0.0005 = 0.05 %);
spreads exposed as features are in percent; depth and volume in USD.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from arbscore.schema import MARKETS

ORDER_TYPES: tuple[str, ...] = ("taker", "maker")

# Published VIP-0 rates (taker, maker) per exchange and market, as fractions.
_DEFAULT_FEES: dict[tuple[str, str], tuple[float, float]] = {
    ("binance", "spot"): (0.0010, 0.0010),
    ("binance", "perp"): (0.0005, 0.0002),
    ("bybit", "spot"): (0.0010, 0.0010),
    ("bybit", "perp"): (0.00055, 0.0002),
    ("okx", "spot"): (0.0010, 0.0008),
    ("okx", "perp"): (0.0005, 0.0002),
    ("hyperliquid", "spot"): (0.0007, 0.0004),
    ("hyperliquid", "perp"): (0.00045, 0.00015),
}


@dataclass(frozen=True)
class FeeConfig:
    """Fee rate per (exchange, market) and order type; unknown venues use the fallback rates.

    ``rates`` maps ``(exchange, market)`` to ``(taker, maker)`` fractions of the fill notional.
    """

    rates: Mapping[tuple[str, str], tuple[float, float]] = field(
        default_factory=lambda: dict(_DEFAULT_FEES)
    )
    order_type: str = "taker"
    fallback_taker: float = 0.0010
    fallback_maker: float = 0.0010

    def __post_init__(self) -> None:
        if self.order_type not in ORDER_TYPES:
            raise ValueError(
                f"fees.order_type is {self.order_type!r}; expected one of {ORDER_TYPES}"
            )
        for key, pair in self.rates.items():
            if not (isinstance(key, tuple) and len(key) == 2 and key[1] in MARKETS):
                raise ValueError(f"fees.rates key {key!r} must be (exchange, market in {MARKETS})")
            if len(pair) != 2 or min(pair) < 0 or max(pair) >= 0.1:
                raise ValueError(
                    f"fees.rates[{key}] = {pair!r}; expected (taker, maker) in [0, 0.1)"
                )
        if not (0 <= self.fallback_taker < 0.1 and 0 <= self.fallback_maker < 0.1):
            raise ValueError("fees.fallback_taker/fallback_maker must be fractions in [0, 0.1)")

    def rate(self, exchange: str, market: str) -> float:
        """The fee fraction charged on one fill of ``market`` at ``exchange``."""
        taker, maker = self.rates.get(
            (exchange, market), (self.fallback_taker, self.fallback_maker)
        )
        return taker if self.order_type == "taker" else maker

    def rates_for(self, exchanges: np.ndarray, markets: np.ndarray) -> np.ndarray:
        """Vector of fee fractions for parallel arrays of exchanges and markets."""
        out = np.empty(len(exchanges), dtype=np.float64)
        pairs = np.asarray([f"{e}|{m}" for e, m in zip(exchanges, markets, strict=True)])
        for pair in np.unique(pairs):
            exchange, market = pair.split("|")
            out[pairs == pair] = self.rate(exchange, market)
        return out


@dataclass(frozen=True)
class SlippageConfig:
    """The guide's slippage tiers: half the spread, times a multiplier by size / depth.

    ``bounds`` are the size/depth ratios where the multiplier steps up (<1 % x1, 1-5 % x1.5,
    5-10 % x2.5, >10 % x5 by default).
    """

    bounds: tuple[float, ...] = (0.01, 0.05, 0.10)
    multipliers: tuple[float, ...] = (1.0, 1.5, 2.5, 5.0)

    def __post_init__(self) -> None:
        if len(self.multipliers) != len(self.bounds) + 1:
            raise ValueError(
                f"slippage.multipliers has {len(self.multipliers)} values; expected "
                f"len(bounds) + 1 = {len(self.bounds) + 1}"
            )
        if list(self.bounds) != sorted(self.bounds) or min(self.bounds, default=1) <= 0:
            raise ValueError(f"slippage.bounds {self.bounds} must be positive and increasing")
        if min(self.multipliers) < 0:
            raise ValueError("slippage.multipliers must be >= 0")

    def multiplier(self, size_usd: np.ndarray | float, depth_usd: np.ndarray) -> np.ndarray:
        """Tier multiplier for fills of ``size_usd`` against ``depth_usd`` (ratio < bound)."""
        ratio = np.asarray(size_usd, dtype=np.float64) / np.maximum(
            np.asarray(depth_usd, dtype=np.float64), 1e-9
        )
        tier = np.searchsorted(np.asarray(self.bounds), ratio, side="right")
        return np.asarray(self.multipliers, dtype=np.float64)[tier]


@dataclass(frozen=True)
class LiquidityModel:
    """Power-law estimate of spread and depth from 24 h traded volume (no order-book history).

    spread % = ``spread_at_ref_pct`` x (volume / ``ref_volume_usd``) ^ -``spread_exponent``,
    clipped to [``min_spread_pct``, ``max_spread_pct``]; depth USD = ``depth_fraction`` x volume.
    Defaults give ~0.1 % at $1M/day and ~0.001 % at $10B/day, depth ~$10M for BTC perps.
    Liquidity status: Good from ``good_volume_usd``, Medium from ``medium_volume_usd``, else Low.
    """

    ref_volume_usd: float = 1e6
    spread_at_ref_pct: float = 0.1
    spread_exponent: float = 0.5
    min_spread_pct: float = 0.0005
    max_spread_pct: float = 2.0
    depth_fraction: float = 0.001
    min_depth_usd: float = 1_000.0
    good_volume_usd: float = 100e6
    medium_volume_usd: float = 10e6

    def __post_init__(self) -> None:
        if self.ref_volume_usd <= 0 or self.spread_at_ref_pct <= 0 or self.depth_fraction <= 0:
            raise ValueError(
                "liquidity: ref_volume_usd, spread_at_ref_pct, depth_fraction must be > 0"
            )
        if not 0 < self.min_spread_pct <= self.max_spread_pct:
            raise ValueError("liquidity: need 0 < min_spread_pct <= max_spread_pct")
        if self.medium_volume_usd > self.good_volume_usd:
            raise ValueError("liquidity: medium_volume_usd must be <= good_volume_usd")


def estimate_spread_depth(
    volume_24h_usd: np.ndarray, model: LiquidityModel
) -> tuple[np.ndarray, np.ndarray]:
    """Estimated (bid-ask spread %, order-book depth USD) of markets from their 24 h volume.

    An *estimate*: history has no order books. Missing or zero volume gets the widest spread
    and the minimum depth, so illiquid markets are never treated as cheap to trade.
    """
    volume = np.nan_to_num(np.asarray(volume_24h_usd, dtype=np.float64), nan=0.0)
    volume = np.maximum(volume, 0.0)
    with np.errstate(divide="ignore"):
        raw = model.spread_at_ref_pct * np.power(
            np.maximum(volume, 1e-9) / model.ref_volume_usd, -model.spread_exponent
        )
    spread = np.clip(raw, model.min_spread_pct, model.max_spread_pct)
    depth = np.maximum(model.depth_fraction * volume, model.min_depth_usd)
    return spread, depth


def liquidity_status(volume_24h_usd: np.ndarray, model: LiquidityModel) -> np.ndarray:
    """'Good' / 'Medium' / 'Low' from 24 h volume (object array of the schema's labels)."""
    volume = np.nan_to_num(np.asarray(volume_24h_usd, dtype=np.float64), nan=0.0)
    return np.where(
        volume >= model.good_volume_usd,
        "Good",
        np.where(volume >= model.medium_volume_usd, "Medium", "Low"),
    ).astype(object)


@dataclass(frozen=True)
class CostConfig:
    """Everything a round trip costs, shared by detection (break-even) and simulation (labels).

    ``position_size_usd`` is the notional of *each* leg at entry; profits in percent are
    percent of that notional.
    """

    position_size_usd: float = 10_000.0
    fees: FeeConfig = field(default_factory=FeeConfig)
    slippage: SlippageConfig = field(default_factory=SlippageConfig)
    liquidity: LiquidityModel = field(default_factory=LiquidityModel)

    def __post_init__(self) -> None:
        if not np.isfinite(self.position_size_usd) or self.position_size_usd <= 0:
            raise ValueError(
                f"costs.position_size_usd is {self.position_size_usd}; "
                "expected a positive USD amount"
            )

    def slippage_rate(self, spread_pct: np.ndarray, depth_usd: np.ndarray) -> np.ndarray:
        """Slippage fraction of one fill: half the spread x the size/depth tier multiplier."""
        half = np.asarray(spread_pct, dtype=np.float64) / 100.0 / 2.0
        return half * self.slippage.multiplier(self.position_size_usd, depth_usd)
