"""The real server over HTTP: the guide's curl examples, the contract, and every bad input
(4xx naming the field; the server keeps serving)."""

from __future__ import annotations

import json
import shutil
import subprocess

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

CONTRACT = {
    "predicted_profit_pct",
    "success_probability",
    "predicted_hold_hours",
    "composite_score",
    "model_version",
}
#: added for a bot to act on (the contract's five fields keep their names)
ANSWER = CONTRACT | {
    "decision",
    "notional_usd",
    "expected_pnl_usd",
    "filled_defaults",
    "capital_usd",
    "return_on_capital_pct",
    "evaluated_at_hold_hours",
}
ANSWER |= {"profit_interval_pct"}  # null: this bundle carries no interval
# the guide's example body, with its "..." placeholder left out
GUIDE_BODY = (
    '{"symbol": "BTCUSDT", "fundProfit8h": -0.0242, "fundApr": -10.63, "volume24h": 1500000000}'
)


def curl(*args: str) -> dict:
    out = subprocess.run(
        ["curl", "-sS", *args], capture_output=True, text=True, timeout=30, check=True
    )
    return json.loads(out.stdout)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_guide_curl_examples(server):
    from arbscore import __version__

    health = curl(f"{server.url}/health")
    assert {k: health[k] for k in ("status", "service", "version")} == {
        "status": "healthy",
        "service": "ml-api",
        "version": __version__,
    }
    body = curl(
        "-X",
        "POST",
        f"{server.url}/predict",
        "-H",
        "Content-Type: application/json",
        "-d",
        GUIDE_BODY,
    )
    assert set(body) == ANSWER
    assert 0 <= body["success_probability"] <= 1 and 0 <= body["composite_score"] <= 100
    assert body["predicted_hold_hours"] >= 0


def test_health_contract(server):
    r = httpx.get(server.url + "/health")
    assert r.status_code == 200
    body = r.json()
    assert (body["status"], body["service"]) == ("healthy", "ml-api") and body["version"]


def test_camel_and_snake_case_agree(server):
    camel = json.loads(GUIDE_BODY) | {"hourOfDay": 3, "dayOfWeek": 2, "bidAskSpread": 0.02}
    snake = {
        "symbol": "BTCUSDT",
        "fund_profit_8h": -0.0242,
        "fund_apr": -10.63,
        "volume_24h": 1500000000,
        "hour_of_day": 3,
        "day_of_week": 2,
        "bid_ask_spread": 0.02,
    }
    a = httpx.post(server.url + "/predict", json=camel).json()
    b = httpx.post(server.url + "/predict", json=snake).json()
    assert a == b and set(a) == ANSWER


def test_predictions_equal_the_golden_values(server, golden):
    batch = httpx.post(server.url + "/predict/batch", json=golden["records"]).json()
    singles = [httpx.post(server.url + "/predict", json=r).json() for r in golden["records"]]
    for got, one, want in zip(batch, singles, golden["predictions"], strict=True):
        for key in CONTRACT - {"model_version"}:
            assert got[key] == pytest.approx(want[key], rel=1e-5, abs=1e-5)
            assert one[key] == pytest.approx(want[key], rel=1e-5, abs=1e-5)


def test_batch_keeps_order(server, golden):
    records = golden["records"][::-1]
    got = httpx.post(server.url + "/predict/batch", json=records).json()
    want = golden["predictions"][::-1]
    assert [g["predicted_profit_pct"] for g in got] == pytest.approx(
        [w["predicted_profit_pct"] for w in want], rel=1e-5
    )
    assert httpx.post(server.url + "/predict/batch", json=[]).json() == []


def test_models_metrics_openapi(server):
    manifest = httpx.get(server.url + "/models").json()
    assert set(manifest["heads"]) == {"profit", "success", "duration"} and manifest["files"]
    httpx.post(server.url + "/predict", content=b"{oops")
    httpx.get(server.url + "/no-such-path")
    reply = httpx.get(server.url + "/metrics")
    assert reply.headers["content-type"].startswith("text/plain")
    # the scrape parses with Prometheus' own parser, and every promised family is in it
    families = {f.name: f for f in text_string_to_metric_families(reply.text)}
    assert families["arbscore_requests"].type == "counter"
    assert families["arbscore_request_errors"].type == "counter"
    assert families["arbscore_request_duration_seconds"].type == "histogram"
    requests = {
        tuple(s.labels[k] for k in ("path", "method", "status")): s.value
        for s in families["arbscore_requests"].samples
        if s.name == "arbscore_requests_total"
    }
    assert requests[("/predict", "POST", "200")] >= 1
    assert requests[("other", "GET", "404")] >= 1  # unknown paths never become labels
    errors = {
        (s.labels["path"], s.labels["status"])
        for s in families["arbscore_request_errors"].samples
        if s.name == "arbscore_request_errors_total"
    }
    assert ("/predict", "400") in errors
    buckets = [
        s
        for s in families["arbscore_request_duration_seconds"].samples
        if s.name.endswith("_bucket") and s.labels["path"] == "/predict"
    ]
    assert buckets[-1].labels["le"] == "+Inf" and buckets[-1].value >= 2
    paths = httpx.get(server.url + "/openapi.json").json()["paths"]
    assert {"/predict", "/predict/batch", "/size", "/exit-signal", "/reload", "/models"} <= set(
        paths
    )
    assert "requestBody" in paths["/predict"]["post"]


def _fields(response: httpx.Response) -> list[str]:
    return [".".join(str(p) for p in e["loc"]) for e in response.json()["detail"]]


OK = json.loads(GUIDE_BODY)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b"{not json", 400, "body"),
        (b"", 400, "body"),
        (json.dumps(OK | {"fundApr": "abc"}).encode(), 422, "body.fund_apr"),
        (json.dumps(OK | {"hourOfDay": 25}).encode(), 422, "body.hour_of_day"),
        (b'{"symbol": "BTCUSDT", "fundProfit8h": NaN, "fundApr": 1.0}', 422, "body.fund_profit_8h"),
        (b'{"symbol": "BTCUSDT", "fundProfit8h": 0.01, "fundApr": Infinity}', 422, "body.fund_apr"),
        (b'{"symbol": "BTCUSDT", "fundProfit8h": 0.01, "fundApr": 1e999}', 422, "body.fund_apr"),
        (json.dumps({"symbol": "BTCUSDT", "fundProfit8h": 0.01}).encode(), 422, "body.fund_apr"),
        (json.dumps({"fundProfit8h": 0.01, "fundApr": 1}).encode(), 422, "body.symbol"),
        (json.dumps(OK | {"strategy": "triangular"}).encode(), 422, "body.strategy"),
        (json.dumps(OK | {"liquidityStatus": "Huge"}).encode(), 422, "body.liquidity_status"),
        (json.dumps(OK | {"holdHours": -3}).encode(), 422, "body.hold_hours"),
        (json.dumps([OK]).encode(), 422, "body"),
    ],
)
def test_bad_single_inputs(server, body, status, field):
    r = httpx.post(
        server.url + "/predict", content=body, headers={"content-type": "application/json"}
    )
    assert r.status_code == status, r.text
    assert field in _fields(r), r.text
    assert field.split(".")[-1] in r.json()["message"] or field == "body"


def test_bad_batch_inputs(server):
    r = httpx.post(server.url + "/predict/batch", json=[OK] * (server.max_batch + 1))
    assert r.status_code == 413 and f"limit of {server.max_batch}" in r.json()["message"]
    r = httpx.post(server.url + "/predict/batch", json=[OK, OK | {"fundApr": None}, OK])
    assert r.status_code == 422 and "body.1.fund_apr" in _fields(r)
    r = httpx.post(server.url + "/predict/batch", json=OK)
    assert r.status_code == 422 and _fields(r) == ["body"]


def test_body_over_the_size_limit(server):
    big = json.dumps(OK | {"note": "x" * server.max_body}).encode()
    r = httpx.post(
        server.url + "/predict", content=big, headers={"content-type": "application/json"}
    )
    assert r.status_code == 413 and _fields(r) == ["body"]

    def chunks():  # no Content-Length: the limit must still hold
        for _ in range(20):
            yield b" " * 8192

    r = httpx.post(server.url + "/predict", content=chunks())
    assert r.status_code == 413


def test_server_keeps_serving_after_bad_inputs(server):
    for body in (b"{", b"[]", b'{"symbol": 1}', b"null", b"\xff\xfe"):
        assert httpx.post(server.url + "/predict", content=body).status_code in (400, 422)
    assert server.proc.poll() is None
    assert httpx.post(server.url + "/predict", json=OK).status_code == 200


def test_size_endpoint(server):
    r = httpx.post(
        server.url + "/size",
        json={"bankroll_usd": 10000, "success_probability": 0.6, "win_pct": 1.0, "loss_pct": 0.5},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["limited_by"] == "max_fraction" and body["notional_usd"] == pytest.approx(2000)
    r = httpx.post(server.url + "/size", json={"bankroll_usd": 10000, "opportunity": OK})
    assert r.status_code == 200 and r.json()["model_version"]
    r = httpx.post(server.url + "/size", json={"bankroll_usd": 10000, "success_probability": 0.6})
    assert r.status_code == 422 and "win_pct" in r.json()["message"]
    r = httpx.post(server.url + "/size", json={"bankroll_usd": -1, "opportunity": OK})
    assert r.status_code == 422 and "body.bankroll_usd" in _fields(r)
    r = httpx.post(server.url + "/size", json={"bankroll_usd": 1, "opportunity": {"symbol": "X"}})
    assert r.status_code == 422 and "body.opportunity.fund_profit_8h" in _fields(r)


def test_exit_signal_endpoint(server):
    base = {
        "entry": OK | {"bidAskSpread": 0.02},
        "entry_time": "2026-01-01T00:00:00Z",
        "now": "2026-01-01T02:00:00Z",
        "predicted_hold_hours": 48,
        "current": {"fund_profit_8h": 0.05},
    }
    r = httpx.post(server.url + "/exit-signal", json=base)
    assert r.status_code == 200 and r.json()["action"] == "hold", r.text
    flipped = base | {"current": {"fund_profit_8h": -0.01}}
    assert (
        httpx.post(server.url + "/exit-signal", json=flipped).json()["reason"] == "funding_flipped"
    )
    late = base | {"now": "2026-01-03T01:00:00Z"}
    assert (
        httpx.post(server.url + "/exit-signal", json=late).json()["reason"]
        == "optimal_hold_reached"
    )
    model = {k: v for k, v in base.items() if k != "predicted_hold_hours"}
    r = httpx.post(server.url + "/exit-signal", json=model)
    assert r.status_code == 200 and r.json()["model_version"]
    r = httpx.post(server.url + "/exit-signal", json=base | {"now": "2025-12-31T00:00:00Z"})
    assert r.status_code == 422 and "body.entry_time" in _fields(r)
    r = httpx.post(server.url + "/exit-signal", json={"entry": OK, "current": {}})
    assert r.status_code == 422 and {"body.entry_time", "body.current.fund_profit_8h"} <= set(
        _fields(r)
    )


def test_answer_names_its_hold_and_its_return_on_capital(server):
    """Profit is % of one leg's notional; return_on_capital_pct the same profit on both legs'
    margin (spot_perp: notional x (1 + 1/leverage), perp_perp: notional x 2/leverage, the
    default leverage 2); evaluated_at_hold_hours is the caller's hold, else the predicted one."""
    from arbscore.schema import HOLD_GRID_HOURS, capital_per_notional

    base = json.loads(GUIDE_BODY)
    rows = [base | {"holdHours": 24}, base | {"strategy": "perp_perp"}, base]
    answers = httpx.post(server.url + "/predict/batch", json=rows).json()
    given, perp, free = answers
    assert given["evaluated_at_hold_hours"] == 24.0
    # no hold given: the predicted hold, clipped to the (golden bundle's default) hold grid
    lo, hi = min(HOLD_GRID_HOURS), max(HOLD_GRID_HOURS)
    assert free["evaluated_at_hold_hours"] == min(max(free["predicted_hold_hours"], lo), hi)
    for answer, spot in ((given, True), (perp, False)):
        multiple = capital_per_notional(spot)
        assert answer["capital_usd"] == pytest.approx(answer["notional_usd"] * multiple)
        assert answer["return_on_capital_pct"] == pytest.approx(
            answer["predicted_profit_pct"] / multiple, rel=1e-5
        )
    assert (capital_per_notional(True), capital_per_notional(False)) == (1.5, 1.0)
