"""The label table of the issue (#11): profitable share and median return on capital of the
simulated executions per strategy x hold x fee mode, on the embedded (real) market.

Snapshots and opportunities are built once (the fee mode changes only the cost features, not
which rows are detected); the simulation runs once per fee mode:

- ``taker``: VIP 0 taker on all four fills;
- ``maker_in``: maker on the two entry fills, taker on the two exits;
- ``bnb``: taker with Binance fees paid in BNB (perps 10 % off, spot 0.075 %).

Also prints the signal exit's row per strategy (its hold varies per opportunity) and the run's
wall time and peak memory.

    PYTHONPATH=src .venv/bin/python benchmarks/label_table.py [--stride 60] [--out table.md]
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import time
from pathlib import Path

import pandas as pd

from arbscore.data_tools.costs import CostConfig, FeeSchedule
from arbscore.data_tools.opportunities import OpportunityConfig, detect_opportunities
from arbscore.data_tools.simulate import SimulationConfig, simulate_executions
from arbscore.data_tools.snapshots import SnapshotConfig, build_snapshots
from arbscore.data_tools.sources.embedded import EmbeddedDataConfig, load_embedded_market

MODES: dict[str, FeeSchedule] = {
    "taker": FeeSchedule(),
    "maker_in": FeeSchedule(entry_order="maker"),
    "bnb": FeeSchedule(bnb_discount=True),
}


def table(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """strategy x hold rows, (mode, statistic) columns."""
    parts = []
    for mode, frame in frames.items():
        g = frame.groupby(["strategy", "hold_hours"])
        stats = pd.DataFrame(
            {
                "rows": g.size(),
                "profitable_pct": g["was_profitable"].mean() * 100.0,
                "median_roc_pct": g["return_on_capital_pct"].median(),
                "liquidated_pct": g["liquidated"].mean() * 100.0,
            }
        )
        first = frame.drop_duplicates("opportunity_id")
        sig = first.groupby("strategy")
        signal = pd.DataFrame(
            {
                "rows": sig.size(),
                "profitable_pct": (sig["signal_exit_profit_pct"].apply(lambda s: (s > 0).mean()))
                * 100.0,
                "median_roc_pct": sig["signal_exit_return_on_capital_pct"].median(),
                "liquidated_pct": float("nan"),
            }
        )
        signal.index = pd.MultiIndex.from_tuples(
            [(s, "signal") for s in signal.index], names=["strategy", "hold_hours"]
        )
        stats.index = stats.index.set_levels(stats.index.levels[1].astype(str), level=1)
        both = pd.concat([stats, signal])
        both.columns = pd.MultiIndex.from_product([[mode], both.columns])
        parts.append(both)
    out = pd.concat(parts, axis=1)
    order = {
        h: i
        for i, h in enumerate(
            [
                *map(str, sorted({int(h) for f in frames.values() for h in f["hold_hours"]})),
                "signal",
            ]
        )
    }
    return out.sort_index(key=lambda idx: idx.map(order) if idx.name == "hold_hours" else idx)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stride", type=int, default=60, help="minutes between entries")
    parser.add_argument("--out", type=Path, default=None, help="also write the table (text)")
    args = parser.parse_args()
    began = time.perf_counter()
    market = load_embedded_market(EmbeddedDataConfig())
    snaps = build_snapshots(market, SnapshotConfig(every_minutes=60))
    opps = detect_opportunities(snaps, OpportunityConfig(entry_stride_minutes=args.stride))
    print(f"market: {market.source}; {len(opps):,} opportunities (stride {args.stride} min)")
    frames = {}
    for mode, fees in MODES.items():
        t0 = time.perf_counter()
        sim = SimulationConfig(costs=dataclasses.replace(CostConfig(), fees=fees))
        frames[mode] = simulate_executions(opps, market, sim)
        print(
            f"{mode}: {len(frames[mode]):,} executions, "
            f"{frames[mode]['opportunity_id'].nunique():,} opportunities with a 30-day path "
            f"({time.perf_counter() - t0:.1f} s)"
        )
    result = table(frames)
    with pd.option_context("display.width", 250, "display.max_columns", 40):
        print(result.round(3).to_string())
    wall = time.perf_counter() - began
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"wall time {wall:.1f} s, peak memory {peak_mib:,.0f} MiB")
    if args.out:
        args.out.write_text(result.round(3).to_string() + "\n")


if __name__ == "__main__":
    main()
