"""Opportunity detection: spot_perp and perp_perp candidates with the SPEC's features.

From the as-of snapshots (``arbscore.data_tools.snapshots``) every snapshot time yields:

- ``spot_perp`` per exchange and symbol with both markets: long spot, short perp (spot cannot be
  shorted, so only positive funding is an opportunity);
- ``perp_perp`` per symbol and exchange pair: long the perp with the lower hourly rate, short the
  one with the higher (rates are compared per hour, since intervals differ between venues).

Every feature is computed from snapshot rows at or before the opportunity's time; the rolling
statistics (spread CV, basis z-score, the horizon features of ``data_tools.horizon``) look back
over earlier snapshots only.

This is the one detector: the live scan (``ops.live_opps``) shapes its order-book rows into the
same snapshot frame and calls :func:`detect_opportunities`. What live knows that history does
not comes in as data: a frame with ``spread_pct`` / ``depth_usd`` columns (the measured book) is
priced with them instead of the volume estimate; ``entry_stride_minutes=None`` and
``neutral_unknowns=False`` are the live scan's settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from arbscore.data_tools.costs import (
    CostConfig,
    LiquidityModel,
    estimate_depth,
    liquidity_status,
    round_trip_cost_pct,
)
from arbscore.data_tools.horizon import orient_horizon, pair_horizon
from arbscore.data_tools.opportunity_frames import (
    candidate_pairs,
    orient_pairs,
    pair_swap,
    rolling_group_stats,
)
from arbscore.schema import (
    EXTRA_FEATURE_COLUMNS,
    MARKET_REGIMES,
    OPPORTUNITY_FEATURE_COLUMNS,
    OPPORTUNITY_KEY_COLUMNS,
    SNAPSHOT_MINUTES,
    STRATEGIES,
)

HOUR_MS = 3_600_000

#: per-leg cost inputs (spread %, depth USD, the square-root-law impact of one fill %; history's
#: are estimates from candles, data_tools.liquidity); the simulator reads spread and impact
LEG_COST_COLUMNS: tuple[str, ...] = (
    "long_bid_ask_spread",
    "long_orderbook_depth",
    "long_impact_pct",
    "short_bid_ask_spread",
    "short_orderbook_depth",
    "short_impact_pct",
)

OPPORTUNITY_COLUMNS: tuple[str, ...] = (
    OPPORTUNITY_KEY_COLUMNS + OPPORTUNITY_FEATURE_COLUMNS + EXTRA_FEATURE_COLUMNS + LEG_COST_COLUMNS
)


@dataclass(frozen=True)
class OpportunityConfig:
    """Detection thresholds and feature settings.

    ``entry_stride_minutes``: keep entries only every N minutes (5-minute neighbours on hourly
    data are near-duplicates). ``min_fund_profit_8h_pct``: the current funding edge per 8 h
    (percent of notional) a candidate needs, per strategy (at least). ``min_edge``: the edge
    must also be strictly above this (default 0: no zero- or negative-edge rows, which can
    only lose; ``None`` keeps them, e.g. for a benchmark's workload). ``stats_window_hours``:
    look-back of the spread CV and basis z-score. ``regime_*``: BTC 7-day return beyond +/-
    threshold is Bull / Bear, else Ranging. ``entry_stride_minutes=None``: every snapshot time
    is an entry (the live scan). ``neutral_unknowns``: True (training) gives too short a history
    the neutral values (spread CV at its cap, basis z-score 0, no BTC return: Ranging); False
    (the live scan) leaves them missing (NaN / None) for the scorer's own missing-value rule.
    """

    strategies: tuple[str, ...] = STRATEGIES
    entry_stride_minutes: int | None = 60
    spot_perp_min_fund_profit_8h_pct: float = 0.0
    perp_perp_min_fund_profit_8h_pct: float = 0.0005
    min_volume_24h_usd: float = 0.0
    stats_window_hours: float = 72.0
    regime_symbol: str = "BTCUSDT"
    regime_threshold_pct: float = 5.0
    min_edge: float | None = 0.0
    break_even_cap_hours: float = 10_000.0
    spread_cv_cap: float = 100.0
    neutral_unknowns: bool = True
    costs: CostConfig = field(default_factory=CostConfig)

    def __post_init__(self) -> None:
        bad = set(self.strategies) - set(STRATEGIES)
        if bad or not self.strategies:
            raise ValueError(
                f"opportunities.strategies has {sorted(bad) or 'nothing'}; expected some of "
                f"{STRATEGIES}"
            )
        stride = self.entry_stride_minutes
        if stride is not None and (stride <= 0 or stride % SNAPSHOT_MINUTES):
            raise ValueError(
                f"opportunities.entry_stride_minutes is {self.entry_stride_minutes}; expected a "
                f"positive multiple of {SNAPSHOT_MINUTES}"
            )
        if self.stats_window_hours <= 0 or self.break_even_cap_hours <= 0:
            raise ValueError(
                "opportunities.stats_window_hours and break_even_cap_hours must be > 0"
            )
        if self.min_edge is not None and not np.isfinite(self.min_edge):
            raise ValueError(f"opportunities.min_edge is {self.min_edge}; expected a percent")
        if self.regime_threshold_pct < 0 or self.min_volume_24h_usd < 0:
            raise ValueError(
                "opportunities.regime_threshold_pct and min_volume_24h_usd must be >= 0"
            )

    def strategy_min_edge(self, strategy: str) -> float:
        """The minimum fund_profit_8h (percent) for ``strategy``."""
        return getattr(self, f"{strategy}_min_fund_profit_8h_pct")


def _leg_frame(snapshots: pd.DataFrame, config: OpportunityConfig) -> pd.DataFrame:
    """Snapshot rows with per-hour rates and spread/depth estimates added (one per leg)."""
    legs = snapshots.copy()
    is_perp = (legs["market"] == "perp").to_numpy()
    legs = legs[~is_perp | legs["funding_rate"].notna().to_numpy()]
    is_perp = (legs["market"] == "perp").to_numpy()

    def hourly(rate: str, hours: str) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            value = legs[rate].to_numpy(np.float64) / legs[hours].to_numpy(np.float64)
        return np.where(is_perp, value, 0.0)

    legs["hourly"] = hourly("funding_rate", "funding_interval_hours")
    legs["hourly_24h"] = hourly("rate_sum_24h", "interval_sum_24h")
    legs["hourly_3d"] = hourly("rate_sum_3d", "interval_sum_3d")
    for name in ("hourly_24h", "hourly_3d"):  # no settlement in the window: use the last rate
        legs[name] = legs[name].fillna(legs["hourly"])
    for name in ("rate_hourly_8h_ago", "rate_hourly_24h_ago"):
        legs[name] = np.where(is_perp, legs[name].to_numpy(np.float64), 0.0)
    if "spread_pct" not in legs or "depth_usd" not in legs:  # no measured book: candles
        volume = legs["volume_24h"].to_numpy()
        model = config.costs.liquidity
        if "spread_estimate_pct" in legs:
            legs["spread_pct"] = legs["spread_estimate_pct"].fillna(model.max_spread_pct)
        else:
            legs["spread_pct"] = model.max_spread_pct
        legs["depth_usd"] = estimate_depth(volume, model)
        legs["cost_depth_usd"] = np.inf  # the estimated depth is a feature: no size tier
        vol = legs["realised_vol_24h_pct"].to_numpy(np.float64)
        legs["impact_pct"] = config.costs.impact_fraction(vol, volume) * 100.0
    else:  # a measured book: the tiers on its depth, no impact model
        legs["cost_depth_usd"] = legs["depth_usd"]
        legs["impact_pct"] = 0.0
    return legs


def regime_context(snapshots: pd.DataFrame, config: OpportunityConfig) -> pd.DataFrame:
    """The BTC context (``timestamp``, ``btc_price``, ``market_regime``) that
    :func:`detect_opportunities` joins to every candidate, from the regime symbol's snapshots
    (perp rows preferred over spot)."""
    btc = snapshots[snapshots["symbol"] == config.regime_symbol]
    btc = btc.sort_values(["timestamp", "market", "exchange"], ascending=[True, False, True])
    btc = btc.drop_duplicates("timestamp")[["timestamp", "price", "return_7d_pct"]]
    ret = btc["return_7d_pct"].to_numpy(np.float64)
    regime = np.where(np.isfinite(ret), market_regime(ret, config.regime_threshold_pct), None)
    return pd.DataFrame(
        {
            "timestamp": btc["timestamp"].to_numpy(),
            "btc_price": btc["price"].to_numpy(),
            "market_regime": regime,
        }
    )


def market_regime(return_7d_pct: np.ndarray, threshold_pct: float) -> np.ndarray:
    """Bull / Bear beyond +/- ``threshold_pct`` of BTC's 7-day return, else Ranging (objects).

    NaN returns give Ranging here; :func:`detect_opportunities` leaves them unknown first.
    """
    bull, bear, ranging = MARKET_REGIMES
    ret, thr = return_7d_pct, threshold_pct
    return np.where(ret > thr, bull, np.where(ret < -thr, bear, ranging)).astype(object)


def detect_opportunities(
    snapshots: pd.DataFrame, config: OpportunityConfig, context: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Candidates at each entry time that clear the thresholds, with ``OPPORTUNITY_COLUMNS``.

    ``snapshots`` is the output of :func:`~arbscore.data_tools.snapshots.build_snapshots`; the
    rolling statistics use every snapshot row, entries are then thinned to the stride.
    ``context`` is the BTC context (:func:`regime_context`) when it was computed once for a
    universe cut into partitions; by default it comes from ``snapshots``' own regime-symbol rows.
    """
    missing = [
        c for c in ("timestamp", "exchange", "symbol", "market", "price") if c not in snapshots
    ]
    if missing:
        raise ValueError(
            f"snapshots frame is missing columns {missing}; build it with build_snapshots"
        )
    if snapshots.empty:
        return _empty()
    legs = _leg_frame(snapshots, config)
    pairs = candidate_pairs(legs, config.strategies)
    if pairs.empty:
        return _empty()
    # signed edge per hour of "long a, short b" and the a->b price basis, for rolling stats
    pairs["edge"] = pairs["b_hourly"] - pairs["a_hourly"]
    pairs["basis_ab"] = (pairs["b_price"] / pairs["a_price"] - 1.0) * 100.0
    window_ms = int(config.stats_window_hours * HOUR_MS)
    stats = rolling_group_stats(
        pairs, ["strategy", "symbol", "a_exchange", "b_exchange"], ["edge", "basis_ab"], window_ms
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        cv = stats["edge_std"] / np.abs(stats["edge_mean"])
        z = (pairs["basis_ab"].to_numpy() - stats["basis_ab_mean"]) / stats["basis_ab_std"]
    cap, neutral = config.spread_cv_cap, config.neutral_unknowns
    pairs["spread_cv"] = np.clip(
        np.nan_to_num(cv, nan=cap if neutral else np.nan, posinf=cap), 0, cap
    )
    pairs["basis_z_ab"] = np.nan_to_num(z, nan=0.0 if neutral else np.nan, posinf=0.0, neginf=0.0)

    horizon = pd.DataFrame(pair_horizon(pairs), index=pairs.index)
    if config.entry_stride_minutes is not None:
        stride_ms = config.entry_stride_minutes * 60_000
        t_ms = pairs["timestamp"].astype("datetime64[ms, UTC]").astype("int64").to_numpy()
        pairs = pairs[t_ms % stride_ms == 0]
    swap = pair_swap(pairs)
    horizon = orient_horizon({k: v.to_numpy() for k, v in horizon.loc[pairs.index].items()}, swap)
    opp = pd.concat([orient_pairs(pairs), horizon], axis=1)
    opp = _features(opp, config)
    if context is None:
        context = regime_context(snapshots, config)
    opp = opp.merge(context, on="timestamp", how="left")
    if config.neutral_unknowns:  # no BTC return known: neutral
        opp["market_regime"] = opp["market_regime"].fillna("Ranging")
    keep = np.zeros(len(opp), dtype=bool)
    for strategy in config.strategies:
        keep |= (opp["strategy"] == strategy).to_numpy() & (
            opp["fund_profit_8h"].to_numpy() >= config.strategy_min_edge(strategy)
        )
    if config.min_edge is not None:
        keep &= opp["fund_profit_8h"].to_numpy() > config.min_edge
    if config.min_volume_24h_usd > 0:  # (an unknown volume passes no minimum)
        keep &= opp["volume_24h"].to_numpy() >= config.min_volume_24h_usd
    opp = opp[keep].copy()
    opp["opportunity_id"] = candidate_key(opp) + ":" + opp["timestamp"].dt.strftime("%Y%m%dT%H%M")
    opp = opp.sort_values(["timestamp", "strategy", "symbol", "long_exchange", "short_exchange"])
    return opp.reindex(columns=list(OPPORTUNITY_COLUMNS)).reset_index(drop=True)


def candidate_key(opp: pd.DataFrame) -> pd.Series:
    """``strategy:symbol:long_exchange-long_market:short_exchange-short_market`` per row: one
    candidate trade whatever the snapshot time (the live candidates' ``opportunity_key``)."""
    return (
        opp["strategy"]
        + ":"
        + opp["symbol"]
        + ":"
        + opp["long_exchange"]
        + "-"
        + opp["long_market"]
        + ":"
        + opp["short_exchange"]
        + "-"
        + opp["short_market"]
    )


def pair_features(
    opp: pd.DataFrame,
    cost_pct: pd.Series,
    *,
    volume: str,
    depth: str,
    liquidity: LiquidityModel,
    break_even_cap_hours: float,
) -> pd.DataFrame:
    """The SPEC features that history and live candidates compute alike, added to ``opp``.

    From the oriented ``long_*``/``short_*`` leg columns (``hourly`` funding as a decimal per
    hour, ``spread_pct``, and the stems ``volume``/``depth`` naming each side's 24 h volume and
    book depth in USD) and the round trip's cost in percent: funding edge per 8 h and per year,
    break-even hours (capped), the weaker leg's liquidity, hour and weekday. Used by
    :func:`detect_opportunities` (history and, through it, the live scan), so training and live
    rows get the same numbers.
    """
    edge = (opp["short_hourly"] - opp["long_hourly"]).to_numpy(np.float64)
    opp["fund_profit_8h"] = edge * 8 * 100.0
    opp["fund_apr"] = edge * 24 * 365 * 100.0
    opp["round_trip_cost_pct"] = cost_pct
    with np.errstate(divide="ignore", invalid="ignore"):
        be = np.where(edge > 0, cost_pct.to_numpy() / (edge * 100.0), np.inf)
    opp["break_even_hours"] = np.minimum(be, break_even_cap_hours)
    opp["volume_24h"] = np.fmin(opp[f"long_{volume}"], opp[f"short_{volume}"])
    opp["bid_ask_spread"] = np.fmax(opp["long_spread_pct"], opp["short_spread_pct"])
    opp["orderbook_depth"] = np.fmin(opp[f"long_{depth}"], opp[f"short_{depth}"])
    opp["liquidity_status"] = liquidity_status(opp["volume_24h"].to_numpy(), liquidity)
    opp["hour_of_day"] = opp["timestamp"].dt.hour.astype("int64")
    opp["day_of_week"] = opp["timestamp"].dt.day_of_week.astype("int64")
    return opp


def _features(opp: pd.DataFrame, config: OpportunityConfig) -> pd.DataFrame:
    """The SPEC's features (percent units) from the oriented long/short leg columns."""
    cost = round_trip_cost_pct(
        config.costs,
        opp["long_exchange"].to_numpy(),
        opp["long_market"].to_numpy(),
        opp["short_exchange"].to_numpy(),
        opp["short_market"].to_numpy(),
        opp["long_spread_pct"].to_numpy(np.float64),
        opp["short_spread_pct"].to_numpy(np.float64),
        # an unmeasured live book (NaN depth) prices no size tier
        np.nan_to_num(opp["long_cost_depth_usd"].to_numpy(np.float64), nan=np.inf),
        np.nan_to_num(opp["short_cost_depth_usd"].to_numpy(np.float64), nan=np.inf),
        long_impact_fraction=opp["long_impact_pct"].to_numpy(np.float64) / 100.0,
        short_impact_fraction=opp["short_impact_pct"].to_numpy(np.float64) / 100.0,
    )
    cost = pd.Series(cost, index=opp.index)
    opp = pair_features(
        opp,
        cost,
        volume="volume_24h",
        depth="depth_usd",
        liquidity=config.costs.liquidity,
        break_even_cap_hours=config.break_even_cap_hours,
    )
    opp["fund_profit_24h_proj"] = (opp["short_hourly_24h"] - opp["long_hourly_24h"]) * 24 * 100.0
    opp["fund_profit_3d_proj"] = (opp["short_hourly_3d"] - opp["long_hourly_3d"]) * 72 * 100.0
    opp["spread_volatility_cv"] = opp["spread_cv"]
    is_spot_long = (opp["long_market"] == "spot").to_numpy()
    opp["long_funding_rate_pct"] = np.where(is_spot_long, 0.0, opp["long_funding_rate"] * 100.0)
    opp["short_funding_rate_pct"] = opp["short_funding_rate"] * 100.0
    opp["long_interval_hours"] = np.where(is_spot_long, 0.0, opp["long_funding_interval_hours"])
    opp["short_interval_hours"] = opp["short_funding_interval_hours"]
    opp["hours_to_next_funding"] = np.fmin(
        opp["short_hours_to_next_funding"],
        np.where(is_spot_long, np.inf, opp["long_hours_to_next_funding"]),
    )
    opp["basis_pct"] = (opp["short_price"] / opp["long_price"] - 1.0) * 100.0
    opp["basis_zscore"] = opp["basis_zscore_oriented"]
    opp["realised_vol_24h_pct"] = np.fmax(
        opp["long_realised_vol_24h_pct"], opp["short_realised_vol_24h_pct"]
    )
    opp["rate_change_8h"] = (
        opp["fund_profit_8h"]
        - (opp["short_rate_hourly_8h_ago"] - opp["long_rate_hourly_8h_ago"]) * 8 * 100.0
    )
    opp["rate_change_24h"] = (
        opp["fund_profit_8h"]
        - (opp["short_rate_hourly_24h_ago"] - opp["long_rate_hourly_24h_ago"]) * 8 * 100.0
    )
    for side in ("long", "short"):
        opp[f"{side}_bid_ask_spread"] = opp[f"{side}_spread_pct"]
        opp[f"{side}_orderbook_depth"] = opp[f"{side}_depth_usd"]
    return opp


def _empty() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="float64") for c in OPPORTUNITY_COLUMNS})
    frame["timestamp"] = pd.Series(dtype="datetime64[ms, UTC]")
    text = [c for c in OPPORTUNITY_KEY_COLUMNS if c != "timestamp"]
    for name in (*text, "liquidity_status", "market_regime"):
        frame[name] = pd.Series(dtype=object)
    return frame
