"""What candles say about the cost of a fill: the spread estimators and the square-root law.

History has no order books, so the cost of a fill beyond the fee is *estimated* from candles:
half the bid-ask spread (a published low-frequency estimator, :func:`trailing_spread_pct`)
plus the market impact of the fill's size (:func:`square_root_impact`). Every feature and label
that uses them says so. numpy only. The guide's depth tiers (``costs.SlippageConfig``) apply
only where a measured book gives a depth (the live scan); history's volume-based depth
(:func:`estimate_depth`) is a feature, and no cost uses it.

Units: spreads and volatilities in percent, volumes in USD, the impact a fraction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: the half-spread estimators on candles (:func:`abdi_ranaldo_spread_terms`,
#: :func:`corwin_schultz_spreads`)
SPREAD_ESTIMATORS: tuple[str, ...] = ("abdi_ranaldo", "corwin_schultz")


@dataclass(frozen=True)
class LiquidityModel:
    """What history's candles say about the cost of a fill (no order-book history).

    **Spread**: a published low-frequency estimator over the candles of the trailing
    ``spread_window_hours`` (:func:`trailing_spread_pct`): ``spread_estimator``
    "abdi_ranaldo" (Abdi & Ranaldo 2017, close-high-low; the default) or "corwin_schultz"
    (Corwin & Schultz 2012, high-low). Brauneis, Mestel, Riordan & Theissen (J. Banking &
    Finance 124, 2021) found these two track crypto spreads over time best. The estimate is
    clipped to [``min_spread_pct``, ``max_spread_pct``]; too short a history gets the maximum.

    **Impact**: the square-root law (:func:`square_root_impact`), ``impact_coefficient`` x
    daily volatility x sqrt(fill / 24 h volume), the coefficient of order 1.

    **Depth** (a feature only, no cost uses it): ``depth_fraction`` x 24 h volume, at least
    ``min_depth_usd``. Liquidity status: Good from ``good_volume_usd``, Medium from
    ``medium_volume_usd``, else Low. ``fallback_volatility_pct``: the daily volatility of a
    market whose history is too short to measure it.
    """

    spread_estimator: str = "abdi_ranaldo"
    spread_window_hours: float = 168.0
    min_spread_pct: float = 0.0005
    max_spread_pct: float = 2.0
    impact_coefficient: float = 1.0
    fallback_volatility_pct: float = 5.0
    max_impact_pct: float = 10.0
    depth_fraction: float = 0.001
    min_depth_usd: float = 1_000.0
    good_volume_usd: float = 100e6
    medium_volume_usd: float = 10e6

    def __post_init__(self) -> None:
        if self.spread_estimator not in SPREAD_ESTIMATORS:
            raise ValueError(
                f"liquidity.spread_estimator is {self.spread_estimator!r}; expected one of "
                f"{SPREAD_ESTIMATORS}"
            )
        if self.spread_window_hours <= 0 or self.depth_fraction <= 0:
            raise ValueError("liquidity: spread_window_hours and depth_fraction must be > 0")
        if not 0 <= self.min_spread_pct <= self.max_spread_pct:
            raise ValueError("liquidity: need 0 <= min_spread_pct <= max_spread_pct")
        if self.impact_coefficient < 0 or self.fallback_volatility_pct <= 0:
            raise ValueError(
                "liquidity: impact_coefficient must be >= 0, fallback_volatility_pct > 0"
            )
        if self.max_impact_pct <= 0:
            raise ValueError("liquidity.max_impact_pct must be > 0")
        if self.medium_volume_usd > self.good_volume_usd:
            raise ValueError("liquidity: medium_volume_usd must be <= good_volume_usd")


def abdi_ranaldo_spread_terms(close: np.ndarray, high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """Abdi & Ranaldo (2017, Review of Financial Studies 30(12)) per pair of candles.

    With ``c`` the log close and ``eta`` the log mid-range ``(log H + log L) / 2``, the pair
    ending at candle ``t`` contributes ``4 (c_{t-1} - eta_{t-1}) (c_{t-1} - eta_t)``; the squared
    spread is the mean of these terms over a window (negative means give 0). Item ``t`` is the
    pair (t - 1, t), known when candle ``t`` closes; item 0 is NaN.
    """
    c, eta = np.log(close), (np.log(high) + np.log(low)) / 2.0
    out = np.full(len(c), np.nan)
    out[1:] = 4.0 * (c[:-1] - eta[:-1]) * (c[:-1] - eta[1:])
    return out


def corwin_schultz_spreads(high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """Corwin & Schultz (2012, Journal of Finance 67(2)) spread of each pair of candles.

    ``beta = ln(H_{t-1}/L_{t-1})^2 + ln(H_t/L_t)^2``, ``gamma = ln(max H / min L)^2`` over the
    pair, ``alpha = (sqrt(2 beta) - sqrt(beta)) / (3 - 2 sqrt 2) - sqrt(gamma / (3 - 2 sqrt 2))``,
    ``S = 2 (e^alpha - 1) / (1 + e^alpha)``, negative estimates set to 0 (as the paper does).
    A fraction of the price; item ``t`` is the pair (t - 1, t), item 0 is NaN.
    """
    hl = np.log(high / low) ** 2
    out = np.full(len(hl), np.nan)
    beta = hl[:-1] + hl[1:]
    gamma = np.log(np.maximum(high[:-1], high[1:]) / np.minimum(low[:-1], low[1:])) ** 2
    k = 3.0 - 2.0 * np.sqrt(2.0)
    alpha = (np.sqrt(2.0 * beta) - np.sqrt(beta)) / k - np.sqrt(gamma / k)
    out[1:] = np.maximum(2.0 * (np.exp(alpha) - 1.0) / (1.0 + np.exp(alpha)), 0.0)
    return out


def trailing_spread_pct(
    close_ms: np.ndarray,
    close: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    times_ms: np.ndarray,
    model: LiquidityModel,
) -> np.ndarray:
    """The bid-ask spread (percent) of a candle series as of each of ``times_ms``: the model's
    estimator over the candle pairs closed in (t - ``spread_window_hours``, t], clipped to the
    model's bounds; fewer than 3 pairs give ``max_spread_pct``. No look-ahead."""
    close_ms = np.asarray(close_ms, np.int64)
    args = [np.asarray(a, np.float64) for a in (close, high, low)]
    with np.errstate(invalid="ignore", divide="ignore"):
        if model.spread_estimator == "abdi_ranaldo":
            terms = abdi_ranaldo_spread_terms(*args)
        else:
            terms = corwin_schultz_spreads(args[1], args[2])
    ok = np.isfinite(terms)
    cum = np.concatenate([[0.0], np.cumsum(np.where(ok, terms, 0.0))])
    cnt = np.concatenate([[0], np.cumsum(ok)])
    j = np.searchsorted(close_ms, times_ms, side="right")
    j0 = np.searchsorted(close_ms, times_ms - int(model.spread_window_hours * 3_600_000), "right")
    n = cnt[j] - cnt[j0]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (cum[j] - cum[j0]) / n
    # Abdi-Ranaldo: the mean of the squared terms, then the root; Corwin-Schultz: the mean
    abdi = model.spread_estimator == "abdi_ranaldo"
    spread = np.sqrt(np.maximum(mean, 0.0)) if abdi else mean
    spread = np.where(n >= 3, spread * 100.0, model.max_spread_pct)
    return np.clip(
        np.nan_to_num(spread, nan=model.max_spread_pct), model.min_spread_pct, model.max_spread_pct
    )


def square_root_impact(
    size_usd: np.ndarray | float,
    daily_volatility_pct: np.ndarray | float,
    volume_24h_usd: np.ndarray | float,
    model: LiquidityModel,
) -> np.ndarray:
    """Market impact of a fill, a fraction of its notional, by the square-root law:

        impact = Y x sigma_daily x sqrt(Q / V)

    ``Q`` the fill (USD), ``V`` the market's 24 h volume (USD), ``sigma_daily`` its daily
    volatility (a fraction) and ``Y = model.impact_coefficient``, of order 1 across markets:
    Toth et al. (2011, Physical Review X 1, 021006, "Anomalous price impact and the critical
    nature of liquidity in financial markets"); Bouchaud, Bonart, Donier & Gould (2018, "Trades,
    Quotes and Prices", ch. 12); Donier & Bonart (2015, Market Microstructure and Liquidity 1,
    "A million metaorder analysis of market impact on the Bitcoin") found the same law on a
    crypto venue. The default ``Y = 1`` sits at the top of that range (cautious). A missing
    volatility uses ``fallback_volatility_pct``; no volume gives ``max_impact_pct``; the
    impact is capped there too.
    """
    vol = np.asarray(daily_volatility_pct, np.float64)
    vol = np.where(np.isfinite(vol) & (vol >= 0), vol, model.fallback_volatility_pct) / 100.0
    volume = np.nan_to_num(np.asarray(volume_24h_usd, np.float64), nan=0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.asarray(size_usd, np.float64) / np.maximum(volume, 0.0)
    if model.impact_coefficient == 0:  # impact switched off
        return np.zeros(np.broadcast_shapes(vol.shape, ratio.shape))
    with np.errstate(invalid="ignore"):
        impact = model.impact_coefficient * vol * np.sqrt(ratio)
    return np.minimum(np.nan_to_num(impact, nan=np.inf), model.max_impact_pct / 100.0)


def estimate_depth(volume_24h_usd: np.ndarray, model: LiquidityModel) -> np.ndarray:
    """The ``orderbook_depth`` feature where history has no book: ``depth_fraction`` x 24 h
    volume, at least ``min_depth_usd`` (an estimate; no cost uses it)."""
    volume = np.nan_to_num(np.asarray(volume_24h_usd, dtype=np.float64), nan=0.0)
    return np.maximum(model.depth_fraction * np.maximum(volume, 0.0), model.min_depth_usd)


def liquidity_status(volume_24h_usd: np.ndarray, model: LiquidityModel) -> np.ndarray:
    """'Good' / 'Medium' / 'Low' from 24 h volume (object array of the schema's labels)."""
    volume = np.nan_to_num(np.asarray(volume_24h_usd, dtype=np.float64), nan=0.0)
    return np.where(
        volume >= model.good_volume_usd,
        "Good",
        np.where(volume >= model.medium_volume_usd, "Medium", "Low"),
    ).astype(object)
