"""The median cost of a $10k round trip per symbol on the real data: fees, spread, impact.

For each symbol of the shared real data (Binance perp + spot where Binance lists the spot,
else Binance perp + Bybit perp) and each hourly snapshot in the window, the four fills of a
round trip of ``--size`` USD per leg cost, in percent of one leg's notional:

- fees: the taker VIP 0 rate of each fill (``costs.FeeSchedule``);
- spread: half the leg's candle-estimated spread per fill (``spread_estimate_pct``, the
  Abdi-Ranaldo estimator by default, ``--estimator corwin_schultz`` for the other);
- impact: the square-root law per fill (``CostConfig.impact_fraction``: Y x daily volatility x
  sqrt(size / 24 h volume)).

The table shows each part's median over the snapshots, the median total, and the median total
of the replaced model (spread 0.1 % x (volume / $1M) ^ -0.5, depth 0.1 % of the 24 h volume,
the guide's size/depth tiers growing past the last; written out here for the comparison).

    PYTHONPATH=src .venv/bin/python benchmarks/round_trip_costs.py \
        [--start 2025-04-03] [--end 2026-01-01] [--size 10000] [--estimator abdi_ranaldo]
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np
import pandas as pd

from arbscore.data_tools.costs import CostConfig
from arbscore.data_tools.liquidity import LiquidityModel
from arbscore.data_tools.snapshots import SnapshotConfig, build_snapshots
from arbscore.data_tools.sources.real import load_shared_market


def replaced_model_slippage(spread_volume: np.ndarray, size: float) -> np.ndarray:
    """The volume-depth model this table replaces: slippage fraction of one fill."""
    volume = np.maximum(np.nan_to_num(spread_volume), 0.0)
    with np.errstate(divide="ignore"):
        spread = np.clip(0.1 * np.power(np.maximum(volume, 1e-9) / 1e6, -0.5), 0.0005, 2.0)
    ratio = size / np.maximum(0.001 * volume, 1_000.0)
    tier = np.searchsorted([0.01, 0.05, 0.10], ratio, side="right")
    mult = np.asarray([1.0, 1.5, 2.5, 5.0])[tier]
    mult = np.where(ratio > 0.10, mult * ratio / 0.10, mult)
    return spread / 100.0 / 2.0 * mult


def symbol_table(snaps: pd.DataFrame, costs: CostConfig) -> pd.DataFrame:
    rows = []
    for symbol, part in snaps.groupby("symbol", sort=True):
        venues = set(zip(part["exchange"], part["market"], strict=True))
        if ("binance", "perp") not in venues:
            continue
        second = ("binance", "spot") if ("binance", "spot") in venues else ("bybit", "perp")
        if second not in venues:
            continue
        legs = []
        for exchange, market in (("binance", "perp"), second):
            leg = part[(part["exchange"] == exchange) & (part["market"] == market)]
            leg = leg.set_index("timestamp")
            fee = costs.fees.rate(exchange, market, "entry") + costs.fees.rate(
                exchange, market, "exit"
            )
            impact = costs.impact_fraction(
                leg["realised_vol_24h_pct"].to_numpy(), leg["volume_24h"].to_numpy()
            )
            old = replaced_model_slippage(leg["volume_24h"].to_numpy(), costs.position_size_usd)
            legs.append(
                pd.DataFrame(
                    {
                        "fees": fee * 100.0,
                        "spread": leg["spread_estimate_pct"].to_numpy(),  # 2 fills x half
                        "impact": 2 * impact * 100.0,
                        "replaced": (fee + 2 * old) * 100.0,
                    },
                    index=leg.index,
                )
            )
        both = legs[0].add(legs[1]).dropna()
        both["total"] = both["fees"] + both["spread"] + both["impact"]
        pair = "binance spot+perp" if second[1] == "spot" else "binance+bybit perp"
        med = both.median()
        rows.append(
            {
                "symbol": symbol,
                "legs": pair,
                "hours": len(both),
                "fees_pct": med["fees"],
                "spread_pct": med["spread"],
                "impact_pct": med["impact"],
                "total_pct": med["total"],
                "replaced_model_pct": med["replaced"],
            }
        )
    return pd.DataFrame(rows)


def markdown(frame: pd.DataFrame) -> str:
    """A Markdown table, floats to 3 decimals (no tabulate dependency)."""
    cells = [
        [f"{v:.3f}" if isinstance(v, float) else str(v) for v in row]
        for row in frame.itertuples(index=False)
    ]
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    return "\n".join(lines + ["| " + " | ".join(c) + " |" for c in cells])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", default="2025-04-03")
    parser.add_argument("--end", default="2026-01-01")
    parser.add_argument("--size", type=float, default=10_000.0)
    parser.add_argument("--estimator", default="abdi_ranaldo")
    parser.add_argument("--symbols", nargs="*", default=None)
    args = parser.parse_args()
    liquidity = LiquidityModel(spread_estimator=args.estimator)
    costs = CostConfig(position_size_usd=args.size, liquidity=liquidity)
    warm = pd.Timestamp(args.start, tz="UTC") - pd.Timedelta(days=8)
    market = load_shared_market(
        exchanges=("binance", "bybit"), symbols=args.symbols, start=warm, end=args.end
    )
    config = SnapshotConfig(every_minutes=60, start=args.start, end=args.end, liquidity=liquidity)
    snaps = build_snapshots(market, config)
    out = symbol_table(snaps, dataclasses.replace(costs))
    out = out.sort_values("total_pct").reset_index(drop=True)
    print(
        f"median round trip of ${args.size:,.0f} per leg, % of one leg's notional, "
        f"{args.start} .. {args.end}, spread estimator {args.estimator}, taker VIP 0"
    )
    print(markdown(out))


if __name__ == "__main__":
    main()
