"""Benchmark: the partitioned build (snapshots -> opportunities -> simulation -> features) at
1x, 4x and 16x the default synthetic universe, in one process and on a LocalCluster(2).

The default universe is ``SyntheticMarketConfig()``'s 5 symbols x 3 venues x 30 days; scale
``s`` multiplies symbols by ``sqrt(s)`` and days by ``sqrt(s)`` (4x: 10 symbols x 60 days,
16x: 20 symbols x 120 days; the synthetic source has three venues, so venues stay at 3). The
hold grid stops at 168 h (a 30-day market has no whole 720 h path). Each partition (one
symbol) is simulated and its model-input matrix built (``build_matrix``, the default spec);
both are written, so nothing but one partition is in memory at a time.

Each scale runs in a fresh child process (its peak RSS is its own): the single-process build
(``mapper=map``), then the same on a fresh ``LocalCluster(2 workers, 1 thread each)``. Before
any figure is printed the two outputs are compared row for row (training set, marks, feature
matrices); a difference aborts. ``peak_rss_mb`` is the child's peak resident memory
(``VmHWM``: market + one partition); ``cluster_peak_rss_mb`` the largest worker's (the
driver's is ``peak_rss_mb``: it holds the market for both builds).

    PYTHONPATH=src .venv/bin/python benchmarks/scale.py [--scales 1,4,16] [--stride 60]

The last line printed is JSON: {"sizes": [{"scale", "rows", "seconds", "rows_per_s",
"peak_rss_mb", "cluster_seconds", "cluster_peak_rss_mb", "cluster_speedup"}, ...],
"rows_per_s_ratio_16x_vs_1x", "cpus"}. Timings are wall time; on a shared machine say so.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_SYMBOLS = 5
BASE_DAYS = 30.0
HOLDS = (1, 4, 8, 12, 24, 48, 72, 120, 168)


def _universe(scale: int, seed: int):
    from arbscore.data_tools.sources.synthetic import SyntheticMarketConfig

    k = math.sqrt(scale)
    n_sym = int(round(BASE_SYMBOLS * k))
    named = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "WIFUSDT")
    symbols = named + tuple(f"S{i:03d}USDT" for i in range(n_sym - len(named)))
    return SyntheticMarketConfig(seed=seed, days=BASE_DAYS * k, symbols=symbols[:n_sym])


def _config(stride: int):
    from arbscore.data_tools.opportunities import OpportunityConfig
    from arbscore.data_tools.simulate import SimulationConfig
    from arbscore.data_tools.training_set import TrainingSetConfig

    return TrainingSetConfig(
        opportunities=OpportunityConfig(entry_stride_minutes=stride),
        simulation=SimulationConfig(holds_hours=HOLDS, horizon_hours=max(HOLDS)),
    )


def simulate_and_features(task):
    """One partition: its rows and marks (``run_partition_task``), then its feature matrix."""
    import numpy as np
    import pandas as pd

    from arbscore.data_tools.dataset_files import feature_columns
    from arbscore.data_tools.features import build_matrix
    from arbscore.data_tools.partitioned import run_partition_task

    result = run_partition_task(task)
    frame = pd.read_parquet(Path(task.out_dir) / f"part-{task.key}.parquet")
    X = build_matrix(feature_columns(frame), strict=True)
    np.save(Path(task.out_dir) / f"features-{task.key}.npy", X)
    return result


def _peak_mb() -> float:
    """This process's peak resident memory: Linux's ``VmHWM`` (reset by exec, so a spawned
    worker does not inherit the peak of the process it was forked from, as ``ru_maxrss``
    does), else ``ru_maxrss``."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def child(scale: int, stride: int, seed: int) -> dict:
    """Both builds of one scale, compared, in this (fresh) process."""
    import numpy as np
    import pandas as pd

    from arbscore.data_tools.partitioned import build_partitioned, read_partitioned
    from arbscore.data_tools.sources.synthetic import generate_synthetic_market
    from arbscore.scale.cluster import Cluster, ClusterSpec

    market = generate_synthetic_market(_universe(scale, seed))
    config = _config(stride)
    with tempfile.TemporaryDirectory(prefix="arbscore-scale-") as tmp:
        one, two = Path(tmp) / "single", Path(tmp) / "cluster"

        def mapper(fn, items):  # the benchmark's task: the partition plus its features
            return map(simulate_and_features, items)

        t0 = time.perf_counter()
        results = build_partitioned(market, config, one, mapper=mapper)
        seconds = time.perf_counter() - t0
        peak = _peak_mb()
        with Cluster(ClusterSpec(workers=2), timeout_s=120) as cluster:
            t0 = time.perf_counter()
            build_partitioned(
                market,
                config,
                two,
                mapper=lambda fn, items: cluster.map(simulate_and_features, items),
            )
            cluster_seconds = time.perf_counter() - t0
            worker_peaks = cluster.client.run(_peak_mb)
        # the outputs must agree before any figure is reported
        a, am = read_partitioned(one)
        b, bm = read_partitioned(two)
        pd.testing.assert_frame_equal(a, b, check_exact=True)
        pd.testing.assert_frame_equal(am, bm, check_exact=True)
        for r in results:
            x1 = np.load(one / f"features-{r.key}.npy")
            x2 = np.load(two / f"features-{r.key}.npy")
            assert np.array_equal(x1, x2), r.key
    rows = sum(r.rows for r in results)
    return {
        "scale": scale,
        "symbols": len(_universe(scale, seed).symbols),
        "days": _universe(scale, seed).days,
        "kline_rows": int(len(market.klines)),
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds, 1),
        "peak_rss_mb": round(peak, 1),
        "cluster_seconds": round(cluster_seconds, 2),
        "cluster_peak_rss_mb": round(max(worker_peaks.values()), 1),
        "cluster_speedup": round(seconds / cluster_seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,4,16")
    parser.add_argument("--stride", type=int, default=60, help="minutes between entries")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.stride, args.seed)))
        return
    sizes = []
    for scale in (int(s) for s in args.scales.split(",")):
        cmd = [sys.executable, __file__, "--child", str(scale), "--stride", str(args.stride)]
        cmd += ["--seed", str(args.seed)]
        out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
        if out.returncode != 0:
            sys.exit(f"scale {scale} failed:\n{out.stderr[-3000:]}")
        size = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{scale:>3}x  {size['symbols']} symbols x {size['days']:.0f} d: "
            f"{size['rows']:,} rows  "
            f"single {size['seconds']} s ({size['rows_per_s']:,.0f} rows/s, peak "
            f"{size['peak_rss_mb']:.0f} MB)  LocalCluster(2) {size['cluster_seconds']} s "
            f"(x{size['cluster_speedup']}, worker peak {size['cluster_peak_rss_mb']:.0f} MB)",
            flush=True,
        )
        sizes.append(size)
    summary: dict = {"sizes": sizes, "cpus": os.cpu_count()}
    by = {s["scale"]: s for s in sizes}
    if 1 in by and 16 in by:
        summary["rows_per_s_ratio_16x_vs_1x"] = round(by[16]["rows_per_s"] / by[1]["rows_per_s"], 3)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
