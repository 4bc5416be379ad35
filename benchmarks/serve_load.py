"""Bounded concurrency runs against a real ``arbscore serve`` on 127.0.0.1 (used by serve.py).

- ``single``: ``connections`` keep-alive connections (default 32), each sending ``per_conn``
  sequential ``POST /predict`` (a closed loop: a connection sends its next request when the
  answer arrives), all at once; per-request latency p50/p99 and the request rate.
- ``batch``: ``clients`` connections (default 4) each sending ``batches`` ``POST
  /predict/batch`` of ``rows`` opportunities (default 1000), while one more connection probes
  ``GET /health`` every ``probe_interval_s``; /health latency p50/p99 and batch latency p50.

The client is one asyncio loop writing raw HTTP/1.1 (a few µs per request), so on a small
machine the client takes as little CPU from the server as possible. Every answer's status is
checked (any non-200 fails the run) and the batch answers are checked against a single
/predict of the same opportunity before anything is timed.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import numpy as np


def _request(method: str, path: str, body: bytes = b"") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


class Connection:
    """One keep-alive HTTP/1.1 connection (answers must carry Content-Length, as uvicorn's do)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 24)
        return cls(reader, writer)

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        self.writer.write(raw)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        return int(head[9:12]), await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux /proc; uvicorn's worker processes)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            children = (
                (task / "children").read_text().split() if (task / "children").exists() else []
            )
            todo += [int(c) for c in children]
    return out


def process_cpu(pid: int | None) -> dict[int, float]:
    """User + system CPU seconds used so far by each process of the server's tree (the
    parent and uvicorn's workers; empty off Linux)."""
    if pid is None or not Path(f"/proc/{pid}/stat").exists():
        return {}
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for p in _tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[p] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return out


def machine_ticks() -> list[int] | None:
    """The machine's CPU time counters (``/proc/stat``'s ``cpu`` line; None off Linux)."""
    try:
        return [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None


def steal_fraction(before: list[int] | None, after: list[int] | None) -> float | None:
    """The share of the machine's CPU time a hypervisor gave to other guests in between
    (``steal``, the 8th counter): on a shared VM, what the latencies of that window lost."""
    if not before or not after or len(before) < 8:
        return None
    delta = [b - a for a, b in zip(before, after, strict=False)]
    total = sum(delta[:8])
    return delta[7] / total if total else None


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds used so far by the server process tree (None off Linux)."""
    return _total(process_cpu(pid))


def _helper_process(pid: int) -> bool:
    """Whether ``pid`` is multiprocessing's resource tracker (a child of the server that
    serves no requests), not a worker."""
    try:
        return b"resource_tracker" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _total(per: dict[int, float]) -> float | None:
    return sum(per.values()) if per else None


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


async def _single(port: int, body: dict, connections: int, per_conn: int) -> dict:
    raw = _request("POST", "/predict", json.dumps(body).encode())
    conns = [await Connection.open(port) for _ in range(connections)]
    for c in conns:  # warm every connection (and the server's thread pool)
        status, _ = await c.send(raw)
        assert status == 200, status
    latencies: list[float] = []

    async def run(c: Connection) -> None:
        for _ in range(per_conn):
            t = time.perf_counter()
            status, _ = await c.send(raw)
            latencies.append((time.perf_counter() - t) * 1000)
            assert status == 200, status

    start = time.perf_counter()
    await asyncio.gather(*(run(c) for c in conns))
    elapsed = time.perf_counter() - start
    for c in conns:
        c.close()
    return {
        "c32_p50_ms": _pct(latencies, 50),
        "c32_p99_ms": _pct(latencies, 99),
        "c32_rps": len(latencies) / elapsed,
        "c32_connections": connections,
        "c32_requests": len(latencies),
    }


async def _batch(
    port: int, body: dict, clients: int, batches: int, rows: int, probe_interval_s: float
) -> dict:
    items = [body | {"fundApr": body["fundApr"] + 0.01 * i} for i in range(rows)]
    raw = _request("POST", "/predict/batch", json.dumps(items).encode())
    probe = await Connection.open(port)
    conns = [await Connection.open(port) for _ in range(clients)]
    # the batch answers what /predict answers for the same opportunity
    status, answer = await conns[0].send(raw)
    assert status == 200, (status, answer[:300])
    first = json.loads(answer)[7]
    status, one = await probe.send(_request("POST", "/predict", json.dumps(items[7]).encode()))
    assert status == 200 and json.loads(one) == first, (one, first)
    health, batch_ms, done = [], [], asyncio.Event()

    async def load(c: Connection) -> None:
        for _ in range(batches):
            t = time.perf_counter()
            status, _ = await c.send(raw)
            batch_ms.append((time.perf_counter() - t) * 1000)
            assert status == 200, status

    async def watch() -> None:
        get = _request("GET", "/health")
        while not done.is_set():
            t = time.perf_counter()
            status, _ = await probe.send(get)
            health.append((time.perf_counter() - t) * 1000)
            assert status == 200, status
            await asyncio.sleep(probe_interval_s)

    watcher = asyncio.create_task(watch())
    start = time.perf_counter()
    await asyncio.gather(*(load(c) for c in conns))
    elapsed = time.perf_counter() - start
    done.set()
    await watcher
    for c in (*conns, probe):
        c.close()
    return {
        "batch_load_health_p50_ms": _pct(health, 50),
        "batch_load_health_p99_ms": _pct(health, 99),
        "batch_load_health_max_ms": max(health),
        "batch_load_health_probes": len(health),
        "batch_load_batch_p50_ms": _pct(batch_ms, 50),
        "batch_load_rows_per_s": clients * batches * rows / elapsed,
        "batch_load_clients": clients,
        "batch_load_rows": rows,
    }


def concurrency(
    port: int,
    body: dict,
    *,
    pid: int | None = None,
    connections: int = 32,
    per_conn: int = 100,
    clients: int = 4,
    batches: int = 10,
    rows: int = 1000,
    probe_interval_s: float = 0.02,
) -> dict:
    """Both runs against the server on ``port``; the figures as one flat dict. With the
    server's ``pid``, also its CPU time per request (``c32_server_cpu_ms``) and per 1000-row
    batch (``batch_load_server_cpu_ms``): what the machine's load does not change; with
    several workers, each worker's CPU seconds in the 32-connection run (``c32_worker_cpu_s``:
    how evenly the workers' sockets spread the connections); on Linux the share of CPU time
    the hypervisor took during each run (``c32_steal_fraction``, ``batch_load_steal_fraction``:
    on a shared VM a run with a high share is the machine's, not the server's)."""
    per0, ticks0 = process_cpu(pid), machine_ticks()
    single = asyncio.run(_single(port, body, connections, per_conn))
    per1, ticks1 = process_cpu(pid), machine_ticks()
    cpu0, cpu1 = _total(per0), _total(per1)
    single["c32_steal_fraction"] = steal_fraction(ticks0, ticks1)
    if len(per1) > 1:  # several workers: how the connections' work fell on each
        workers = [p for p in per1 if p != pid and not _helper_process(p)]
        single["c32_worker_cpu_s"] = [round(per1[p] - per0.get(p, 0.0), 2) for p in workers]
    batch = asyncio.run(_batch(port, body, clients, batches, rows, probe_interval_s))
    cpu2 = cpu_seconds(pid)
    batch["batch_load_steal_fraction"] = steal_fraction(ticks1, machine_ticks())
    if cpu0 is not None:
        single["c32_server_cpu_ms"] = 1000 * (cpu1 - cpu0) / (single["c32_requests"] + connections)
        batch["batch_load_server_cpu_ms"] = 1000 * (cpu2 - cpu1) / (clients * batches + 1)
    return {**single, **batch}
