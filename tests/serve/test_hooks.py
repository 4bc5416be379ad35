"""Extension points used by arbscore.ops: the prediction sink and extra /metrics collectors."""

from __future__ import annotations

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from serve_helpers import GOLDEN

from arbscore.serve.app import ServeConfig, create_app

BODY = {"symbol": "BTCUSDT", "fundProfit8h": 0.02, "fundApr": 21.9, "legId": "abc"}


def test_sink_sees_records_predictions_and_raw_items():
    calls = []
    app = create_app(GOLDEN / "bundle", ServeConfig(prediction_sink=lambda *a: calls.append(a)))
    with TestClient(app) as client:
        one = client.post("/predict", json=BODY).json()
        many = client.post("/predict/batch", json=[BODY, BODY | {"fundApr": 5.0}]).json()
    assert len(calls) == 2
    scorer, records, predictions, raw = calls[0]
    assert scorer.model_version == one["model_version"] and predictions == [one]
    assert records[0]["fund_profit_8h"] == 0.02 and raw == [BODY]
    assert calls[1][2] == many and calls[1][3][1]["fundApr"] == 5.0


def test_failing_sink_and_collector_do_not_fail_requests():
    def broken(*_):
        raise RuntimeError("store down")

    app = create_app(GOLDEN / "bundle", ServeConfig(prediction_sink=broken))
    app.state.metrics.add_collector(lambda: "ops_drift_psi 0.1\n")
    app.state.metrics.add_collector(lambda: 1 / 0)
    with TestClient(app) as client:
        assert client.post("/predict", json=BODY).status_code == 200
        text = client.get("/metrics").text
    assert "ops_drift_psi 0.1" in text and "collector" in text and "failed" in text
    assert _predict_200(text) == 1


def test_each_app_has_its_own_registry():
    # two apps in one process: neither sees the other's requests (no global registry)
    first, second = create_app(GOLDEN / "bundle"), create_app(GOLDEN / "bundle")
    with TestClient(first) as a, TestClient(second) as b:
        a.post("/predict", json=BODY)
        a.post("/predict", json=BODY)
        b.post("/predict", json=BODY)
        text_a, text_b = a.get("/metrics").text, b.get("/metrics").text
    assert _predict_200(text_a) == 2 and _predict_200(text_b) == 1


def _predict_200(text: str) -> float:
    """``arbscore_requests_total{path="/predict",method="POST",status="200"}`` of a scrape."""
    want = {"path": "/predict", "method": "POST", "status": "200"}
    (value,) = [
        s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == "arbscore_requests_total" and s.labels == want
    ]
    return value
