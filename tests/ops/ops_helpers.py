"""Shared helpers of the ops tests: live rows through real ccxt against the replay exchange,
real processes on free ports, and a small real bundle with a drift reference."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from arbscore.data_tools.collect.exchange import RetryPolicy, make_exchange  # noqa: E402
from arbscore.data_tools.collect.live import LiveConfig, snapshot_once  # noqa: E402
from tests.support.replay_exchange import HOUR_MS, WORLD_START_MS  # noqa: E402

T0_MS = WORLD_START_MS + 10 * 24 * HOUR_MS  # live collection starts 10 days into the world


def collect_live(
    replay,
    store,
    hours: int,
    exchanges=("binance", "bybit"),
    symbols=("BTCUSDT", "ETHUSDT"),
    step_minutes: int = 60,
    start_ms: int = T0_MS,
):
    """Take a live snapshot every ``step_minutes`` for ``hours`` of world time (the replay
    world's clock is moved to each slot, so funding and prices evolve as they would live)."""
    config = LiveConfig(
        tuple(exchanges),
        tuple(symbols),
        interval=f"{step_minutes}m",
        depth_band_pct=0.5,
        retry=RetryPolicy(max_retries=0),
    )
    clients = {}
    for name in exchanges:
        client = make_exchange(name, api_base=replay.base_url)
        client.rateLimit = 1
        clients[name] = client
    cache: dict = {}
    n = hours * 60 // step_minutes + 1
    for k in range(n):
        t = start_ms + k * step_minutes * 60_000
        replay.world.end_ms = t
        result = snapshot_once(store, clients, config, now_s=t / 1000, cache=cache)
        assert not result.errors, result.errors
    return n


def tiny_market():
    """A 30-day synthetic market: BTC and ETH on binance and bybit, hourly klines, no interval
    overrides (the ``tiny_training`` fixture's market, also written to stores by CLI tests)."""
    from arbscore.data_tools.sources.synthetic import (
        SyntheticMarketConfig,
        generate_synthetic_market,
    )

    return generate_synthetic_market(
        SyntheticMarketConfig(
            days=30,
            symbols=("BTCUSDT", "ETHUSDT"),
            exchanges=("binance", "bybit"),
            kline_minutes=60,
            interval_overrides=(),
        )
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def arbscore_cmd() -> list[str]:
    script = Path(sys.executable).parent / "arbscore"
    return [str(script)] if script.exists() else [sys.executable, "-m", "arbscore.cli"]


def start_server(args: list[str], log: Path, url: str, timeout: float = 60) -> subprocess.Popen:
    """``arbscore serve ...`` as a real process; returns once /health answers."""
    fh = open(log, "wb")  # noqa: SIM115 - the process owns it
    proc = subprocess.Popen(
        [*arbscore_cmd(), "serve", *args], stdout=fh, stderr=subprocess.STDOUT, env={**os.environ}
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"server did not start: {log.read_text()}")
        time.sleep(0.2)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
