"""A real ``arbscore serve`` process on a free 127.0.0.1 port, serving a copy of the golden
bundle, shared by the HTTP tests of a module (started once, stopped by its pid)."""

from __future__ import annotations

import json
import os
import subprocess
import time

import httpx
import pytest
from serve_helpers import GOLDEN, MAX_BATCH, MAX_BODY, Server, arbscore_cmd, copy_bundle, free_port


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve")
    bundle = copy_bundle(tmp / "bundle")
    port = free_port()
    cmd = [
        *arbscore_cmd(),
        "serve",
        "--bundle",
        str(bundle),
        "--port",
        str(port),
        "--max-batch",
        str(MAX_BATCH),
        "--max-body-bytes",
        str(MAX_BODY),
        "--allow-reload",
        "--reload-root",
        str(tmp),
    ]
    log = open(tmp / "server.log", "wb")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"server did not start: {(tmp / 'server.log').read_text()}")
        time.sleep(0.2)
    yield Server(url, proc, bundle, tmp)
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def golden() -> dict:
    return json.loads((GOLDEN / "golden.json").read_text())
