"""Which opportunities may make the headline verdict: those whose legs all have their own prices.

A leg valued on another venue's price series is an estimate (SPEC, "Prices"): its basis, its
marks and its liquidations are the other venue's, not its own. Such opportunities may train the
heads (flagged) but never make the verdict: ``split_universe`` leaves them out of the headline
backtest and says how many and why (metrics.json ``backtest.universe``).

``price_estimated`` is the one place that decides it: the simulator's ``price_estimated`` column
when the set has it (#24); for older sets the same rule derived here: on real data, a leg on a
venue in ``ESTIMATED_PRICE_VENUES`` is priced by a stand-in (``data_tools/sources/real.py``
values Hyperliquid with Binance's, else Bybit's, perp: its ``price_source`` says "estimate").
Synthetic data generates every venue's own series, so nothing there is an estimate. A team's
own set that holds real Hyperliquid prices says so with a ``price_estimated`` column (False).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: venues whose prices the embedded real data does not hold (real.py's stand-ins)
ESTIMATED_PRICE_VENUES: tuple[str, ...] = ("hyperliquid",)
REASON = "a leg is priced by another venue's series (estimate)"


def price_estimated(rows: pd.DataFrame) -> np.ndarray:
    """Per row, whether any leg's price is an estimate (see the module docstring)."""
    n = len(rows)
    if "price_estimated" in rows.columns:
        v = pd.to_numeric(rows["price_estimated"], errors="coerce").to_numpy(float)
        if np.isfinite(v).all():
            return v != 0.0
    real = np.ones(n, dtype=bool)
    if "data_source" in rows.columns:
        real = ~rows["data_source"].astype(str).str.startswith("synthetic").to_numpy()
    legs = np.zeros(n, dtype=bool)
    for col in ("long_exchange", "short_exchange"):
        if col in rows.columns:
            legs |= rows[col].astype(str).str.lower().isin(ESTIMATED_PRICE_VENUES).to_numpy()
    return real & legs


def split_universe(rows: pd.DataFrame) -> tuple[set, dict]:
    """(opportunity ids left out of the headline, ``backtest.universe``): counts of
    opportunities kept and left out, the reason, and the left-out pairs (symbol, kind, venues,
    opportunities), most frequent first."""
    est = price_estimated(rows)
    first = rows.assign(_est=est).drop_duplicates("opportunity_id")
    out = first[first["_est"].to_numpy(bool)]
    keys = [c for c in ("symbol", "strategy", "long_exchange", "short_exchange") if c in out]
    pairs = (
        out.groupby(keys, sort=True).size().rename("opportunities").reset_index()
        if len(out) and keys
        else pd.DataFrame(columns=[*keys, "opportunities"])
    )
    pairs = pairs.sort_values("opportunities", ascending=False, kind="mergesort")
    summary = {
        "opportunities": int(len(first)),
        "headline_opportunities": int(len(first) - len(out)),
        "left_out": {REASON: int(len(out))} if len(out) else {},
        "source": "price_estimated column"
        if "price_estimated" in rows.columns
        else f"derived: real-data legs on {list(ESTIMATED_PRICE_VENUES)}",
        "estimated_pairs": [
            {k: (int(v) if k == "opportunities" else str(v)) for k, v in r.items()}
            for r in pairs.to_dict("records")
        ],
    }
    return set(out["opportunity_id"]), summary
