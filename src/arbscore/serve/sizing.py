"""Position sizing: fractional Kelly, capped by a max fraction of bankroll and by book depth.

A trade either wins ``W`` (% of notional) with probability ``p`` or loses ``L`` (% of notional)
with probability ``q = 1 - p``. Growth-optimal (Kelly) notional as a fraction of bankroll:

    f* = p / L - q / W            (maximises p*log(1 + f*W) + q*log(1 - f*L); W, L as fractions)

``f*`` <= 0 means no edge: size 0. The bet is ``kelly_fraction * f*`` (full Kelly is too
aggressive when p, W and L are estimates), then capped:

    fraction = min(kelly_fraction * f*, max_fraction)
    notional = min(fraction * bankroll, max_depth_share * orderbook_depth)

The depth cap keeps each leg inside the cheapest slippage tier (< 1 % of depth by default).

Calibration shrink: when ``p`` comes from the success head, the Kelly multiplier is shrunk by
how badly that head was calibrated out of time (the bundle's ``metrics.success``: the largest of
its ECE and its worst populated calibration bin's |predicted - observed| gap, pooled over the
test folds and on the most recent fold; ``positions.bundle_calibration_error``):

    kelly_fraction_used = kelly_fraction * max(0, 1 - calibration_error / calibration_tolerance)

so a perfectly calibrated head keeps the full multiplier, a gap of half the tolerance halves it
and a gap at the tolerance (0.5 by default: "predicts 0.96, observes 0.46") sizes 0
(``limited_by`` = "calibration"). A caller who sends its own ``success_probability`` is not
shrunk.

Where W and L come from at serve time: L is the caller's loss size or, by default, the round-trip
cost (four fills at the bundle's fee schedule plus crossing the spread twice), and W is solved
from the model's expected profit ``E = p*W - q*L``, i.e. ``W = (E + q*L) / p``, so the sizing
agrees with the profit head.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from arbscore.data_tools.costs import CostConfig, FeeSchedule, round_trip_cost_pct

#: the smallest loss size (% of notional) sized against: below it ``p / L`` leaves the floats
MIN_LOSS_PCT = 1e-6
#: success probabilities below this are sized as 0 (``W = (E + q*L) / p`` would overflow)
MIN_PROBABILITY = 1e-9
#: ``kelly_full`` is reported within +-this (a finite JSON number even with no edge at all)
KELLY_LIMIT = 1e9


@dataclass(frozen=True)
class SizingConfig:
    """Risk limits for :func:`size`."""

    kelly_fraction: float = 0.25
    max_fraction: float = 0.2
    max_depth_share: float = 0.01
    # the fee schedule of the default loss size (the bundle's manifest "fees" when it has one)
    fees: FeeSchedule = field(default_factory=FeeSchedule)
    venue: str = "binance"  # the exchange a request's legs are charged at (requests name none)
    # out-of-sample calibration error of the p being sized (0: trusted as is; see the docstring)
    calibration_error: float = 0.0
    calibration_tolerance: float = 0.5

    def __post_init__(self) -> None:
        if not 0 < self.kelly_fraction <= 1:
            raise ValueError(f"kelly_fraction={self.kelly_fraction}: must be in (0, 1]")
        if not 0 < self.max_fraction <= 10:
            raise ValueError(f"max_fraction={self.max_fraction}: must be in (0, 10]")
        if not 0 < self.max_depth_share <= 1:
            raise ValueError(f"max_depth_share={self.max_depth_share}: must be in (0, 1]")
        if not (math.isfinite(self.calibration_error) and 0 <= self.calibration_error <= 1):
            raise ValueError(f"calibration_error={self.calibration_error}: must be in [0, 1]")
        if not 0 < self.calibration_tolerance <= 1:
            raise ValueError(
                f"calibration_tolerance={self.calibration_tolerance}: must be in (0, 1]"
            )
        if not isinstance(self.fees, FeeSchedule):
            object.__setattr__(self, "fees", FeeSchedule.from_dict(self.fees, "sizing.fees"))


@dataclass(frozen=True)
class SizeResult:
    """Notional to open and why it is that size."""

    notional_usd: float
    fraction: float  # of bankroll, after caps
    kelly_full: float  # f*, before the fractional multiplier and caps (may be negative)
    edge_pct: float  # expected profit p*W - q*L, % of notional
    limited_by: str  # "kelly" | "no_edge" | "calibration" | "max_fraction" | "liquidity"
    calibration_shrink_fraction: float = 1.0  # multiplier applied to kelly_fraction


def calibration_shrink(config: SizingConfig) -> float:
    """The factor on ``kelly_fraction`` for ``config.calibration_error`` (module docstring)."""
    return max(0.0, 1.0 - config.calibration_error / config.calibration_tolerance)


def _check(
    name: str, value: float, low: float, high: float = math.inf, low_open: bool = False
) -> float:
    v = float(value)
    if not math.isfinite(v) or v < low or v > high or (low_open and v == low):
        bound = f"({low}, {high}]" if low_open else f"[{low}, {high}]"
        raise ValueError(f"{name}={value!r}: must be a finite number in {bound}")
    return v


def default_loss_pct(
    bid_ask_spread_pct: float,
    config: SizingConfig = SizingConfig(),
    strategy: str = "perp_perp",
) -> float:
    """Round-trip cost as a loss size: the one round-trip formula
    (``data_tools.costs.round_trip_cost_pct``: four fills at ``config.fees``, half the spread
    on each) for ``strategy``'s legs at ``config.venue``."""
    long_market = "spot" if strategy == "spot_perp" else "perp"
    spread = max(float(bid_ask_spread_pct), 0.0)
    costs = CostConfig(fees=config.fees)
    venue = config.venue
    return float(round_trip_cost_pct(costs, venue, long_market, venue, "perp", spread, spread)[0])


def win_from_expected(expected_pct: float, p: float, loss_pct: float) -> float:
    """Win size ``W`` consistent with expected profit ``E = p*W - (1-p)*L`` (0 when p is below
    :data:`MIN_PROBABILITY`)."""
    return 0.0 if p < MIN_PROBABILITY else max((expected_pct + (1.0 - p) * loss_pct) / p, 0.0)


def size(
    success_probability: float,
    win_pct: float,
    loss_pct: float,
    bankroll_usd: float,
    orderbook_depth_usd: float | None = None,
    *,
    config: SizingConfig = SizingConfig(),
) -> SizeResult:
    """Fractional-Kelly notional in USD (formula in the module docstring).

    Raises ValueError naming the argument for p outside [0, 1], a loss size below
    :data:`MIN_LOSS_PCT`, a non-positive bankroll, negative win size or depth, or any
    non-finite number. Every field of the result is finite.
    """
    p = _check("success_probability", success_probability, 0.0, 1.0)
    w = _check("win_pct", win_pct, 0.0) / 100.0
    loss = _check("loss_pct", loss_pct, MIN_LOSS_PCT) / 100.0
    bankroll = _check("bankroll_usd", bankroll_usd, 0.0, low_open=True)
    depth = (
        None
        if orderbook_depth_usd is None
        else _check("orderbook_depth_usd", orderbook_depth_usd, 0.0)
    )
    q = 1.0 - p
    edge = p * w - q * loss
    kelly = (-math.inf if q > 0 else 0.0) if w == 0.0 else p / loss - q / w
    kelly = min(max(kelly, -KELLY_LIMIT), KELLY_LIMIT)  # q / w overflows for a tiny w
    shrink = calibration_shrink(config)
    if edge <= 0 or kelly <= 0:
        return SizeResult(0.0, 0.0, kelly, 100 * edge, "no_edge", shrink)
    if shrink == 0.0:
        return SizeResult(0.0, 0.0, kelly, 100 * edge, "calibration", shrink)
    fraction, limited = config.kelly_fraction * shrink * kelly, "kelly"
    if fraction > config.max_fraction:
        fraction, limited = config.max_fraction, "max_fraction"
    notional = fraction * bankroll
    if depth is not None and notional > config.max_depth_share * depth:
        notional, limited = config.max_depth_share * depth, "liquidity"
    return SizeResult(notional, notional / bankroll, kelly, 100 * edge, limited, shrink)
