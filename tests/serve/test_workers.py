"""``arbscore serve --workers 2`` on Linux (``serve/workers.py``): each worker has its own
socket on the port and the kernel spreads connections over both; a killed worker is
replaced; a SIGHUP whose new bundle does not load leaves the old workers serving; a port
already in use is a clear exit 2."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from serve_helpers import (
    arbscore_cmd,
    copy_bundle,
    free_port,
    start_serve,
    stop_serve,
    worker_pids,
)

from arbscore.serve.workers import balanced_workers_supported

pytestmark = pytest.mark.skipif(
    not balanced_workers_supported(), reason="balanced workers need Linux SO_REUSEPORT"
)
BODY = {"symbol": "BTCUSDT", "fundProfit8h": 0.02, "fundApr": 21.9}


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_connections_spread_over_both_workers_and_a_dead_worker_is_replaced(tmp_path):
    srv = start_serve(tmp_path, copy_bundle(tmp_path / "bundle"), ["--workers", "2"])
    try:
        workers = worker_pids(srv.proc.pid)
        assert len(workers) == 2
        before = {p: _cpu(p) for p in workers}
        clients = [httpx.Client(timeout=30) for _ in range(48)]  # 48 connections
        for _ in range(6):
            for c in clients:
                assert c.post(srv.url + "/predict", json=BODY).status_code == 200
        for c in clients:
            c.close()
        used = {p: _cpu(p) - before[p] for p in workers}
        assert all(v > 0 for v in used.values()), used  # every worker took connections

        os.kill(workers[0], signal.SIGKILL)
        deadline = time.monotonic() + 90
        while True:
            now = worker_pids(srv.proc.pid)
            if len(now) == 2 and workers[0] not in now:
                break
            assert time.monotonic() < deadline, f"workers {now}"
            time.sleep(0.3)
        assert httpx.post(srv.url + "/predict", json=BODY).status_code == 200
        assert srv.proc.poll() is None
    finally:
        stop_serve(srv)
    assert not any(Path(f"/proc/{p}").exists() for p in now)  # stopped with the parent


def test_sighup_with_a_broken_bundle_keeps_the_old_workers(tmp_path):
    bundle = copy_bundle(tmp_path / "bundle")
    srv = start_serve(tmp_path, bundle, ["--workers", "2"])
    try:
        workers = worker_pids(srv.proc.pid)
        manifest = bundle / "manifest.json"
        good = manifest.read_text()
        manifest.write_text(json.dumps({"format": "broken"}))
        os.kill(srv.proc.pid, signal.SIGHUP)
        log = next(tmp_path.glob("server-*.log"))
        deadline = time.monotonic() + 60
        while "new worker did not start" not in log.read_text():  # it failed to load
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.3)
        assert worker_pids(srv.proc.pid) == workers
        assert httpx.post(srv.url + "/predict", json=BODY).status_code == 200
        manifest.write_text(good)
    finally:
        stop_serve(srv)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_port_in_use_is_exit_2_naming_it(tmp_path, workers):
    port = free_port()
    with socket.socket() as held:
        held.bind(("127.0.0.1", port))
        held.listen(1)
        bundle = copy_bundle(tmp_path / "bundle")
        cmd = [*arbscore_cmd(), "serve", "--bundle", str(bundle), "--port", str(port)]
        r = subprocess.run(
            [*cmd, "--workers", workers], capture_output=True, text=True, timeout=120
        )
    assert r.returncode == 2, r.stderr
    assert f"--port {port}" in r.stderr and "Traceback" not in r.stderr
    assert "serving" not in r.stdout  # nothing claims to serve before the bind
