"""The predicted funding rate rebuilt from premium-index klines, with the venues' published formula.

Binance ("Introduction to Binance Futures Funding Rates",
https://www.binance.com/en/support/faq/360033525031) and Bybit ("Introduction to Funding Rate",
https://www.bybit.com/en/help-center/article/Introduction-to-Funding-Rate) publish the same rule:

    P = time-weighted average of the minute premium indices over the funding interval, the
        k-th minute weighted k (1, 2, ..., n: the closer to the settlement, the heavier)
    F = P + clamp(I - P, -0.05 %, +0.05 %)
    I = 0.03 % a day, i.e. 0.01 % per 8 h interval (pro rata for 4 h / 1 h intervals)

and then clamp F to the symbol's funding cap/floor (Binance ``/fapi/v1/fundingInfo``
``adjustedFundingRateCap``/``Floor``; Bybit instrument ``upperFundingRate``/``lowerFundingRate``).
Hyperliquid ("Funding", https://hyperliquid.gitbook.io/hyperliquid-docs/trading/funding) uses the
plain average of its 5-second premium samples over the hour, the same clamp on an 8 h basis
(I = 0.01 % per 8 h) and pays 1/8 of that 8 h rate every hour, capped at 4 % an hour.

The result is the exchange's *predicted* rate for the settlement at the window's end; the
settled ``funding_rate`` stays the training quantity. A feature built on the predicted rate is
used only where both the training data and the live rows have it (live rows carry it as
``predicted_funding_rate``; history has it only where premium-index klines were backfilled).
With premium klines coarser than a minute the weights are per bar, an approximation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

HOUR_NS = 3_600 * 10**9


@dataclass(frozen=True)
class FundingFormula:
    """One venue's published constants (decimal fractions, not percent).

    ``basis_hours``: the period the interest and the clamp refer to; None = the settlement's
    own interval (Binance, Bybit); 8 for Hyperliquid, whose 8 h rate is paid pro rata hourly.
    ``weighting``: ``"linear"`` (minute k weighs k) or ``"equal"`` (a plain mean).
    """

    interest_per_day: float = 0.0003
    clamp: float = 0.0005
    basis_hours: float | None = None
    weighting: str = "linear"
    cap: float | None = None
    floor: float | None = None

    def __post_init__(self) -> None:
        if self.weighting not in ("linear", "equal"):
            raise ValueError(f"weighting: {self.weighting!r}; expected 'linear' or 'equal'")
        if self.clamp < 0:
            raise ValueError(f"clamp: {self.clamp} must be >= 0")
        if self.basis_hours is not None and self.basis_hours <= 0:
            raise ValueError(f"basis_hours: {self.basis_hours} must be > 0")
        if self.cap is not None and self.floor is not None and self.floor > self.cap:
            raise ValueError(f"floor {self.floor} is above cap {self.cap}")


#: the venues' published formulas (caps are per symbol: pass them with ``dataclasses.replace``)
FORMULAS: dict[str, FundingFormula] = {
    "binance": FundingFormula(),
    "bybit": FundingFormula(),
    "hyperliquid": FundingFormula(basis_hours=8.0, weighting="equal", cap=0.04, floor=-0.04),
}


def funding_from_premium(
    average_premium: np.ndarray | float, interval_hours: np.ndarray | float, formula: FundingFormula
) -> np.ndarray:
    """F = P + clamp(I - P, +/- clamp) on the formula's basis, pro rata to the interval, then
    clamped to the cap/floor. Vectorised over settlements."""
    p = np.asarray(average_premium, np.float64)
    hours = np.asarray(interval_hours, np.float64)
    basis = hours if formula.basis_hours is None else np.full_like(hours, formula.basis_hours)
    interest = formula.interest_per_day * basis / 24.0
    rate = p + np.clip(interest - p, -formula.clamp, formula.clamp)
    rate = rate * hours / basis
    lo = -np.inf if formula.floor is None else formula.floor
    hi = np.inf if formula.cap is None else formula.cap
    return np.clip(rate, lo, hi)


def predicted_rates(
    premium: pd.DataFrame,
    settlements: pd.DataFrame,
    formula: FundingFormula,
    price: str = "close",
) -> pd.DataFrame:
    """The predicted rate of each settlement from the premium bars of its interval.

    ``premium``: one symbol's premium-index klines (``open_time``, ``interval_minutes``, the
    ``price`` column; a ``premium_index_klines`` read). ``settlements``: ``funding_time`` and
    ``interval_hours`` (a ``funding_events`` read). The window of a settlement at S is the bars
    opening in [S - interval, S); a window missing any bar gets NaN. Returns ``settlements``
    with ``average_premium``, ``premium_bars`` and ``predicted_rate`` added.
    """
    for col, frame, name in (
        ("open_time", premium, "premium"),
        ("interval_minutes", premium, "premium"),
        (price, premium, "premium"),
        ("funding_time", settlements, "settlements"),
        ("interval_hours", settlements, "settlements"),
    ):
        if col not in frame.columns:
            raise ValueError(f"{name}: missing column {col!r}")
    minutes = premium["interval_minutes"].unique()
    if len(minutes) > 1:
        raise ValueError(f"premium: one bar length at a time, got {sorted(minutes)} minutes")
    bars = premium.sort_values("open_time")
    t = pd.to_datetime(bars["open_time"], utc=True).dt.as_unit("ns").astype("int64").to_numpy()
    x = bars[price].to_numpy(np.float64)
    out = settlements.copy()
    s = pd.to_datetime(out["funding_time"], utc=True).dt.as_unit("ns").astype("int64").to_numpy()
    hours = out["interval_hours"].to_numpy(np.float64)
    lo = np.searchsorted(t, s - np.round(hours * HOUR_NS).astype(np.int64), side="left")
    hi = np.searchsorted(t, s, side="left")
    n = hi - lo
    # window sums from prefix sums: sum x, and sum (i - lo + 1) x = sum i x - (lo - 1) sum x
    idx = np.arange(x.size, dtype=np.float64)
    cx = np.concatenate([[0.0], np.cumsum(x)])
    cix = np.concatenate([[0.0], np.cumsum(idx * x)])
    total = cx[hi] - cx[lo]
    if formula.weighting == "linear":
        weighted = (cix[hi] - cix[lo]) - (lo - 1) * total
        avg = weighted / np.maximum(n * (n + 1) / 2.0, 1.0)
    else:
        avg = total / np.maximum(n, 1)
    expected = np.round(hours * 60.0 / float(minutes[0])) if len(minutes) else np.zeros_like(hours)
    avg = np.where((n > 0) & (n == expected), avg, np.nan)
    out["average_premium"] = avg
    out["premium_bars"] = n
    out["predicted_rate"] = funding_from_premium(avg, hours, formula)
    return out
