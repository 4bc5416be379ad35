"""The names every stage agrees on: table columns, the hold grid, strategies, label names.

One place defines each of these; stages import them instead of spelling strings again.
This module imports nothing heavy (no pandas) so the server can use it too.
"""

from __future__ import annotations

# --- market store -----------------------------------------------------------------------------
EXCHANGES: tuple[str, ...] = ("binance", "bybit", "okx", "hyperliquid")
MARKETS: tuple[str, ...] = ("spot", "perp")

#: funding event: one settlement of one perpetual. ``funding_time`` is tz-aware UTC;
#: ``rate`` is the per-interval rate as a decimal (0.0001 = 0.01 %); payment = notional x rate,
#: longs pay shorts when positive.
FUNDING_COLUMNS: tuple[str, ...] = (
    "exchange",
    "symbol",
    "funding_time",
    "rate",
    "interval_hours",
    "mark_price",
)

#: kline: one candle. ``open_time`` is tz-aware UTC (bar open); ``interval_minutes`` is the bar
#: length, so the bar's close is known only at ``open_time + interval_minutes``.
KLINE_COLUMNS: tuple[str, ...] = (
    "exchange",
    "symbol",
    "market",
    "open_time",
    "interval_minutes",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "quote_volume",
)

#: symbols are canonical exchange-neutral names such as ``BTCUSDT`` (USDT-margined linear perp
#: and the matching USDT spot pair); collectors map ccxt's ``BTC/USDT:USDT`` to it.

# --- opportunities ----------------------------------------------------------------------------
STRATEGIES: tuple[str, ...] = ("spot_perp", "perp_perp")
LIQUIDITY_STATUSES: tuple[str, ...] = ("Good", "Medium", "Low")
MARKET_REGIMES: tuple[str, ...] = ("Bull", "Bear", "Ranging")
SNAPSHOT_MINUTES = 5
#: the perp leverage a position is margined at unless a config says otherwise (the simulator's
#: ``MarginConfig.leverage``, the book's ``EvaluationConfig.perp_leverage``, the server's
#: ``capital_usd`` when a bundle records no book)
DEFAULT_PERP_LEVERAGE = 2.0


def capital_per_notional(spot_leg: bool, perp_leverage: float = DEFAULT_PERP_LEVERAGE) -> float:
    """Both legs' margin per USD of one leg's notional: a spot_perp pair (``spot_leg``) ties up
    the spot leg's full notional plus notional / leverage on the perp leg, a perp_perp pair
    notional / leverage on each leg."""
    return 1.0 + 1.0 / perp_leverage if spot_leg else 2.0 / perp_leverage


#: identity of an opportunity (one row per snapshot x candidate trade)
OPPORTUNITY_KEY_COLUMNS: tuple[str, ...] = (
    "opportunity_id",
    "timestamp",
    "strategy",
    "symbol",
    "long_exchange",
    "long_market",
    "short_exchange",
    "short_market",
)

#: the SPEC's opportunity features (the guide's names, snake_case). Units: *_profit_* and
#: bid_ask_spread in percent of notional, fund_apr in percent per year, volume/depth in USD.
OPPORTUNITY_FEATURE_COLUMNS: tuple[str, ...] = (
    "fund_profit_8h",
    "fund_apr",
    "fund_profit_24h_proj",
    "fund_profit_3d_proj",
    "break_even_hours",
    "spread_volatility_cv",
    "volume_24h",
    "bid_ask_spread",
    "orderbook_depth",
    "liquidity_status",
    "btc_price",
    "market_regime",
    "hour_of_day",
    "day_of_week",
)

#: trailing windows (days) of the horizon features (``data_tools.horizon``)
HORIZON_WINDOWS_DAYS: tuple[int, ...] = (7, 14, 30)
#: windows (days) of the basis mean and z-score
BASIS_WINDOWS_DAYS: tuple[int, ...] = (7, 30)

_BASIS_STATS = (("mean", "_pct"), ("zscore", ""))

#: the horizon features (issue 26): trailing funding statistics of each leg and of the
#: position's edge (short leg's rate minus long leg's, per 8 h, percent of notional), how
#: persistent the edge has been, the basis over days, and funding-interval changes; every one
#: as of the opportunity's time (``data_tools.horizon``; formulas in docs/serving.md)
HORIZON_FEATURE_COLUMNS: tuple[str, ...] = (
    *(
        f"{leg}_funding_{stat}_{d}d_pct"
        for leg in ("long", "short", "edge")
        for d in HORIZON_WINDOWS_DAYS
        for stat in ("mean", "vol")
    ),
    "edge_positive_fraction_30d",
    "edge_positive_streak_hours",
    "edge_autocorr_30d",
    *(f"basis_{stat}_{d}d{unit}" for d in BASIS_WINDOWS_DAYS for stat, unit in _BASIS_STATS),
    "interval_changes_30d",
)

#: raw inputs the opportunity stage adds next to the SPEC's features (all known at the
#: opportunity's time); percents are percent of notional, intervals and times in hours
EXTRA_FEATURE_COLUMNS: tuple[str, ...] = (
    "long_funding_rate_pct",
    "short_funding_rate_pct",
    "long_interval_hours",
    "short_interval_hours",
    "hours_to_next_funding",
    "basis_pct",
    "basis_zscore",
    "realised_vol_24h_pct",
    "rate_change_8h",
    "rate_change_24h",
    "round_trip_cost_pct",
) + HORIZON_FEATURE_COLUMNS

# --- simulation labels ------------------------------------------------------------------------
#: hold durations simulated for every opportunity (hours): carry pays over weeks, so the default
#: reaches 30 days. ``SimulationConfig.holds_hours`` makes it a setting; this is the default.
HOLD_GRID_HOURS: tuple[int, ...] = (1, 4, 8, 12, 24, 48, 72, 120, 168, 336, 504, 720)
MAX_HOLD_HOURS: int = max(HOLD_GRID_HOURS)
#: the shortest hold a duration head may predict: one snapshot step
MIN_PREDICTED_HOLD_HOURS: float = SNAPSHOT_MINUTES / 60
#: the path is searched in snapshot steps up to this hold, hourly beyond (see simulate.py)
FINE_PATH_HOURS: int = 168


def hold_clip_bounds(
    *, grid: bool = False, hold_grid: tuple[float, ...] | None = None
) -> tuple[float, float]:
    """(low, high) hours of :func:`clip_hold_hours` (an ONNX graph clips with the same pair).
    ``hold_grid``: the grid a bundle's labels were simulated at (its manifest's
    ``hold_grid_hours``); None: the default :data:`HOLD_GRID_HOURS`."""
    holds = HOLD_GRID_HOURS if hold_grid is None else hold_grid
    lo = float(min(holds)) if grid else MIN_PREDICTED_HOLD_HOURS
    return lo, float(max(holds))


def clip_hold_hours(hours, *, grid: bool = False, hold_grid: tuple[float, ...] | None = None):
    """A hold (or array of holds) clipped to the range the stages agree on, in hours.

    ``grid=False``: [MIN_PREDICTED_HOLD_HOURS, MAX_HOLD_HOURS], what a duration head may
    predict. ``grid=True``: [min(HOLD_GRID_HOURS), MAX_HOLD_HOURS], the holds the simulator
    labels, where the profit and success heads are evaluated at a predicted hold (serve, ops,
    export, the composite score). The one clip every stage uses; after training the stages
    pass the bundle's own grid as ``hold_grid``. Floats in, float out; numpy
    arrays in, arrays out (no numpy import here: arrays clip through their own method).
    """
    lo, hi = hold_clip_bounds(grid=grid, hold_grid=hold_grid)
    if hasattr(hours, "clip"):
        return hours.clip(lo, hi)
    return min(max(float(hours), lo), hi)


#: the input that says which hold a (opportunity, hold) row is about
HOLD_COLUMN = "hold_hours"

#: per (opportunity, hold) labels; percents are percent of notional (one leg's entry notional).
#: ``liquidated``: a perp leg hit its liquidation price on the candle high/low path before the
#: exit, and ``actual_hold_hours`` is then the hours to the liquidation (else the hold);
#: ``capital_usd``: both legs' margin (spot leg its notional, perp leg notional / leverage);
#: ``return_on_capital_pct`` = actual_profit_usd / capital_usd x 100. The exit's parts:
#: ``funding_pct - fees_pct - slippage_pct + price_pnl_pct == actual_profit_pct``.
EXECUTION_LABEL_COLUMNS: tuple[str, ...] = (
    "actual_hold_hours",
    "actual_profit_pct",
    "actual_profit_usd",
    "was_profitable",
    "peak_profit",
    "max_drawdown",
    "funding_payments_count",
    "total_funding_earned_usd",
    "total_slippage_pct",
    "total_fees_usd",
    "liquidated",
    "capital_usd",
    "return_on_capital_pct",
    "funding_pct",
    "fees_pct",
    "slippage_pct",
    "price_pnl_pct",
)
#: per opportunity labels (repeated on each of its hold rows): the best exit on the path up to
#: the largest hold, where the signal exit rule (``data_tools.exit_rule``) leaves it and that
#: exit's parts; ``signal_exit_liquidated``: the path was liquidated at or before the signal
#: exit (``signal_exit_hours`` is then the liquidation's time); ``price_estimated``: a leg is
#: priced from another venue's series (``MarketData.estimated_series``), kept for training,
#: flagged so a verdict can leave it out
OPPORTUNITY_LABEL_COLUMNS: tuple[str, ...] = (
    "optimal_hold_hours",
    "best_profit_pct",
    "signal_exit_hours",
    "signal_exit_profit_pct",
    "signal_exit_return_on_capital_pct",
    "signal_exit_funding_pct",
    "signal_exit_fees_pct",
    "signal_exit_slippage_pct",
    "signal_exit_price_pnl_pct",
    "signal_exit_liquidated",
    "price_estimated",
)
LABEL_COLUMNS: tuple[str, ...] = EXECUTION_LABEL_COLUMNS + OPPORTUNITY_LABEL_COLUMNS

#: daily marks of every simulated opportunity, for the portfolio backtest (``opportunity_id`` the
#: executions' int64 id): one row per whole day
#: d = 1..30 after entry (entry + d x 24 h, while inside the data). ``mark_pct``: the position's
#: liquidation value then, % of one leg's notional (entry costs paid, exit costs as if closed
#: then, frozen at the liquidation result after a liquidation); ``funding_pct``: funding received
#: to then, % of notional. Written next to the training set as ``training_marks.parquet``.
MARK_COLUMNS: tuple[str, ...] = ("opportunity_id", "day", "mark_pct", "funding_pct")
MARKS_FILE_NAME = "training_marks.parquet"
#: the fee schedule a run's labels were simulated with (``FeeSchedule.to_dict()``), in the run
#: directory; export copies it into the bundle manifest's ``"fees"``
FEES_FILE_NAME = "fees.json"

#: the three heads and the label each one learns
PROFIT_TARGET = "actual_profit_pct"
SUCCESS_TARGET = "was_profitable"
DURATION_TARGET = "optimal_hold_hours"
HEADS: tuple[str, ...] = ("profit", "success", "duration")

#: columns the guide's ``training_data.csv`` is required to have for ``arbscore train``
GUIDE_CSV_REQUIRED_COLUMNS: tuple[str, ...] = (
    ("timestamp", "symbol", "strategy")
    + OPPORTUNITY_FEATURE_COLUMNS
    + ("actual_hold_hours", "actual_profit_pct", "was_profitable", "peak_profit", "max_drawdown")
)
