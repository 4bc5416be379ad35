"""Trading costs of a round trip: exchange fees, slippage, and the round-trip formula.

A fill costs its fee plus its slippage. History has no order books: there the slippage is half
the spread estimated from candles plus the square-root-law impact of the fill
(``data_tools.liquidity``; :meth:`CostConfig.estimated_slippage_rate`). A measured book (the
live scan) gives the spread and depth: half the spread times the guide's size/depth tiers
(:class:`SlippageConfig`, :meth:`CostConfig.slippage_rate`). The same :class:`CostConfig` (one
:class:`FeeSchedule`, the tiers, the liquidity model) is used by opportunity detection
(break-even hours), the simulator (labels), the evaluation baselines, the live candidates and
the server, and :func:`round_trip_cost_pct` is the one round-trip formula, so none of them
disagree about what a trade costs. The schedule travels with a model: the bundle manifest's
``"fees"`` entry.

Units: fee and slippage *rates* are decimal fractions of the filled notional (0.0005 = 0.05 %);
spreads exposed as features are in percent; depth and volume in USD.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields

import numpy as np

from arbscore.data_tools.liquidity import (  # noqa: F401  (the cost model's public names)
    SPREAD_ESTIMATORS,
    LiquidityModel,
    estimate_depth,
    liquidity_status,
    square_root_impact,
    trailing_spread_pct,
)
from arbscore.schema import MARKETS

ORDER_TYPES: tuple[str, ...] = ("taker", "maker")
FILLS: tuple[str, ...] = ("entry", "exit")

# Published fee schedules (taker, maker) per VIP tier, as fractions of the fill notional, read
# from the venues' fee pages in 2025 (VIP 0 first). Binance USDS-M futures and Hyperliquid perps
# list their tiers; the other markets carry their VIP-0 rate only (a higher tier asked for there
# uses the last one listed).
_BINANCE_PERP_TIERS = (
    (0.00050, 0.00020),
    (0.00040, 0.00016),
    (0.00035, 0.00014),
    (0.00032, 0.00012),
    (0.00030, 0.00010),
    (0.00027, 0.00008),
    (0.00025, 0.00006),
    (0.00022, 0.00004),
    (0.00020, 0.00002),
    (0.00017, 0.00000),
)
_HYPERLIQUID_PERP_TIERS = (
    (0.00045, 0.00015),
    (0.00040, 0.00012),
    (0.00035, 0.00008),
    (0.00030, 0.00004),
    (0.00028, 0.00000),
    (0.00026, 0.00000),
    (0.00024, 0.00000),
)
DEFAULT_FEE_TIERS: dict[tuple[str, str], tuple[tuple[float, float], ...]] = {
    ("binance", "spot"): ((0.0010, 0.0010),),
    ("binance", "perp"): _BINANCE_PERP_TIERS,
    ("bybit", "spot"): ((0.0010, 0.0010),),
    ("bybit", "perp"): ((0.00055, 0.0002),),
    ("okx", "spot"): ((0.0010, 0.0008),),
    ("okx", "perp"): ((0.0005, 0.0002),),
    ("hyperliquid", "spot"): ((0.0007, 0.0004),),
    ("hyperliquid", "perp"): _HYPERLIQUID_PERP_TIERS,
}
#: paying Binance fees in BNB: 10 % off USDS-M futures, 25 % off spot (0.10 % -> 0.075 %)
BNB_DISCOUNT: dict[str, float] = {"perp": 0.10, "spot": 0.25}


def _tiers(value: object, key: object) -> tuple[tuple[float, float], ...]:
    """``(taker, maker)`` or a sequence of them -> a tuple of (taker, maker) tiers."""
    seq = tuple(value)  # type: ignore[arg-type]
    if len(seq) == 2 and all(isinstance(v, int | float) for v in seq):
        seq = (seq,)
    tiers = tuple((float(t), float(m)) for t, m in seq)
    for t, m in tiers:
        if not (0 <= t < 0.1 and 0 <= m < 0.1):
            raise ValueError(
                f"fees.rates[{key}] = {value!r}; expected (taker, maker) fractions in [0, 0.1)"
            )
    if not tiers:
        raise ValueError(f"fees.rates[{key}] is empty; expected at least the VIP-0 rates")
    return tiers


@dataclass(frozen=True)
class FeeSchedule:
    """Exchange fees: venue x market x VIP tier, maker or taker chosen for entry and exit apart.

    ``rates`` maps ``(exchange, market)`` to its tiers, each ``(taker, maker)`` as fractions of
    the fill notional (a single pair is one tier). ``tier`` is the VIP level for every venue,
    ``venue_tiers`` overrides it per exchange; a venue with fewer tiers uses its last.
    ``entry_order`` / ``exit_order``: "taker" or "maker" for the two opening / closing fills
    (maker entry + taker exit is the usual carry execution). ``bnb_discount``: Binance fees paid
    in BNB (:data:`BNB_DISCOUNT`). Venues without rates use ``fallback_taker`` /
    ``fallback_maker``. Defaults: VIP 0 taker everywhere, the published rates above.
    """

    rates: Mapping[tuple[str, str], tuple[tuple[float, float], ...]] = field(
        default_factory=lambda: dict(DEFAULT_FEE_TIERS)
    )
    tier: int = 0
    venue_tiers: Mapping[str, int] = field(default_factory=dict)
    entry_order: str = "taker"
    exit_order: str = "taker"
    bnb_discount: bool = False
    fallback_taker: float = 0.0010
    fallback_maker: float = 0.0010

    def __post_init__(self) -> None:
        for name in ("entry_order", "exit_order"):
            if getattr(self, name) not in ORDER_TYPES:
                raise ValueError(
                    f"fees.{name} is {getattr(self, name)!r}; expected one of {ORDER_TYPES}"
                )
        rates = {}
        for key, value in self.rates.items():
            if not (isinstance(key, tuple) and len(key) == 2 and key[1] in MARKETS):
                raise ValueError(f"fees.rates key {key!r} must be (exchange, market in {MARKETS})")
            rates[key] = _tiers(value, key)
        object.__setattr__(self, "rates", rates)
        tiers = [self.tier, *self.venue_tiers.values()]
        if any(not isinstance(t, int) or t < 0 for t in tiers):
            raise ValueError(f"fees.tier / venue_tiers {tiers}: expected VIP levels >= 0")
        if not (0 <= self.fallback_taker < 0.1 and 0 <= self.fallback_maker < 0.1):
            raise ValueError("fees.fallback_taker/fallback_maker must be fractions in [0, 0.1)")

    def rate(self, exchange: str, market: str, fill: str = "entry") -> float:
        """The fee fraction of one ``fill`` ("entry" or "exit") of ``market`` at ``exchange``."""
        if fill not in FILLS:
            raise ValueError(f"fill is {fill!r}; expected one of {FILLS}")
        order = self.entry_order if fill == "entry" else self.exit_order
        tiers = self.rates.get((exchange, market))
        if tiers is None:
            taker, maker = self.fallback_taker, self.fallback_maker
        else:
            level = self.venue_tiers.get(exchange, self.tier)
            taker, maker = tiers[min(level, len(tiers) - 1)]
        rate = taker if order == "taker" else maker
        if self.bnb_discount and exchange == "binance":
            rate *= 1.0 - BNB_DISCOUNT[market]
        return rate

    def rates_for(
        self, exchanges: np.ndarray, markets: np.ndarray, fill: str = "entry"
    ) -> np.ndarray:
        """Vector of fee fractions for parallel arrays of exchanges and markets."""
        ex = np.asarray(exchanges, dtype=object)
        mk = np.asarray(markets, dtype=object)
        if ex.shape != mk.shape:
            raise ValueError(f"exchanges {ex.shape} and markets {mk.shape} differ in length")
        # one lookup per distinct (exchange, market), not per row
        pairs, inverse = np.unique(
            np.char.add(np.char.add(ex.astype(str), "|"), mk.astype(str)), return_inverse=True
        )
        rates = np.array([self.rate(*p.split("|", 1), fill) for p in pairs], dtype=np.float64)
        return rates[inverse.reshape(-1)] if len(pairs) else np.zeros(ex.shape[0])

    def to_dict(self) -> dict:
        """JSON-ready form (``rates`` keyed ``"exchange:market"``); :meth:`from_dict` reads it."""
        return {
            "rates": {f"{e}:{m}": [list(t) for t in tiers] for (e, m), tiers in self.rates.items()},
            "tier": self.tier,
            "venue_tiers": dict(self.venue_tiers),
            "entry_order": self.entry_order,
            "exit_order": self.exit_order,
            "bnb_discount": self.bnb_discount,
            "fallback_taker": self.fallback_taker,
            "fallback_maker": self.fallback_maker,
        }

    @classmethod
    def from_dict(cls, values: Mapping, where: str = "fees") -> FeeSchedule:
        """A schedule from :meth:`to_dict`'s form or a config file's ``fees`` section.

        Older files keep working: ``order_type`` sets both ``entry_order`` and ``exit_order``,
        and a rate given as one ``[taker, maker]`` pair is that venue's only tier. Unknown keys
        raise ``ValueError`` naming them.
        """
        if isinstance(values, cls):
            return values
        if not isinstance(values, Mapping):
            raise ValueError(f"{where}: expected a mapping, got {type(values).__name__}")
        values = dict(values)
        if "order_type" in values:
            order = values.pop("order_type")
            for name in ("entry_order", "exit_order"):
                if values.setdefault(name, order) != order:
                    raise ValueError(f"{where}: order_type and {name} disagree; give one of them")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"{where}: unknown keys {unknown}; known: {sorted(known)}")
        if "rates" in values:
            rates = {}
            for key, tiers in dict(values["rates"]).items():
                if isinstance(key, str):
                    parts = key.split(":")
                    if len(parts) != 2:
                        raise ValueError(f"{where}.rates key {key!r}: expected 'exchange:market'")
                    key = (parts[0], parts[1])
                rates[tuple(key)] = tiers
            values["rates"] = rates
        return cls(**values)


@dataclass(frozen=True)
class SlippageConfig:
    """The guide's slippage tiers: half the spread, times a multiplier by size / depth.

    ``bounds`` are the size/depth ratios where the multiplier steps up (<1 % x1, 1-5 % x1.5,
    5-10 % x2.5, >10 % x5 by default). With ``grow_beyond_last`` (default) the last multiplier
    grows linearly with the ratio past the last bound: x5 at 10 % of depth, x10 at 20 %, x50 at
    100 % (a fill eating the book walks it; the guide's flat x5 would make any size cheap).
    """

    bounds: tuple[float, ...] = (0.01, 0.05, 0.10)
    multipliers: tuple[float, ...] = (1.0, 1.5, 2.5, 5.0)
    grow_beyond_last: bool = True

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
        mult = np.asarray(self.multipliers, dtype=np.float64)[tier]
        if self.grow_beyond_last and self.bounds:
            last = self.bounds[-1]
            mult = np.where(ratio > last, mult * ratio / last, mult)
        return mult


@dataclass(frozen=True)
class CostConfig:
    """Everything a round trip costs, shared by detection (break-even) and simulation (labels).

    ``position_size_usd`` is the notional of *each* leg at entry; profits in percent are
    percent of that notional.
    """

    position_size_usd: float = 10_000.0
    fees: FeeSchedule = field(default_factory=FeeSchedule)
    slippage: SlippageConfig = field(default_factory=SlippageConfig)
    liquidity: LiquidityModel = field(default_factory=LiquidityModel)

    def __post_init__(self) -> None:
        if not np.isfinite(self.position_size_usd) or self.position_size_usd <= 0:
            raise ValueError(
                f"costs.position_size_usd is {self.position_size_usd}; "
                "expected a positive USD amount"
            )

    def slippage_rate(self, spread_pct: np.ndarray, depth_usd: np.ndarray) -> np.ndarray:
        """Slippage fraction of one fill against a *measured* book: half the spread x the
        size/depth tier multiplier (an infinite depth: half the spread)."""
        half = np.asarray(spread_pct, dtype=np.float64) / 100.0 / 2.0
        return half * self.slippage.multiplier(self.position_size_usd, depth_usd)

    def impact_fraction(
        self, daily_volatility_pct: np.ndarray, volume_24h_usd: np.ndarray
    ) -> np.ndarray:
        """Square-root-law impact of one fill of ``position_size_usd`` (a fraction)."""
        return square_root_impact(
            self.position_size_usd, daily_volatility_pct, volume_24h_usd, self.liquidity
        )

    def estimated_slippage_rate(
        self,
        spread_pct: np.ndarray,
        daily_volatility_pct: np.ndarray,
        volume_24h_usd: np.ndarray,
    ) -> np.ndarray:
        """Slippage fraction of one fill where history has no book: half the candle-estimated
        spread plus the square-root-law impact (``data_tools.liquidity``)."""
        half = np.asarray(spread_pct, dtype=np.float64) / 100.0 / 2.0
        return half + self.impact_fraction(daily_volatility_pct, volume_24h_usd)

    def fill_rates(
        self,
        exchanges: np.ndarray,
        markets: np.ndarray,
        spread_pct: np.ndarray,
        depth_usd: np.ndarray,
        fill: str = "entry",
    ) -> tuple[np.ndarray, np.ndarray]:
        """(fee, slippage) fractions of one ``fill`` per leg (parallel arrays)."""
        fee = self.fees.rates_for(np.asarray(exchanges), np.asarray(markets), fill)
        return fee, self.slippage_rate(spread_pct, depth_usd)


def round_trip_cost_pct(
    costs: CostConfig,
    long_exchange: np.ndarray | str,
    long_market: np.ndarray | str,
    short_exchange: np.ndarray | str,
    short_market: np.ndarray | str,
    long_spread_pct: np.ndarray | float,
    short_spread_pct: np.ndarray | float,
    long_depth_usd: np.ndarray | float = np.inf,
    short_depth_usd: np.ndarray | float = np.inf,
    fills: tuple[str, ...] = FILLS,
    *,
    long_impact_fraction: np.ndarray | float = 0.0,
    short_impact_fraction: np.ndarray | float = 0.0,
) -> np.ndarray:
    """The one estimate of a round trip's cost, percent of one leg's notional.

    Four fills: each leg's entry fee and exit fee (``costs.fees``, entry and exit order types
    apart) plus slippage on entry and on exit at the spread/depth known now (half the spread x
    the size tier of a measured depth, :meth:`CostConfig.slippage_rate`; an infinite depth,
    the default, applies no tier) plus each leg's impact fraction per fill (history's
    square-root law, :meth:`CostConfig.impact_fraction`), at the entry notional. Used by detection
    (``round_trip_cost_pct``, break-even hours), the live candidates, the evaluation baselines
    and the server's sizing and exits. The simulator charges the same rates fill by fill, the
    exit at its own notional and at the exit time's spread estimate. Unknown venues (``"?"``)
    use the schedule's fallback rates. ``fills=("exit",)`` gives the cost of closing only (the
    server's exit rules). Scalars in give a 1-element array.
    """
    bad = [f for f in fills if f not in FILLS]
    if bad or not fills:
        raise ValueError(f"fills {fills!r}: expected some of {FILLS}")
    legs = (
        (long_exchange, long_market, long_spread_pct, long_depth_usd, long_impact_fraction),
        (short_exchange, short_market, short_spread_pct, short_depth_usd, short_impact_fraction),
    )
    shape = np.broadcast_shapes(*(np.shape(v) for leg in legs for v in leg))
    n = int(np.prod(shape)) if shape else 1
    total = np.zeros(n)
    for exchange, market, spread, depth, impact in legs:
        ex = np.broadcast_to(np.asarray(exchange, dtype=object), (n,))
        mk = np.broadcast_to(np.asarray(market, dtype=object), (n,))
        spread = np.nan_to_num(np.broadcast_to(np.asarray(spread, np.float64), (n,)), nan=0.0)
        depth = np.broadcast_to(np.asarray(depth, np.float64), (n,))
        impact = np.nan_to_num(np.broadcast_to(np.asarray(impact, np.float64), (n,)), nan=0.0)
        slip = costs.slippage_rate(np.maximum(spread, 0.0), depth) + impact
        for fill in fills:
            total += costs.fees.rates_for(ex, mk, fill) + slip
    return total * 100.0
