"""Independent check of the `always_on` baseline: BTC+ETH cash-and-carry on Binance, held
all the time, at taker fees. It does not import arbscore: it reads the raw freqtrade files
under ../shared/data (or $ARBSCORE_SHARED_DATA) with pandas only, so a bug in the project's
simulator or book cannot hide in both figures.

Per symbol (one sleeve): at the window's first hour buy Q coins spot at the 1 h open and short
Q coins of the USDT-M perp at its 1 h open; receive Q x perp price x rate at every settled
funding (Binance's own timestamps, whatever the interval); at the window's end sell the spot
and buy the perp back at the last hour's close. Fees: spot taker 0.10 % and perp taker 0.05 %
of each fill's notional (4 fills). No slippage (stated, not estimated). Capital of a sleeve =
spot notional + perp margin = Q x S0 + Q x F0 / leverage (2x). The sleeves share the book
equally; the return is on the sum of their capital, annualised by 365 / days.

Usage: python scripts/check_always_on.py [--start 2025-04-03] [--end 2026-01-01]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pandas as pd

SPOT_TAKER_FRACTION = 0.0010
PERP_TAKER_FRACTION = 0.0005
LEVERAGE = 2.0


def _data_root() -> Path:
    env = os.environ.get("ARBSCORE_SHARED_DATA")
    root = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"
    return root / "02_harthor_marketlab_binance"


def sleeve(symbol: str, start: pd.Timestamp, end: pd.Timestamp, notional_usd: float) -> dict:
    root = _data_root()
    spot = pd.read_feather(root / "spot" / f"{symbol}_USDT-1h.feather").set_index("date")
    perp = pd.read_feather(root / "futures" / f"{symbol}_USDT_USDT-1h-futures.feather")
    perp = perp.set_index("date")
    fund = pd.read_feather(root / "futures" / f"{symbol}_USDT_USDT-1h-funding_rate.feather")
    spot = spot[(spot.index >= start) & (spot.index < end)]
    perp = perp[(perp.index >= start) & (perp.index < end)]
    s0, f0 = float(spot["open"].iloc[0]), float(perp["open"].iloc[0])
    s1, f1 = float(spot["close"].iloc[-1]), float(perp["close"].iloc[-1])
    qty = notional_usd / s0
    # funding settled while open: after the entry hour's open, up to the exit (last close)
    settle = fund[(fund["date"] > start) & (fund["date"] < end)]
    price_at = perp["open"].reindex(settle["date"]).ffill().bfill().to_numpy()
    funding = float((qty * price_at * settle["open"].to_numpy()).sum())
    fees = qty * (s0 + s1) * SPOT_TAKER_FRACTION + qty * (f0 + f1) * PERP_TAKER_FRACTION
    price_pnl = qty * (s1 - s0) + qty * (f0 - f1)
    capital = qty * s0 + qty * f0 / LEVERAGE
    return {
        "symbol": symbol,
        "settlements": len(settle),
        "funding_usd": funding,
        "fees_usd": fees,
        "price_pnl_usd": price_pnl,
        "pnl_usd": funding - fees + price_pnl,
        "capital_usd": capital,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--start", default="2025-04-03")
    ap.add_argument("--end", default="2026-01-01")
    ap.add_argument("--symbols", default="BTC,ETH")
    ap.add_argument("--notional-usd", type=float, default=10_000.0)
    args = ap.parse_args()
    start, end = pd.Timestamp(args.start, tz="UTC"), pd.Timestamp(args.end, tz="UTC")
    days = (end - start).total_seconds() / 86400
    rows = [sleeve(s, start, end, args.notional_usd) for s in args.symbols.split(",")]
    table = pd.DataFrame(rows).set_index("symbol")
    pd.set_option("display.float_format", lambda v: f"{v:,.2f}")
    print(table)
    pnl, capital = table["pnl_usd"].sum(), table["capital_usd"].sum()
    print(f"window {start:%Y-%m-%d} .. {end:%Y-%m-%d} ({days:.0f} days)")
    ret_pct = 100 * pnl / capital
    funding_pct = 100 * table["funding_usd"].sum() / capital
    print(f"return on capital {ret_pct:+.2f} % = {ret_pct * 365 / days:+.2f} %/yr")
    print(f"funding alone {funding_pct * 365 / days:+.2f} %/yr on capital")


if __name__ == "__main__":
    main()
