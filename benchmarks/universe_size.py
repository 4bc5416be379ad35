"""How big the embedded universe's training set is, per entry stride, and what building it costs.

    nice .venv/bin/python benchmarks/universe_size.py                     # counts, real data
    nice .venv/bin/python benchmarks/universe_size.py --source synthetic  # the synthetic mirror
    nice .venv/bin/python benchmarks/universe_size.py --time 240 --grid 720   # one timed build

Counts: snapshots + opportunities once at a 60-minute stride, then for each stride the
opportunities on that stride whose whole ``--horizon`` path fits in the data (what
``full_horizon_only`` keeps), per strategy and venue pair; rows = those x the grid's holds.
``--time STRIDE`` instead builds the training set (``build_training_set``, the simulator of
this checkout) at that stride and prints its wall time and peak RSS (run it alone: the peak is
the process's). ``--symbols/--exchanges/--start`` change the universe, ``--params FILE`` makes
the synthetic market with another calibration's parameters (before/after comparisons).
One JSON line per run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

from arbscore.data_tools.opportunities import OpportunityConfig, detect_opportunities
from arbscore.data_tools.simulate import SimulationConfig
from arbscore.data_tools.snapshots import SnapshotConfig, build_snapshots
from arbscore.data_tools.sources import (
    EmbeddedDataConfig,
    SyntheticParams,
    generate_synthetic_market,
    load_embedded_market,
)
from arbscore.data_tools.training_set import TrainingSetConfig, build_training_set

GRIDS = {
    "168": (1, 4, 8, 12, 24, 48, 72, 120, 168),
    "720": (1, 4, 8, 12, 24, 48, 72, 120, 168, 336, 504, 720),
}


def _counts(market, strides: list[int], horizon_h: int, holds: int) -> dict:
    snaps = build_snapshots(market, SnapshotConfig(every_minutes=60))
    opps = detect_opportunities(snaps, OpportunityConfig(entry_stride_minutes=60))
    k = market.klines
    ms = k["open_time"].astype("datetime64[ms, UTC]").astype("int64")
    last = ms.groupby([k["exchange"], k["market"], k["symbol"]]).max()
    end_long = last.reindex(
        pd.MultiIndex.from_arrays([opps["long_exchange"], opps["long_market"], opps["symbol"]])
    ).to_numpy()
    end_short = last.reindex(
        pd.MultiIndex.from_arrays([opps["short_exchange"], opps["short_market"], opps["symbol"]])
    ).to_numpy()
    end = np.minimum(end_long, end_short)
    ts = opps["timestamp"].astype("datetime64[ms, UTC]").astype("int64").to_numpy()
    fits = ts + horizon_h * 3_600_000 <= end
    minutes = ts // 60_000
    venues = np.where(
        opps["strategy"] == "spot_perp",
        opps["long_exchange"],
        [
            "/".join(sorted(p))
            for p in zip(opps["long_exchange"], opps["short_exchange"], strict=True)
        ],
    )
    out = {}
    for stride in strides:
        on = (minutes % stride == 0) & fits
        by = pd.Series(venues[on]).value_counts().sort_index()
        strat = opps.loc[on, "strategy"].value_counts().sort_index()
        out[str(stride)] = {
            "opportunities": int(on.sum()),
            "rows": int(on.sum()) * holds,
            "by_strategy": {str(a): int(b) for a, b in strat.items()},
            "by_venues": {str(a): int(b) for a, b in by.items()},
        }
    all_syms = set(opps["symbol"])
    per_venue = {}
    for ex in sorted(set(opps["long_exchange"]) | set(opps["short_exchange"])):
        syms = set(
            opps.loc[(opps["long_exchange"] == ex) | (opps["short_exchange"] == ex), "symbol"]
        )
        per_venue[ex] = {"symbols": len(syms), "share": round(len(syms) / len(all_syms), 3)}
    return {
        "snapshot_rows": len(snaps),
        "opportunities_stride_60_any_horizon": len(opps),
        "symbols": sorted(all_syms),
        "symbols_per_venue": per_venue,
        "per_stride": out,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", default="real", choices=("real", "synthetic"))
    ap.add_argument("--strides", default="60,120,240,360,480")
    ap.add_argument("--grid", default="720", choices=sorted(GRIDS))
    ap.add_argument("--time", type=int, default=None, help="time one build at this stride")
    ap.add_argument("--symbols", default=None, help="comma list (default: the embedded default)")
    ap.add_argument("--exchanges", default=None, help="comma list (default: the embedded default)")
    ap.add_argument("--start", default=None, help="window start (default: the embedded default)")
    ap.add_argument(
        "--params", default=None, help="synthetic only: a calibration.json whose params to use"
    )
    args = ap.parse_args()
    holds = GRIDS[args.grid]
    t0 = time.perf_counter()
    overrides = {}
    if args.symbols:
        overrides["symbols"] = tuple(args.symbols.split(","))
    if args.exchanges:
        overrides["exchanges"] = tuple(args.exchanges.split(","))
    if args.start:
        overrides["start"] = args.start
    embedded = EmbeddedDataConfig(source=args.source, **overrides)
    if args.params:
        params = SyntheticParams.from_dict(json.loads(Path(args.params).read_text())["params"])
        cfg = dataclasses.replace(embedded.synthetic_config(), params=params)
        market = generate_synthetic_market(cfg)
    else:
        market = load_embedded_market(embedded)
    load_s = time.perf_counter() - t0
    result: dict = {"source": market.source, "grid": args.grid, "load_s": round(load_s, 1)}
    if args.time is None:
        strides = [int(s) for s in args.strides.split(",")]
        result.update(_counts(market, strides, max(holds), len(holds)))
    else:
        cfg = TrainingSetConfig(
            opportunities=OpportunityConfig(entry_stride_minutes=args.time),
            simulation=SimulationConfig(holds_hours=holds, horizon_hours=max(holds)),
        )
        t1 = time.perf_counter()
        frame = build_training_set(market, cfg)
        result.update(
            {
                "stride": args.time,
                "rows": len(frame),
                "opportunities": int(frame["opportunity_id"].nunique()),
                "build_s": round(time.perf_counter() - t1, 1),
                "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "profitable_share_by_strategy": {
                    str(k): round(float(v), 5)
                    for k, v in frame.groupby("strategy")["was_profitable"].mean().items()
                },
            }
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
