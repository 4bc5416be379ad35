"""Swapping bundles under load: POST /reload and SIGHUP, with requests in flight."""

from __future__ import annotations

import os
import signal
import threading
import time

import httpx
from serve_helpers import copy_bundle, set_version

BODY = {"symbol": "BTCUSDT", "fundProfit8h": 0.02, "fundApr": 21.9}


def _hammer(url: str, stop: threading.Event, results: list) -> None:
    with httpx.Client(timeout=10) as client:
        while not stop.is_set():
            r = client.post(url + "/predict", json=BODY)
            results.append((r.status_code, r.json().get("model_version")))


def _version(url: str) -> str:
    return httpx.post(url + "/predict", json=BODY).json()["model_version"]


def test_reload_under_load_drops_nothing(server):
    new = copy_bundle(server.tmp / "bundle_v2", model_version="golden-v2")
    stop, results = threading.Event(), []
    threads = [threading.Thread(target=_hammer, args=(server.url, stop, results)) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    r = httpx.post(server.url + "/reload", json={"bundle": str(new)}, timeout=30)
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join()
    assert r.status_code == 200 and r.json()["model_version"] == "golden-v2", r.text
    assert results and all(code == 200 for code, _ in results)
    versions = [v for _, v in results]
    assert versions[-1] == "golden-v2" and "golden-v2" in versions
    assert _version(server.url) == "golden-v2"

    # a bad bundle is refused and the server keeps the one it has
    r = httpx.post(server.url + "/reload", json={"bundle": str(server.tmp / "nope")})
    assert r.status_code == 422 and "bundle" in r.json()["message"]
    assert _version(server.url) == "golden-v2"
    r = httpx.post(server.url + "/reload", json={"bundel": "typo"})
    assert r.status_code == 422 and "body.bundel" in [
        ".".join(map(str, e["loc"])) for e in r.json()["detail"]
    ]


def test_sighup_reloads_the_current_bundle(server):
    current = httpx.get(server.url + "/models").json()["bundle"]
    from pathlib import Path

    set_version(Path(current), "golden-v3")
    os.kill(server.proc.pid, signal.SIGHUP)
    deadline = time.monotonic() + 20
    while _version(server.url) != "golden-v3":
        assert time.monotonic() < deadline, "SIGHUP did not reload the bundle"
        time.sleep(0.1)
    assert server.proc.poll() is None
