"""Only the caller's mistakes are 4xx: a ValueError from deep inside is a logged 500 that
quotes nothing internal, and a client that leaves mid-body is counted as 499 (not a server
error) without a traceback. Against real ``arbscore serve`` processes."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import httpx
import pytest
from serve_helpers import copy_bundle, start_serve, stop_serve

BODY = {"symbol": "BTCUSDT", "fundProfit8h": 0.02, "fundApr": 21.9}
FAULTS = Path(__file__).parent / "faults"


def test_a_deep_value_error_is_a_500_without_internals(tmp_path):
    env = {
        "ARBSCORE_TEST_FAULT": "deep_value_error",
        "PYTHONPATH": os.pathsep.join([str(FAULTS), os.environ.get("PYTHONPATH", "")]),
    }
    srv = start_serve(tmp_path, copy_bundle(tmp_path / "b"), ["--workers", "1"], env=env)
    try:
        bad = {**BODY, "fundApr": 12345.0}
        for path, body in (("/predict", bad), ("/predict/batch", [bad])):
            r = httpx.post(srv.url + path, json=body)
            assert r.status_code == 500, (path, r.text)
            assert "broadcast" not in r.text and "shapes" not in r.text
        assert httpx.post(srv.url + "/predict", json=BODY).status_code == 200  # injected only
        ok = httpx.post(srv.url + "/predict", json={**BODY, "fundApr": "x"})
        assert ok.status_code == 422  # a real input error stays 422
    finally:
        stop_serve(srv)
    log = next(tmp_path.glob("server-*.log")).read_text()
    assert "broadcast" in log  # the details are in the server log


def _leave_mid_body(port: int, path: str, chunked: bool) -> None:
    with socket.create_connection(("127.0.0.1", port)) as s:
        if chunked:
            head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            s.sendall(head.encode() + b'Transfer-Encoding: chunked\r\n\r\n5\r\n[{"sy\r\n')
        else:
            head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            s.sendall(head.encode() + b'Content-Length: 200\r\n\r\n[{"symbol"')
        time.sleep(0.2)


@pytest.fixture(scope="module")
def plain_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gone")
    srv = start_serve(tmp, copy_bundle(tmp / "b"), [])
    yield srv
    stop_serve(srv)


def test_a_client_leaving_mid_body_is_499_not_500_and_logs_no_traceback(plain_server):
    srv = plain_server
    port = int(srv.url.rsplit(":", 1)[1])
    for path in ("/predict", "/predict/batch", "/size"):
        for chunked in (False, True):
            _leave_mid_body(port, path, chunked)
    time.sleep(0.5)
    metrics = httpx.get(srv.url + "/metrics").text
    requests = [line for line in metrics.splitlines() if line.startswith("arbscore_requests_total")]
    assert not [line for line in requests if 'status="500"' in line], requests
    assert [line for line in requests if 'status="499"' in line], requests
    log = next(srv.tmp.glob("server-*.log")).read_text()
    assert "Traceback" not in log, log[-2000:]
