"""Helpers of the serve tests (a module with a unique name, importable from the test files)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

GOLDEN = Path(__file__).parents[1] / "export" / "golden"
MAX_BATCH = 50
MAX_BODY = 64 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def arbscore_cmd() -> list[str]:
    script = Path(sys.executable).parent / "arbscore"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from arbscore.cli import main; main()"]


def copy_bundle(dest: Path, model_version: str | None = None) -> Path:
    """Copy the golden bundle; optionally give it another model_version (the manifest is not
    among the checksummed files, so it stays a valid bundle)."""
    shutil.copytree(GOLDEN / "bundle", dest)
    if model_version:
        set_version(dest, model_version)
    return dest


def set_version(bundle: Path, model_version: str) -> None:
    path = bundle / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["model_version"] = model_version
    path.write_text(json.dumps(manifest, indent=2))


@dataclass
class Server:
    url: str
    proc: subprocess.Popen
    bundle: Path
    tmp: Path
    max_batch: int = MAX_BATCH
    max_body: int = MAX_BODY


def start_serve(
    tmp: Path, bundle: Path, args: list[str], env: dict | None = None, timeout: float = 90
) -> Server:
    """``arbscore serve --bundle BUNDLE ARGS`` as a real process on a free 127.0.0.1 port;
    returns once /health answers (the log is ``tmp/server-PORT.log``)."""
    port = free_port()
    cmd = [*arbscore_cmd(), "serve", "--bundle", str(bundle), "--port", str(port), *args]
    log_path = tmp / f"server-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return Server(url, proc, bundle, tmp)
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"server did not start: {log_path.read_text()}")
        time.sleep(0.2)


def stop_serve(server: Server) -> None:
    """Stop the server process by its pid (SIGTERM, then SIGKILL after 10 s)."""
    server.proc.terminate()
    try:
        server.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait(timeout=10)


def worker_pids(pid: int) -> list[int]:
    """The serve parent's worker processes (its spawned children, not the resource tracker)."""
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        for child in (task / "children").read_text().split():
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                out.append(int(child))
    return sorted(out)
