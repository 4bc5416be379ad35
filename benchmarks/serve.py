"""Serving latency: in-process single-row scoring, a 1000-row batch, and HTTP on 127.0.0.1.

    .venv/bin/python benchmarks/serve.py [--bundle DIR] [--family xgboost|lightgbm|mlx]

Without --bundle it fits one family on the synthetic demo rows (``arbscore.export.demo``) and
exports it. Before timing anything it checks that the bundle's outputs equal the native model's
(within 1e-4) and that the HTTP server returns the in-process numbers. The last line printed is
JSON: {"inproc_p50_us", "inproc_p99_us", "batch1000_ms", "http_rps", "http_p50_ms", ...,
"c32_p50_ms", "c32_p99_ms", "batch_load_health_p50_ms", "batch_load_health_p99_ms", ...,
"per_head": {head: {"trees", "p50_us", "p99_us"}}}; ``--no-http`` skips the servers.

What is timed:
- inproc: ``Scorer.predict_matrix`` on one prebuilt feature row (all three heads: duration, then
  profit and success at the predicted hold, plus composite); ``inproc_record_p50_us`` adds
  feature building from a JSON-like dict (``predict_records``);
- batch1000: ``predict_matrix`` on 1000 rows (median of 20);
- HTTP: ``arbscore serve`` in a subprocess; ``http_p50_ms`` from one stdlib keep-alive client
  sending sequential POST /predict requests (the guide's body), ``http_rps`` with ``--clients``
  concurrent clients for a fixed number of requests (bounded load);
- concurrency (``serve_load.py``, a second server with ``--serve-workers``): 32 connections
  of single /predict (``c32_*``), then 4 clients sending 1000-row batches while /health is
  probed every 20 ms (``batch_load_*``). ``--only-concurrency`` runs just this part.

Targets on 2 cores: ``c32_p99_ms`` < 20 and ``batch_load_health_p99_ms`` < 50. Loopback only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "serve"))


def build_bundle(family: str, out: Path) -> tuple[Path, object, np.ndarray]:
    from arbscore.export.bundle import export_families
    from arbscore.export.demo import training_matrix
    from arbscore.registry import get_family

    X, targets, spec = training_matrix(2000, seed=11)
    if family == "mlx":
        from arbscore.mlx_models.config import MLXConfig

        model = get_family("mlx")(config=MLXConfig(max_epochs=5, purge_hours=2.0))
    else:
        from arbscore.gbdt.config import GBDTConfig

        cfg = GBDTConfig(
            n_estimators=300,
            max_depth=6,
            num_leaves=63,
            min_samples_leaf=20,
            early_stopping_rounds=300,
            n_jobs=2,
            purge_hours=2.0,
        )
        model = get_family(family)(config=cfg)
    model.fit(X, targets, list(spec.feature_names))
    export_families({h: (family, model) for h in ("profit", "success", "duration")}, spec, out)
    return out, model, X


def check_native(scorer, model, X: np.ndarray) -> float:
    """Max abs difference between the bundle and the native model, served the same way."""
    from arbscore.schema import clip_hold_hours

    rows = X[::7][:500]
    pred = scorer.predict_matrix(rows)
    duration = np.asarray(model.predict(rows).duration, np.float64)
    X2 = rows.copy()
    X2[:, -1] = clip_hold_hours(duration, grid=True)
    native = model.predict(X2)
    err = max(
        float(np.max(np.abs(pred.hold_hours - duration))),
        float(np.max(np.abs(pred.profit_pct - native.profit))),
        float(np.max(np.abs(pred.success_probability - native.success))),
    )
    assert err <= 1e-4 * max(1.0, float(np.max(np.abs(duration)))), f"bundle != native ({err})"
    return err


def time_inproc(scorer, X: np.ndarray, n: int) -> tuple[list[float], list[float], float]:
    from arbscore.export.demo import synthetic_opportunities

    rows = [np.ascontiguousarray(X[i : i + 1]) for i in range(256)]
    for r in rows[:50]:
        scorer.predict_matrix(r)  # warm-up
    single = []
    for i in range(n):
        t = time.perf_counter_ns()
        scorer.predict_matrix(rows[i % 256])
        single.append((time.perf_counter_ns() - t) / 1000)
    opp = synthetic_opportunities(256, seed=5)
    records = [
        {k: (v[i].item() if hasattr(v[i], "item") else v[i]) for k, v in opp.items()}
        for i in range(256)
    ]
    record_times = []
    for i in range(n // 2):
        t = time.perf_counter_ns()
        scorer.predict_records([records[i % 256]])
        record_times.append((time.perf_counter_ns() - t) / 1000)
    big = np.ascontiguousarray(np.resize(X, (1000, X.shape[1])))
    batch = []
    for _ in range(20):
        t = time.perf_counter()
        scorer.predict_matrix(big)
        batch.append((time.perf_counter() - t) * 1000)
    return single, record_times, statistics.median(batch)


def tree_count(model_file: Path) -> int | None:
    """Trees in a graph's tree-ensemble nodes (None: no tree ensemble, e.g. the MLX net)."""
    import onnx

    total, found = 0, False
    for node in onnx.load(str(model_file)).graph.node:
        if not node.op_type.startswith("TreeEnsemble"):
            continue
        found = True
        attrs = {a.name: a for a in node.attribute}
        if "nodes_treeids" in attrs:
            total += len(set(attrs["nodes_treeids"].ints))
        elif "tree_roots" in attrs:  # ai.onnx.ml opset 5 TreeEnsemble
            total += len(attrs["tree_roots"].ints)
    return total if found else None


def time_heads(scorer, X: np.ndarray, n: int) -> dict[str, dict]:
    """Per head: its graph's tree count and one ONNX run on a single row (p50/p99 us)."""
    rows = [np.ascontiguousarray(X[i : i + 1]) for i in range(256)]
    out = {}
    for head, (file, output) in scorer._heads.items():  # noqa: SLF001 - a benchmark's view
        sess = scorer._sessions[file]  # noqa: SLF001
        for r in rows[:50]:
            sess.run([output], {"features": r})
        times = []
        for i in range(n):
            t = time.perf_counter_ns()
            sess.run([output], {"features": rows[i % 256]})
            times.append((time.perf_counter_ns() - t) / 1000)
        out[head] = {
            "trees": tree_count(Path(scorer.bundle_dir) / file),
            "p50_us": round(float(np.percentile(times, 50)), 1),
            "p99_us": round(float(np.percentile(times, 99)), 1),
        }
    return out


BODY = {
    "symbol": "BTCUSDT",
    "fundProfit8h": 0.02,
    "fundApr": 21.9,
    "volume24h": 1.5e9,
    "hourOfDay": 8,
    "dayOfWeek": 2,
    "bidAskSpread": 0.02,
    "liquidityStatus": "Good",
}


def start_server(bundle: Path, *args: str, src: Path | None = None) -> tuple[subprocess.Popen, int]:
    """``arbscore serve`` on a free loopback port (``src``: the arbscore sources it imports,
    e.g. an older checkout's ``src`` to compare); returns once /health answers."""
    import os

    import httpx
    from serve_helpers import arbscore_cmd, free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [*arbscore_cmd(), "serve", "--bundle", str(bundle), "--port", str(port), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **({"PYTHONPATH": str(src)} if src else {})},
    )
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return proc, port
        except httpx.HTTPError:
            time.sleep(0.2)
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError("server did not start")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def time_concurrency(bundle: Path, workers: int, threads: int, src: Path | None = None) -> dict:
    """serve_load's bounded runs on a server with ``--workers`` and ``--scoring-threads``."""
    from serve_load import concurrency

    proc, port = start_server(
        bundle, "--workers", str(workers), "--scoring-threads", str(threads), src=src
    )
    try:
        figures = concurrency(port, BODY, pid=proc.pid)
        return {**figures, "serve_workers": workers, "scoring_threads": threads}
    finally:
        stop_server(proc)


def time_http(bundle: Path, scorer, n_seq: int, n_load: int, clients: int) -> dict:
    import httpx

    proc, port = start_server(bundle)
    url = f"http://127.0.0.1:{port}"
    try:
        body = BODY
        want = scorer.predict_records([body])[0]  # the request path the server runs
        with httpx.Client() as client:
            got = client.post(url + "/predict", json=body).json()
            for k in ("predicted_profit_pct", "success_probability", "predicted_hold_hours"):
                assert got[k] == want[k], (k, got[k], want[k])
        payload = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}

        def post(conn: http.client.HTTPConnection) -> int:
            # stdlib keep-alive client: far less client-side overhead than httpx per request
            conn.request("POST", "/predict", body=payload, headers=headers)
            response = conn.getresponse()
            response.read()
            return response.status

        conn = http.client.HTTPConnection("127.0.0.1", port)
        for _ in range(200):
            post(conn)
        seq = []
        for _ in range(n_seq):
            t = time.perf_counter()
            post(conn)
            seq.append((time.perf_counter() - t) * 1000)
        conn.close()
        per_client = n_load // clients
        errors: list[int] = []

        def worker() -> None:
            c = http.client.HTTPConnection("127.0.0.1", port)
            for _ in range(per_client):
                if post(c) != 200:
                    errors.append(1)
            c.close()

        threads = [threading.Thread(target=worker) for _ in range(clients)]
        t = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        elapsed = time.perf_counter() - t
        assert not errors, f"{len(errors)} failed requests under load"
        # the server's own view: time from request start to response end, from GET /metrics
        text = httpx.get(url + "/metrics").text
        total = count = 0.0
        for line in text.splitlines():
            if line.startswith('arbscore_request_duration_seconds_sum{path="/predict"}'):
                total = float(line.split()[-1])
            if line.startswith('arbscore_request_duration_seconds_count{path="/predict"}'):
                count = float(line.split()[-1])
        return {
            "http_p50_ms": statistics.median(seq),
            "http_p99_ms": float(np.percentile(seq, 99)),
            "http_rps": per_client * clients / elapsed,
            "http_clients": clients,
            "http_server_mean_ms": 1000 * total / max(count, 1.0),
        }
    finally:
        stop_server(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path)
    parser.add_argument("--family", default="xgboost", choices=["xgboost", "lightgbm", "mlx"])
    parser.add_argument("--n", type=int, default=5000, help="in-process single-row calls")
    parser.add_argument("--http-n", type=int, default=2000, help="sequential HTTP requests")
    parser.add_argument("--load-n", type=int, default=4000, help="requests under concurrent load")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--serve-workers", type=int, default=1, help="--workers of the server")
    parser.add_argument("--scoring-threads", type=int, default=2, help="its --scoring-threads")
    parser.add_argument("--only-concurrency", action="store_true", help="needs --bundle")
    parser.add_argument("--no-http", action="store_true", help="in-process and per-head only")
    parser.add_argument("--no-concurrency", action="store_true", help="skip serve_load.py's part")
    parser.add_argument("--server-src", type=Path, help="arbscore sources the server imports")
    args = parser.parse_args()
    if args.only_concurrency:
        if not args.bundle:
            parser.error("--only-concurrency needs --bundle")
        print(
            json.dumps(
                time_concurrency(
                    args.bundle, args.serve_workers, args.scoring_threads, args.server_src
                )
            )
        )
        return
    from arbscore.serve.scorer import Scorer

    with tempfile.TemporaryDirectory() as tmp:
        if args.bundle:
            bundle, model, X = args.bundle, None, None
        else:
            bundle, model, X = build_bundle(args.family, Path(tmp) / "bundle")
        scorer = Scorer(bundle)
        if X is None:
            from arbscore.export.bundle import probe_matrix

            X = probe_matrix(scorer.spec, 2000)
        err = check_native(scorer, model, X) if model is not None else None
        single, records, batch_ms = time_inproc(scorer, X, args.n)
        per_head = time_heads(scorer, X, args.n)
        if args.no_http:
            http = dict.fromkeys(
                ("http_rps", "http_p50_ms", "http_p99_ms", "http_clients", "http_server_mean_ms")
            )
            load = {}
        else:
            http = time_http(Path(bundle), scorer, args.http_n, args.load_n, args.clients)
            load = (
                {}
                if args.no_concurrency
                else time_concurrency(Path(bundle), args.serve_workers, args.scoring_threads)
            )
    result = {
        "inproc_p50_us": float(np.percentile(single, 50)),
        "inproc_p99_us": float(np.percentile(single, 99)),
        "batch1000_ms": batch_ms,
        **{k: http[k] for k in ("http_rps", "http_p50_ms")},
        "inproc_record_p50_us": float(np.percentile(records, 50)),
        "http_p99_ms": http["http_p99_ms"],
        "http_clients": http["http_clients"],
        "http_server_mean_ms": http["http_server_mean_ms"],
        "family": args.family if not args.bundle else "bundle",
        "heads": {h: e["family"] for h, e in scorer.manifest["heads"].items()},
        "native_max_abs_diff": err,
        "per_head": per_head,
        **load,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
