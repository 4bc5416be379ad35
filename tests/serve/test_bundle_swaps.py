"""A reload never mixes two bundles and never swaps in one that fails: the scorer resolves the
bundle directory once, reads each graph once and checks it against the verified manifest's
sha256, and scores probe rows through the batch path before it is served (issue 27, 4 and 6)."""

from __future__ import annotations

import os
import subprocess
import threading
import time

import httpx
import pytest
from bundle_variants import batch_of_one, input_as_double, shift_profit, variant
from serve_helpers import arbscore_cmd, copy_bundle, free_port, start_serve, stop_serve

BODY = {"symbol": "BTCUSDT", "fundProfit8h": 0.02, "fundApr": 21.9}
BATCH = [BODY, {**BODY, "fundApr": 30.0}]


@pytest.mark.parametrize("change", [input_as_double, batch_of_one], ids=["float64", "one-row"])
def test_a_bundle_whose_graphs_fail_neither_starts_nor_reloads(server, tmp_path, change):
    bad = variant(server.tmp / f"bad-{change.__name__}", "bad", change)
    cmd = [*arbscore_cmd(), "serve", "--bundle", str(bad), "--port", str(free_port())]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "profit.xgboost.onnx" in r.stderr or "probe rows" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    before = httpx.post(server.url + "/predict", json=BODY).json()["model_version"]
    r = httpx.post(server.url + "/reload", json={"bundle": str(bad)}, timeout=60)
    assert r.status_code != 200, r.text
    got = httpx.post(server.url + "/predict/batch", json=BATCH, timeout=30)
    assert got.status_code == 200, got.text
    assert {p["model_version"] for p in got.json()} == {before}


def test_reloads_racing_a_symlink_swap_never_mix_two_bundles(tmp_path):
    """``ops/retrain``'s layout: ``current`` a symlink swapped with ``os.replace``. A bounded
    run (8 s, 127.0.0.1): flips every 5 ms, reloads back to back, 4 clients; every answer's
    profit must be its label's model's profit."""
    a = copy_bundle(tmp_path / "A", model_version="model-A")
    b = variant(tmp_path / "B", "model-B", shift_profit(5.0))
    current = tmp_path / "current"
    os.symlink("A", current)
    srv = start_serve(tmp_path, current, ["--allow-reload", "--reload-root", str(tmp_path)])
    stop = threading.Event()
    answers: list[tuple[str, float]] = []
    counts = {"flips": 0, "reloads": 0, "refused_reloads": 0, "errors": 0}
    try:
        profit = {}
        for name, path in (("model-A", a), ("model-B", b)):
            os.replace(_link(tmp_path, path.name), current)
            assert httpx.post(srv.url + "/reload", json={"bundle": "current"}).status_code == 200
            got = httpx.post(srv.url + "/predict", json=BODY).json()
            assert got["model_version"] == name
            profit[name] = got["predicted_profit_pct"]
        assert profit["model-A"] != profit["model-B"]

        def flip() -> None:
            while not stop.is_set():
                for name in ("A", "B"):
                    os.replace(_link(tmp_path, name), current)
                    counts["flips"] += 1
                    time.sleep(0.005)

        def reload() -> None:
            with httpx.Client(timeout=30) as client:
                while not stop.is_set():
                    r = client.post(srv.url + "/reload", json={"bundle": "current"})
                    counts["reloads" if r.status_code == 200 else "refused_reloads"] += 1

        def ask() -> None:
            with httpx.Client(timeout=30) as client:
                while not stop.is_set():
                    r = client.post(srv.url + "/predict", json=BODY)
                    if r.status_code != 200:
                        counts["errors"] += 1
                        continue
                    got = r.json()
                    answers.append((got["model_version"], got["predicted_profit_pct"]))

        threads = [threading.Thread(target=f) for f in (flip, reload, ask, ask, ask, ask)]
        for t in threads:
            t.start()
        time.sleep(8)
        stop.set()
        for t in threads:
            t.join()
    finally:
        stop_serve(srv)
    mixed = [(v, p) for v, p in answers if p != profit[v]]
    print(f"race: {len(answers)} answers, {counts}, {len(mixed)} mixed")
    assert counts["reloads"] > 20 and counts["errors"] == 0, counts
    assert {v for v, _ in answers} == {"model-A", "model-B"}
    assert mixed == [], f"{len(mixed)} of {len(answers)} answers mixed two bundles: {mixed[:3]}"


def _link(root, name: str):
    tmp = root / f"current.{name}.swap"
    if tmp.is_symlink():
        tmp.unlink()
    os.symlink(name, tmp)
    return tmp
