"""A bounded fault run against ``arbscore serve --workers 2`` on 127.0.0.1: answers are
counted while the bundle is swapped and the workers are reloaded and killed.

    python benchmarks/serve_faults.py --bundle tests/export/golden/bundle [--seconds 30]

The served path is ``TMP/current``, a symlink flipped between bundle A (the given one) and
bundle B (A with its profit graph's base value shifted by +5, so every answer says which graph
scored it) with ``os.replace``, as ``arbscore retrain`` swaps it. Phase 1 (``--seconds``):
``SIGHUP`` to the supervisor every 2 s while the symlink flips every 50 ms, 4 keep-alive and 2
new-connection clients. Phase 2: ``kill -9`` of one worker, ``--kills`` times, 3 s apart.
Printed per phase: answers, lost requests (an error or a non-200), mixed answers (a profit
that is not its label's model's), reloads, kills. Everything stops by itself; only 127.0.0.1.
A kill -9 loses the requests that worker had in flight: that phase's losses are expected.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import onnx

from arbscore.export.manifest import sha256_file

BODY = {"symbol": "BTCUSDT", "fundProfit8h": 0.02, "fundApr": 21.9}


def _shifted(src: Path, dest: Path, version: str, offset: float) -> Path:
    shutil.copytree(src, dest)
    manifest = json.loads((dest / "manifest.json").read_text())
    file = manifest["heads"]["profit"]["file"]
    graph = onnx.load(dest / file)
    node = next(n for n in graph.graph.node if n.op_type == "TreeEnsembleRegressor")
    next(a for a in node.attribute if a.name == "base_values").floats[0] += offset
    onnx.save_model(graph, dest / file)
    manifest["model_version"] = version
    manifest["files"][file] = sha256_file(dest / file)
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return dest


def _point(current: Path, name: str) -> None:
    tmp = current.with_name(f"current.{name}.swap")
    if tmp.is_symlink():
        tmp.unlink()
    os.symlink(name, tmp)
    os.replace(tmp, current)


def _workers(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        for child in (task / "children").read_text().split():
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                out.append(int(child))
    return sorted(out)


class Clients:
    def __init__(self, url: str, profit: dict[str, float], keep: int = 4, fresh: int = 2):
        self.url, self.profit = url, profit
        self.stop = threading.Event()
        self.answers = self.lost = self.mixed = 0
        self.errors: list[str] = []
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._run, args=(i < keep,)) for i in range(keep + fresh)
        ]
        for t in self.threads:
            t.start()

    def _run(self, keep: bool) -> None:
        client = httpx.Client(timeout=30) if keep else None
        while not self.stop.is_set():
            try:
                r = (client or httpx).post(self.url + "/predict", json=BODY, timeout=30)
                ok = r.status_code == 200
                got = r.json() if ok else {}
                mixed = ok and got["predicted_profit_pct"] != self.profit[got["model_version"]]
                with self.lock:
                    self.answers += ok
                    self.mixed += mixed
                    if not ok:
                        self.lost += 1
                        self.errors.append(f"HTTP {r.status_code}")
            except httpx.HTTPError as exc:
                with self.lock:
                    self.lost += 1
                    self.errors.append(f"{type(exc).__name__}: {exc}")
        if client:
            client.close()

    def snapshot(self) -> tuple[int, int, int]:
        with self.lock:
            return self.answers, self.lost, self.mixed

    def finish(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", type=Path, required=True)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--kills", type=int, default=3)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="arbscore-faults-"))
    shutil.copytree(args.bundle, tmp / "A")
    manifest = json.loads((tmp / "A" / "manifest.json").read_text())
    manifest["model_version"] = "model-A"
    (tmp / "A" / "manifest.json").write_text(json.dumps(manifest, indent=2))
    _shifted(args.bundle, tmp / "B", "model-B", 5.0)
    current = tmp / "current"
    os.symlink("A", current)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    exe = Path(sys.executable).parent / "arbscore"
    cmd = [str(exe), "serve", "--bundle", str(current), "--port", str(port), "--workers", "2"]
    log = open(tmp / "server.log", "wb")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    clients = None
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"server did not start: {(tmp / 'server.log').read_text()}")
            time.sleep(0.2)
        profit = {}
        for name in ("A", "B"):
            _point(current, name)
            os.kill(proc.pid, signal.SIGHUP)
            want = f"model-{name}"
            while httpx.post(url + "/predict", json=BODY).json()["model_version"] != want:
                time.sleep(0.2)
            time.sleep(3)  # both workers replaced
            profit[want] = httpx.post(url + "/predict", json=BODY).json()["predicted_profit_pct"]
        clients = Clients(url, profit)
        flips = reloads = 0
        stop_flip = threading.Event()

        def flip() -> None:
            nonlocal flips
            while not stop_flip.is_set():
                _point(current, "AB"[flips % 2])
                flips += 1
                time.sleep(0.05)

        flipper = threading.Thread(target=flip)
        flipper.start()
        end = time.monotonic() + args.seconds
        while time.monotonic() < end:
            os.kill(proc.pid, signal.SIGHUP)
            reloads += 1
            time.sleep(2)
        stop_flip.set()
        flipper.join()
        time.sleep(10)  # the last reload and drain finish
        a1, l1, m1 = clients.snapshot()
        print(
            f"phase 1 (reloads): {a1} answers, {l1} lost, {m1} mixed, {reloads} SIGHUPs, "
            f"{flips} symlink flips, {args.seconds:.0f} s"
        )
        for _ in range(args.kills):
            os.kill(_workers(proc.pid)[0], signal.SIGKILL)
            time.sleep(3)
        a2, l2, m2 = clients.snapshot()
        print(
            f"phase 2 (kill -9 of a worker): {a2 - a1} answers, {l2 - l1} lost, {m2 - m1} "
            f"mixed, {args.kills} kills"
        )
    finally:
        if clients:
            clients.finish()
        proc.terminate()
        proc.wait(30)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)
    if clients and clients.errors:
        print("first losses:", clients.errors[:5])


if __name__ == "__main__":
    main()
