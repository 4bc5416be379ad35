"""The ``POST /predict`` fast path (``serve/fastpath.py``) answers what the FastAPI route
answers, byte for byte and header for header, for good bodies, every kind of bad one, a body
over the limit and a bug; other methods and paths still go to FastAPI; metrics count it."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient
from serve_helpers import GOLDEN, copy_bundle

from arbscore.conformal import IntervalTable
from arbscore.serve import handlers
from arbscore.serve.app import ServeConfig, create_app

BODY = {"symbol": "BTCUSDT", "fundProfit8h": 0.02, "fundApr": 21.9, "hourOfDay": 8, "dayOfWeek": 2}
BODIES = [
    json.dumps(BODY).encode(),
    json.dumps(BODY | {"holdHours": 72.0, "strategy": "perp_perp"}).encode(),
    json.dumps(BODY | {"fundApr": 400.0, "marketRegime": "bear"}).encode(),
    json.dumps(BODY).encode()[:-1] + b" " * 5000 + b"}",  # over inline_max_bytes: a thread
    b'{"symbol": "BTCUSDT", "fundProfit8h": "x", "fundApr": 1}',  # 422 naming the field
    b'{"symbol": "BTCUSDT", "fundProfit8h": true, "fundApr": 1}',  # 422: a boolean
    b'{"symbol": "BTCUSDT", "fundProfit8h": 0.02,',  # 400 malformed
    b'{"symbol": "BTCUSDT", "fundProfit8h": 1e308, "fundApr": 1e308}',  # 422 or finite
    b"[1, 2]",  # 422 not an object
    b"",  # 400 empty
    b"\xff\xfe",  # 400 not UTF-8
    b"1" * 5000,  # 422/400, never Python's int_max_str_digits text
]
#: what a server adds per response and may differ between two apps
VOLATILE = {"date", "server"}


def _pair(bundle=GOLDEN / "bundle", **config):
    fast = TestClient(create_app(bundle, ServeConfig(max_body_bytes=8192, **config)))
    route = TestClient(
        create_app(bundle, ServeConfig(max_body_bytes=8192, fast_predict=False, **config))
    )
    return fast, route


def _headers(response) -> list[tuple[str, str]]:
    return [(k, v) for k, v in response.headers.multi_items() if k not in VOLATILE]


def _same(a, b) -> None:
    assert a.status_code == b.status_code, (a.text, b.text)
    assert a.content == b.content
    assert _headers(a) == _headers(b)


def test_fast_path_answers_the_routes_bytes():
    fast, route = _pair()
    statuses = set()
    with fast, route:
        for raw in BODIES:
            headers = {"Content-Type": "application/json"}
            a = fast.post("/predict", content=raw, headers=headers)
            b = route.post("/predict", content=raw, headers=headers)
            _same(a, b)
            statuses.add(a.status_code)
            assert "int_max_str_digits" not in a.text

        # a chunked body (no Content-Length) is read to its end the same way
        def chunks():
            yield from (BODIES[1][i : i + 7] for i in range(0, len(BODIES[1]), 7))

        a, b = fast.post("/predict", content=chunks()), route.post("/predict", content=chunks())
        _same(a, b)
        assert a.status_code == 200
        # over the body limit: MetricsAndLimits refuses before the fast path reads it
        big = b'{"symbol": "' + b"x" * 9000 + b'"}'
        _same(fast.post("/predict", content=big), route.post("/predict", content=big))
        assert fast.post("/predict", content=big).status_code == 413
        # other methods on the path are FastAPI's: 405 with Allow
        _same(fast.get("/predict"), route.get("/predict"))
        assert fast.get("/predict").status_code == 405
        # the counters see fast-path requests like any other
        text = fast.get("/metrics").text
        assert 'arbscore_requests_total{method="POST",path="/predict",status="200"} 5.0' in text
    assert {200, 400, 422} <= statuses


def test_fast_path_maps_a_bug_to_the_logged_500(monkeypatch, caplog):
    def broken(*_):
        raise RuntimeError("boom")

    monkeypatch.setattr(handlers, "predict_one", broken)
    fast, route = _pair()
    with fast, TestClient(route.app, raise_server_exceptions=False) as route:
        with caplog.at_level(logging.ERROR, logger="arbscore.serve.errors"):
            a = fast.post("/predict", content=BODIES[0])
        assert "unhandled error on POST /predict" in caplog.text
        b = route.post("/predict", content=BODIES[0])
        _same(a, b)
        assert a.status_code == 500
        assert a.json()["detail"][0]["type"] == "internal" and "boom" not in a.text


@pytest.mark.parametrize("fast", [True, False])
def test_batch_and_single_agree_either_way(fast):
    items = [BODY | {"fundApr": 10.0 + i} for i in range(4)]
    app = create_app(GOLDEN / "bundle", ServeConfig(fast_predict=fast))
    with TestClient(app) as client:
        batch = client.post("/predict/batch", json=items).json()
        assert batch == [client.post("/predict", json=item).json() for item in items]


def test_fast_path_answers_the_routes_bytes_with_a_profit_interval(tmp_path):
    bundle = copy_bundle(tmp_path / "b")
    manifest = json.loads((bundle / "manifest.json").read_text())
    table = IntervalTable(0.8, (8.0, 72.0), (0.25, 1.125), 0.5, 100)
    manifest["profit_interval"] = table.to_dict()
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    fast, route = _pair(bundle)
    with fast, route:
        for raw in BODIES[:3]:
            a = fast.post("/predict", content=raw, headers={"content-type": "application/json"})
            b = route.post("/predict", content=raw, headers={"content-type": "application/json"})
            _same(a, b)
            low, high = a.json()["profit_interval_pct"]
            assert low < a.json()["predicted_profit_pct"] < high
