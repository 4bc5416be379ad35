"""The latency settings of ``ServeConfig``: a small ``/predict`` scored inline on the event loop
answers byte for byte what the scoring threads answer (and refuses the same way), a large body
still goes to the threads, and the GIL switch interval / frozen heap last only while serving."""

from __future__ import annotations

import gc
import json
import sys
import threading

import pytest
from fastapi.testclient import TestClient
from serve_helpers import GOLDEN

from arbscore.serve.app import ServeConfig, create_app

BODY = {"symbol": "BTCUSDT", "fundProfit8h": 0.02, "fundApr": 21.9, "hourOfDay": 8, "dayOfWeek": 2}
BAD = [
    b'{"symbol": "BTCUSDT", "fundProfit8h": "x", "fundApr": 1}',  # 422 naming the field
    b'{"symbol": "BTCUSDT", "fundProfit8h": 0.02,',  # 400 malformed
    b"[1, 2]",  # 422 not an object
    b"",  # 400 empty
]


def _client(inline_max_bytes: int, threads: list[str]) -> TestClient:
    def sink(*_):
        threads.append(threading.current_thread().name)

    config = ServeConfig(inline_max_bytes=inline_max_bytes, prediction_sink=sink)
    return TestClient(create_app(GOLDEN / "bundle", config))


def _post(client: TestClient, raw: bytes):
    return client.post("/predict", content=raw, headers={"Content-Type": "application/json"})


def test_inline_and_threaded_predict_answer_the_same_bytes():
    inline_threads: list[str] = []
    pooled_threads: list[str] = []
    bodies = [BODY | {"fundApr": 21.9 + i / 7, "holdHours": 24.0 * (i % 3 + 1)} for i in range(8)]
    bodies.append(BODY | {"strategy": "perp_perp", "marketRegime": "bear"})
    # over the inline limit: whitespace the decoder skips, so the same opportunity
    padded = json.dumps(BODY).encode()[:-1] + b" " * 5000 + b"}"
    with _client(4096, inline_threads) as inline, _client(0, pooled_threads) as pooled:
        for body in bodies:
            raw = json.dumps(body).encode()
            a, b = _post(inline, raw), _post(pooled, raw)
            assert a.status_code == b.status_code == 200, (a.text, b.text)
            assert a.content == b.content
            assert a.headers["content-type"] == "application/json"
        for raw in BAD:
            a, b = _post(inline, raw), _post(pooled, raw)
            assert a.status_code == b.status_code and a.status_code in (400, 422)
            assert a.json() == b.json()
        big = _post(inline, padded)
        assert (
            big.status_code == 200 and big.json() == _post(pooled, json.dumps(BODY).encode()).json()
        )
    # the sink runs where the scoring ran: inline on the loop's thread, else a scoring thread
    n = len(bodies)
    assert not any(t.startswith("arbscore-score") for t in inline_threads[:n])
    assert inline_threads[n].startswith("arbscore-score")  # the padded body
    assert all(t.startswith("arbscore-score") for t in pooled_threads)


def test_batch_answers_match_single_predicts():
    threads: list[str] = []
    items = [BODY | {"fundApr": 10.0 + i} for i in range(5)]
    with _client(4096, threads) as client:
        batch = client.post("/predict/batch", json=items)
        singles = [client.post("/predict", json=item).json() for item in items]
    assert batch.status_code == 200 and batch.json() == singles
    assert threads[0].startswith("arbscore-score")  # batches always go to the threads


def test_switch_interval_and_frozen_heap_only_while_serving():
    before = sys.getswitchinterval()
    frozen = gc.get_freeze_count()
    app = create_app(GOLDEN / "bundle", ServeConfig(gil_switch_interval_s=0.002))
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
        assert sys.getswitchinterval() == pytest.approx(0.002)
        assert gc.get_freeze_count() > frozen
    assert sys.getswitchinterval() == before
    assert gc.get_freeze_count() == 0
    with TestClient(create_app(GOLDEN / "bundle", ServeConfig(gil_switch_interval_s=None))):
        assert sys.getswitchinterval() == before


@pytest.mark.parametrize(
    ("field", "value"),
    [("inline_max_bytes", -1), ("inline_max_bytes", 1 << 20), ("gil_switch_interval_s", 0.0)],
)
def test_bad_latency_settings_are_refused(field, value):
    with pytest.raises(ValueError, match=field):
        ServeConfig(**{field: value})


def test_fastapi_native_telemetry_is_opt_in():
    """FastAPI >= 0.165 checks for OpenTelemetry providers on every request; the server turns
    that off unless ``ServeConfig.opentelemetry`` asks for it (the CLI's --opentelemetry)."""
    off = create_app(GOLDEN / "bundle", ServeConfig())
    on = create_app(GOLDEN / "bundle", ServeConfig(opentelemetry=True))
    if not hasattr(off, "_telemetry"):
        pytest.skip("this FastAPI has no native telemetry")
    assert not any(off._telemetry[k] for k in ("tracing", "metrics", "logs"))
    assert all(on._telemetry[k] for k in ("tracing", "metrics", "logs"))
    with TestClient(off) as client:
        assert client.post("/predict", json=BODY).status_code == 200
