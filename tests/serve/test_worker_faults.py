"""Workers under reloads and faults (``serve/workers.py``, ``serve/guard.py``): a rolling
SIGHUP drops no request, workers die with their supervisor (kill -9 included), a hang-up of
the whole process group reloads instead of killing every worker, a worker that cannot load is
retried with backoff, and slow clients are cut off by the header/body timeouts and the
connection cap. Every run is bounded and talks to 127.0.0.1 only."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
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


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _replaced(pid: int, before: list[int]) -> bool:
    """Two workers again, none of them one of ``before``."""
    now = worker_pids(pid)
    return len(now) == 2 and not set(now) & set(before)


class Load:
    """Client threads posting /predict until stopped: ``keep`` on keep-alive connections,
    ``fresh`` with a new connection per request; every failure is kept."""

    def __init__(self, url: str, keep: int, fresh: int) -> None:
        self.url, self.stop = url, threading.Event()
        self.ok = 0
        self.failures: list[str] = []
        self.threads = [threading.Thread(target=self._run, args=(True,)) for _ in range(keep)]
        self.threads += [threading.Thread(target=self._run, args=(False,)) for _ in range(fresh)]
        for t in self.threads:
            t.start()

    def _run(self, keep: bool) -> None:
        client = httpx.Client(timeout=30) if keep else None
        while not self.stop.is_set():
            try:
                if client is not None:
                    r = client.post(self.url + "/predict", json=BODY)
                else:
                    r = httpx.post(self.url + "/predict", json=BODY, timeout=30)
                if r.status_code == 200:
                    self.ok += 1
                else:
                    self.failures.append(f"HTTP {r.status_code}")
            except httpx.HTTPError as exc:
                self.failures.append(f"{type(exc).__name__}: {exc}")
        if client is not None:
            client.close()

    def finish(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def _log(srv) -> str:
    return next(srv.tmp.glob(f"server-{srv.url.rsplit(':', 1)[1]}.log")).read_text()


def test_rolling_sighup_reloads_drop_no_request(tmp_path):
    srv = start_serve(tmp_path, copy_bundle(tmp_path / "bundle"), ["--workers", "2"])
    load = Load(srv.url, keep=4, fresh=2)
    reloads = 0
    try:
        for _ in range(4):
            before = worker_pids(srv.proc.pid)
            os.kill(srv.proc.pid, signal.SIGHUP)
            _wait_for(
                lambda b=before: _replaced(srv.proc.pid, b),
                60,
                "the reload did not replace both workers",
            )
            reloads += 1
            time.sleep(0.5)
    finally:
        load.finish()
        stop_serve(srv)
    print(f"rolling reload: {load.ok} answered, {len(load.failures)} lost, {reloads} reloads")
    assert load.ok > 200 and reloads == 4
    assert load.failures == [], f"{len(load.failures)} of {load.ok} lost: {load.failures[:3]}"


def test_workers_exit_when_the_supervisor_is_killed(tmp_path):
    srv = start_serve(tmp_path, copy_bundle(tmp_path / "bundle"), ["--workers", "2"])
    workers = worker_pids(srv.proc.pid)
    assert len(workers) == 2
    os.kill(srv.proc.pid, signal.SIGKILL)
    srv.proc.wait()
    try:
        _wait_for(lambda: not any(_alive(p) for p in workers), 20, "orphan workers")
        port = int(srv.url.rsplit(":", 1)[1])
        with socket.socket() as probe:  # the port is free again
            probe.bind(("127.0.0.1", port))
    finally:
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_hang_up_of_the_process_group_reloads_instead_of_killing(tmp_path):
    bundle = copy_bundle(tmp_path / "bundle")
    port = free_port()
    cmd = [*arbscore_cmd(), "serve", "--bundle", str(bundle), "--port", str(port)]
    with open(tmp_path / "group.log", "wb") as log:
        proc = subprocess.Popen(
            [*cmd, "--workers", "2"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(lambda: _health(url), 90, "server did not start")
        before = worker_pids(proc.pid)
        load = Load(url, keep=2, fresh=2)
        try:
            os.killpg(proc.pid, signal.SIGHUP)  # what a terminal's hang-up sends
            _wait_for(
                lambda: _replaced(proc.pid, before),
                60,
                "the supervisor did not reload",
            )
            time.sleep(0.5)
        finally:
            load.finish()
        assert proc.poll() is None
        assert load.ok > 20 and load.failures == [], load.failures[:3]
    finally:
        proc.terminate()
        proc.wait(30)


def _health(url: str) -> bool:
    try:
        return httpx.get(url + "/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_worker_that_cannot_load_is_retried_with_backoff(tmp_path):
    bundle = copy_bundle(tmp_path / "bundle")
    srv = start_serve(tmp_path, bundle, ["--workers", "2"])
    try:
        (bundle / "manifest.json").write_text("{}")
        victim = worker_pids(srv.proc.pid)[0]
        os.kill(victim, signal.SIGKILL)
        _wait_for(lambda: "next try in 2 s" in _log(srv), 60, "no backoff: " + _log(srv)[-800:])
        for _ in range(20):  # new connections all reach the live worker, none waits
            assert httpx.post(srv.url + "/predict", json=BODY, timeout=5).status_code == 200
        assert srv.proc.poll() is None
    finally:
        stop_serve(srv)


def test_a_failed_sighup_reload_of_one_worker_logs_no_stray_task_error(tmp_path):
    bundle = copy_bundle(tmp_path / "bundle")
    srv = start_serve(tmp_path, bundle, ["--log-level", "info"])
    try:
        (bundle / "manifest.json").write_text("{}")
        os.kill(srv.proc.pid, signal.SIGHUP)
        _wait_for(lambda: "still served" in _log(srv), 30, _log(srv)[-800:])
        assert httpx.post(srv.url + "/predict", json=BODY).status_code == 200
    finally:
        stop_serve(srv)
    assert "Task exception was never retrieved" not in _log(srv)


def _recv_all(sock: socket.socket, timeout: float) -> bytes:
    sock.settimeout(timeout)
    data = b""
    try:
        while chunk := sock.recv(4096):
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return data


@pytest.mark.parametrize("workers", ["1", "2"])
def test_slow_headers_and_bodies_time_out_and_connections_are_capped(tmp_path, workers):
    limits = ["--header-timeout", "1", "--body-timeout", "1", "--max-connections", "20"]
    srv = start_serve(tmp_path, copy_bundle(tmp_path / "b"), [*limits, "--workers", workers])
    port = int(srv.url.rsplit(":", 1)[1])
    socks: list[socket.socket] = []
    try:
        head = socket.create_connection(("127.0.0.1", port))
        head.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Le")  # never finished
        body = socket.create_connection(("127.0.0.1", port))
        body.sendall(b'POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"sym')
        started = time.monotonic()
        for s in (head, body):
            got = _recv_all(s, 5)
            assert got.startswith(b"HTTP/1.1 408"), got
            s.close()
        assert time.monotonic() - started < 4  # cut at ~1 s, not held
        # over the cap: the extra connections are closed unread, the rest time out
        per_worker = 20 * int(workers)
        socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(per_worker + 30)]
        closed = sum(1 for s in socks if _recv_all(s, 0.3) == b"")
        assert closed >= 30 - 5, closed
        time.sleep(1.5)  # the header timeout frees the others
        assert httpx.get(srv.url + "/health", timeout=5).status_code == 200
    finally:
        for s in socks:
            s.close()
        stop_serve(srv)
