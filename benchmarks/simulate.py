"""Benchmark: vectorised position simulation vs a per-position Python loop.

Simulates every (opportunity x hold) of a synthetic market on the default 720 h grid (5-minute
klines; by default 45 days, 3 exchanges x 5 symbols, entries every 15 minutes, every candidate
kept, zero edges included: the first ~12 days have a whole 30-day path, ~380,000 executions),
with liquidation, the signal exit and the daily marks. Before timing anything it checks that the
vectorised simulator and the loop reference (``tests/simulate/sim_loop_reference.py``) give the
same labels and marks on a random sample; the loop's time per execution on that sample gives the
speed-up.

    .venv/bin/python benchmarks/simulate.py [--days 45] [--stride 15] [--sample 40]

The last line printed is JSON: {"executions", "seconds", "per_second", "speedup_vs_loop",
"per_cpu_second"} (per_second is wall time; on a shared machine per_cpu_second is the steadier
figure).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "simulate"))

from sim_loop_reference import LoopMarket, simulate_loop  # noqa: E402

from arbscore.data_tools.opportunities import OpportunityConfig, detect_opportunities  # noqa: E402
from arbscore.data_tools.simulate import SimulationConfig, simulate_executions  # noqa: E402
from arbscore.data_tools.snapshots import SnapshotConfig, build_snapshots  # noqa: E402
from arbscore.data_tools.sources.synthetic import (  # noqa: E402
    SyntheticMarketConfig,
    generate_synthetic_market,
)
from arbscore.schema import LABEL_COLUMNS, MARK_COLUMNS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=45.0)
    parser.add_argument("--stride", type=int, default=15, help="minutes between entries")
    parser.add_argument("--sample", type=int, default=40, help="opportunities for the loop")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    market = generate_synthetic_market(
        SyntheticMarketConfig(seed=args.seed, days=args.days, kline_minutes=5)
    )
    began = time.perf_counter()
    snaps = build_snapshots(market, SnapshotConfig(every_minutes=args.stride))
    opps = detect_opportunities(
        snaps,
        OpportunityConfig(
            entry_stride_minutes=args.stride,
            spot_perp_min_fund_profit_8h_pct=-1e9,  # keep every candidate: a big workload
            perp_perp_min_fund_profit_8h_pct=-1e9,
            min_edge=None,
        ),
    )
    prep = time.perf_counter() - began
    config = SimulationConfig()
    print(
        f"market: {market.source}, {len(market.klines):,} klines; {len(opps):,} opportunities "
        f"(snapshots + detection {prep:.1f} s)"
    )

    # 1. equal results on a sample, before any timing
    rng = np.random.default_rng(args.seed)
    # sample among entries whose whole 30-day path lies in the market (the others are skipped)
    end = market.klines["open_time"].max() - pd.Timedelta(hours=config.horizon_hours + 24)
    fits = np.flatnonzero((opps["timestamp"] <= end).to_numpy())
    sample = opps.iloc[np.sort(rng.choice(fits, size=min(args.sample, len(fits)), replace=False))]
    loop_market = LoopMarket(market)
    t0 = time.perf_counter()
    slow_marks: list = []
    slow = simulate_loop(
        loop_market,
        sample,
        config.costs,
        config.holds_hours,
        config.horizon_hours,
        margin=config.margin,
        signal=config.signal_exit,
        marks=slow_marks,
    )
    loop_seconds = time.perf_counter() - t0
    fast, fast_marks = simulate_executions(sample, market, config, marks=True)
    merged = fast.merge(slow, on=["opportunity_id", "hold_hours"], suffixes=("", "_loop"))
    if len(slow) == 0 or len(merged) != len(slow) or len(fast) != len(slow):
        raise SystemExit(f"sample rows differ: vectorised {len(fast)}, loop {len(slow)}")
    for name in LABEL_COLUMNS:
        if name == "actual_hold_hours":
            continue
        a = merged[name].to_numpy(np.float64)
        b = merged[f"{name}_loop"].to_numpy(np.float64)
        if not np.allclose(a, b, rtol=1e-9, atol=1e-9):
            raise SystemExit(f"label {name} differs between vectorised and loop simulators")
    slow_marks = pd.DataFrame(slow_marks, columns=list(MARK_COLUMNS))
    both = fast_marks.merge(slow_marks, on=["opportunity_id", "day"], suffixes=("", "_loop"))
    if len(both) != len(slow_marks) or len(fast_marks) != len(slow_marks):
        raise SystemExit(f"marks differ: vectorised {len(fast_marks)}, loop {len(slow_marks)}")
    for name in ("mark_pct", "funding_pct"):
        if not np.allclose(both[name], both[f"{name}_loop"], rtol=1e-9, atol=1e-9):
            raise SystemExit(f"mark {name} differs between vectorised and loop simulators")
    print(
        f"checked: {len(slow)} sampled executions equal to the loop reference "
        f"({loop_seconds:.2f} s in the loop)"
    )

    # 2. time the vectorised simulator on everything
    t0, cpu0 = time.perf_counter(), time.process_time()
    out = simulate_executions(opps, market, config)  # the marks are checked above, not timed
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    executions = len(out)
    if executions < 300_000:
        print(f"warning: only {executions:,} executions (< 300,000); use more --days")
    per_second = executions / seconds
    loop_per_second = len(slow) / loop_seconds
    print(
        f"vectorised: {executions:,} executions ({int(out['liquidated'].sum()):,} liquidated) "
        f"in {seconds:.2f} s; "
        f"loop: {loop_per_second:,.0f} executions/s"
    )
    print(
        f"CPU time of the vectorised run: {cpu:.2f} s (wall time above; a busy machine "
        "shows the difference)"
    )
    print(
        json.dumps(
            {
                "executions": executions,
                "seconds": round(seconds, 3),
                "per_second": round(per_second, 1),
                "speedup_vs_loop": round(per_second / loop_per_second, 1),
                "per_cpu_second": round(executions / cpu, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
