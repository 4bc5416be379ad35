"""Measure what operations cost (not a test): /predict latency with and without the ops sink,
dashboard build time, paper A/B time. Run from the repo root:

    nice .venv/bin/python tests/ops/bench_ops.py [--requests 400]

Prints one JSON line. Servers are real ``arbscore serve`` processes on free ports; the live rows
come from the replay exchange through the real collector (36 h, hourly, 2 exchanges x 2 symbols).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

from ops_helpers import collect_live, free_port, start_server, stop  # noqa: E402

from arbscore.data_tools.store import LIVE_SNAPSHOTS, open_store  # noqa: E402
from arbscore.ops.live_opps import live_opportunities, records  # noqa: E402
from tests.support.replay_exchange import ReplayExchange, World  # noqa: E402


def _bundle(tmp: Path) -> Path:
    from arbscore.export.bundle import export_families
    from arbscore.export.demo import fit_demo_families
    from arbscore.export.reference import reference_from_matrix, served_outputs

    fams, spec, X = fit_demo_families(("xgboost",), n_opportunities=300, seed=3)
    winners = {h: ("xgboost", fams["xgboost"]) for h in ("profit", "success", "duration")}
    ref = reference_from_matrix(
        X, spec.feature_names, served_outputs(winners, X, spec.feature_names)
    )
    export_families(winners, spec, tmp / "bundle", reference=ref)
    return tmp / "bundle"


def _latency(url: str, recs: list[dict], n: int) -> dict:
    times = []
    with httpx.Client(timeout=10) as client:
        for i in range(n):
            t0 = time.perf_counter()
            assert client.post(url + "/predict", json=recs[i % len(recs)]).status_code == 200
            times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    return {"median_ms": statistics.median(times), "p99_ms": times[int(0.99 * (n - 1))]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    bundle = _bundle(tmp)
    db = tmp / "ops.duckdb"
    with ReplayExchange(World()) as replay, open_store(db) as store:
        collect_live(replay, store, 36)
        live = store.read(LIVE_SNAPSHOTS)
    recs = records(live_opportunities(live))
    out: dict = {"requests": args.requests, "live_rows": len(live), "candidates": len(recs)}
    for name, extra in (("plain", []), ("ops", ["--ops-db", str(db), "--ops-interval", "3600"])):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = start_server(
            ["--bundle", str(bundle), "--port", str(port), *extra], tmp / f"{name}.log", url
        )
        try:
            _latency(url, recs, 50)  # warm-up
            out[f"predict_{name}"] = _latency(url, recs, args.requests)
            if name == "ops":
                t0 = time.perf_counter()
                assert httpx.get(url + "/dashboard", timeout=120).status_code == 200
                out["dashboard_first_s"] = time.perf_counter() - t0
                t0 = time.perf_counter()
                httpx.get(url + "/dashboard", timeout=120)
                out["dashboard_cached_s"] = time.perf_counter() - t0
        finally:
            stop(proc)
    from arbscore.ops.paper import PaperConfig, paper_trade
    from arbscore.serve.scorer import Scorer

    t0 = time.perf_counter()
    paper_trade(live, Scorer(bundle), PaperConfig(max_hold_hours=12))
    out["paper_s"] = time.perf_counter() - t0
    print(json.dumps(out))


if __name__ == "__main__":
    main()
