"""The raw-input graph, run by a fresh onnxruntime-only interpreter, matches the real server.

A real ``arbscore serve`` process (uvicorn, a free 127.0.0.1 port) serves a copy of the golden
bundle; Hypothesis draws records the HTTP API accepts (camelCase, odd spellings of the
categories, missing optional fields, holds); ``/predict`` and ``/predict/batch`` answers are
compared with tests/export/raw_client.py's within 1e-5. The fields whose HTTP default is not
the feature layer's fill value (the projections default to ``fundProfit8h``, the hour and day
to the server's clock, the strategy to ``spot_perp``) are always sent: a bot calling the graph
gives them, as the guide's C# DTO does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from raw_helpers import BUNDLE, assert_close, run_client, spelling

from arbscore.data_tools.features.keys import _STRATEGY_ALIASES
from arbscore.schema import LIQUIDITY_STATUSES, MARKET_REGIMES, MAX_HOLD_HOURS, STRATEGIES


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("raw_http")
    bundle = tmp / "bundle"
    shutil.copytree(BUNDLE, bundle)
    with socket_port() as port:
        pass
    cmd = [sys.executable, "-m", "arbscore", "serve", "--bundle", str(bundle), "--port", str(port)]
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
    yield url, bundle
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


class socket_port:
    """A free port (the socket is closed before the server binds it)."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *exc) -> None:
        self.sock.close()


def _word(words):
    @st.composite
    def draw_word(draw):
        return spelling(draw(st.sampled_from(words)), draw)

    return draw_word()


STRATEGY_SPELLINGS = [*STRATEGIES, *_STRATEGY_ALIASES, "Cash-and-Carry", "Perp Perp"]
money = st.floats(-5.0, 5.0)
positive = st.none() | st.floats(0.0, 1e9)


@st.composite
def http_record(draw):
    f8 = draw(money)
    rec = {
        "symbol": "BTCUSDT",
        "strategy": draw(_word(STRATEGY_SPELLINGS)),
        "fundProfit8h": f8,
        "fundApr": f8 * 3 * 365,
        "fundProfit24hProj": draw(money),
        "fundProfit3dProj": draw(money),
        "hourOfDay": draw(st.integers(0, 23)),
        "dayOfWeek": draw(st.integers(0, 6)),
    }
    optional = {
        "breakEvenHours": st.none() | st.floats(-10.0, 1e4),
        "spreadVolatilityCv": st.none() | st.floats(0.0, 5.0),
        "volume24h": positive,
        "bidAskSpread": st.none() | st.floats(0.0, 1.0),
        "orderbookDepth": positive,
        "btcPrice": st.none() | st.floats(0.0, 2e5),
        "liquidityStatus": st.none() | _word(LIQUIDITY_STATUSES),
        "marketRegime": st.none() | _word(MARKET_REGIMES),
        "holdHours": st.none() | st.floats(0.05, float(MAX_HOLD_HOURS)),
    }
    for key, values in optional.items():
        if draw(st.booleans()):
            rec[key] = draw(values)
    return rec


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(http_record(), min_size=1, max_size=20))
def test_raw_graph_matches_http_predict(server, records):
    url, bundle = server
    batch = httpx.post(url + "/predict/batch", json=records, timeout=30)
    assert batch.status_code == 200, batch.text
    one = httpx.post(url + "/predict", json=records[0], timeout=30)
    assert one.status_code == 200, one.text
    got = run_client(bundle, records)["predictions"]
    assert_close(got, batch.json())
    assert_close(got[:1], [one.json()])
