"""How close the published funding formula (``collect/premium.py``) comes to Binance's settled
rates on the real data, with a PROXY premium index.

The shared data holds no premium-index klines, so the premium of each 1 h bar is taken as
perp / spot - 1 of Binance's own perp and spot 1 h klines (mid of open and close; the real index
uses impact bid/ask against a multi-venue spot index, sampled every minute). Prints one JSON
line: per symbol, settlements compared, mean / median absolute error in basis points, the share
within 0.5 bp, the same error for "the rate is always the interest rate", and the correlation.

    PYTHONPATH=src python benchmarks/premium_formula.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd

from arbscore.data_tools.collect.premium import FORMULAS, predicted_rates

SYMBOLS = ("BTC", "ETH", "SOL", "XRP", "DOGE", "BNB")
#: Binance charges no interest on BNB pairs (same FAQ as the formula)
ZERO_INTEREST = ("BNB",)
DIR = "02_harthor_marketlab_binance"


def compare(root: Path, coin: str) -> dict:
    """Formula on the proxy premium vs the settled rates of one Binance USDT perp."""
    base = root / DIR
    perp = pd.read_feather(base / f"futures/{coin}_USDT_USDT-1h-futures.feather")
    spot = pd.read_feather(base / f"spot/{coin}_USDT-1h.feather")
    bars = perp.merge(spot, on="date", suffixes=("_p", "_s"))
    premium = pd.DataFrame(
        {
            "open_time": pd.to_datetime(bars["date"], utc=True),
            "interval_minutes": 60,
            "mid": (bars["open_p"] + bars["close_p"]) / (bars["open_s"] + bars["close_s"]) - 1,
        }
    )
    raw = pd.read_feather(base / f"futures/{coin}_USDT_USDT-1h-funding_rate.feather")
    times = pd.to_datetime(raw["date"], utc=True).dt.round("min")
    settled = pd.DataFrame({"funding_time": times, "rate": raw["open"].astype(float)})
    settled["interval_hours"] = times.diff().dt.total_seconds().div(3600).fillna(8.0)
    formula = FORMULAS["binance"]
    if coin in ZERO_INTEREST:
        formula = dataclasses.replace(formula, interest_per_day=0.0)
    out = predicted_rates(premium, settled, formula, price="mid").dropna(subset=["predicted_rate"])
    err = (out["predicted_rate"] - out["rate"]).abs() * 1e4
    interest = formula.interest_per_day * out["interval_hours"] / 24.0
    return {
        "settlements": len(out),
        "mae_bp": round(float(err.mean()), 3),
        "median_bp": round(float(err.median()), 3),
        "within_0_5bp": round(float((err < 0.5).mean()), 3),
        "interest_only_mae_bp": round(float(((interest - out["rate"]).abs() * 1e4).mean()), 3),
        "corr": round(float(np.corrcoef(out["predicted_rate"], out["rate"])[0, 1]), 3),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = parser.parse_args(argv)
    result = {coin: compare(args.data, coin) for coin in SYMBOLS}
    print(json.dumps({"premium": "proxy perp/spot 1h", "binance": result}))
    return result


if __name__ == "__main__":
    main()
