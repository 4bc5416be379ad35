"""One request path: the in-process ``Scorer.predict_records`` answers exactly what a real
``arbscore serve`` answers over HTTP (bit for bit, every field), on Hypothesis-drawn records
in camelCase and snake_case, and refuses the same records with the same errors."""

from __future__ import annotations

from datetime import datetime, timezone

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arbscore.data_tools.features import normalise_keys
from arbscore.serve.records import RecordError
from arbscore.serve.scorer import Scorer

SNAKE_TO_CAMEL = {
    "fund_profit_8h": "fundProfit8h",
    "fund_apr": "fundApr",
    "fund_profit_24h_proj": "fundProfit24hProj",
    "fund_profit_3d_proj": "fundProfit3dProj",
    "volume_24h": "volume24h",
    "bid_ask_spread": "bidAskSpread",
    "orderbook_depth": "orderbookDepth",
    "hour_of_day": "hourOfDay",
    "day_of_week": "dayOfWeek",
    "hold_hours": "holdHours",
    "notional_usd": "notionalUsd",
}

money = st.floats(-5.0, 5.0, allow_nan=False, width=32)
optional = {
    "fund_profit_24h_proj": money,
    "fund_profit_3d_proj": money,
    "volume_24h": st.floats(0, 1e10, allow_nan=False),
    "bid_ask_spread": st.floats(0, 1.0, allow_nan=False),
    "orderbook_depth": st.floats(0, 1e8, allow_nan=False),
    "liquidity_status": st.sampled_from(["Good", "medium", "LOW"]),
    "market_regime": st.sampled_from(["Bull", "bear", "Ranging"]),
    "strategy": st.sampled_from(["spot_perp", "perp_perp"]),
    "hold_hours": st.floats(0.5, 168, allow_nan=False),
    "notional_usd": st.floats(1.0, 1e7, allow_nan=False),
    "timestamp": st.sampled_from(["2026-01-01T08:00:00Z", "2026-03-07T23:59:59+02:00"]),
    "hour_of_day": st.integers(0, 23),
    "day_of_week": st.integers(0, 6),
}


@st.composite
def records(draw) -> dict:
    rec = {"symbol": "BTCUSDT", "fund_profit_8h": draw(money), "fund_apr": draw(money) * 100}
    for name in draw(st.sets(st.sampled_from(sorted(optional)))):
        rec[name] = draw(optional[name])
    if draw(st.booleans()):  # camelCase, as the guide's C# client sends
        rec = {SNAKE_TO_CAMEL.get(k, k): v for k, v in rec.items()}
    return rec


@pytest.fixture(scope="module")
def scorer(server) -> Scorer:
    return Scorer(server.bundle)  # the very bundle the server serves


def _http_and_inproc(server, scorer, batch):
    # no timestamp/hour: both take the clock; retry across an hour boundary
    for _ in range(3):
        before = datetime.now(timezone.utc)
        got = httpx.post(server.url + "/predict/batch", json=batch, timeout=30)
        want = scorer.predict_records(batch, now=before)
        if datetime.now(timezone.utc).hour == before.hour:
            return got, want
    raise AssertionError("clock kept crossing an hour")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=st.lists(records(), min_size=1, max_size=4))
def test_inproc_equals_http_bit_for_bit(server, scorer, batch):
    got, want = _http_and_inproc(server, scorer, batch)
    assert got.status_code == 200, got.text
    assert got.json() == want  # floats compared exactly (JSON round-trips repr)
    single = httpx.post(server.url + "/predict", json=batch[0], timeout=30)
    assert single.json() == want[0]
    for rec, answer in zip(batch, want, strict=True):
        snake = normalise_keys(rec)
        assert set(answer["filled_defaults"]).isdisjoint(snake)
        assert answer["decision"] in ("enter", "skip")


@pytest.mark.parametrize(
    "record",
    [
        {"symbol": "BTCUSDT"},
        {"symbol": "BTCUSDT", "fundProfit8h": 5.0},
        {"symbol": "BTCUSDT", "fund_profit_8h": 0.01, "fund_apr": "10"},
        {"symbol": "BTCUSDT", "fund_profit_8h": 0.01, "fund_apr": 10.0, "strategy": "x"},
        {"symbol": "BTCUSDT", "fundProfit8h": 0.01, "fundApr": 10.0, "holdHours": -1.0},
    ],
)
def test_same_errors(server, scorer, record):
    r = httpx.post(server.url + "/predict/batch", json=[record], timeout=30)
    assert r.status_code == 422
    with pytest.raises(RecordError) as err:
        scorer.predict_records([record])
    # HTTP paths start with "body"; the in-process ones at the record's index
    assert [{**e, "loc": e["loc"][1:]} for e in r.json()["detail"]] == err.value.errors
    assert err.value.status == 422


def test_camel_case_is_read_in_process(scorer):
    base = {"symbol": "BTCUSDT", "fund_apr": 10.0, "hour_of_day": 3, "day_of_week": 1}
    camel = scorer.predict_records([{**base, "fundProfit8h": 0.5}])[0]
    snake = scorer.predict_records([{**base, "fund_profit_8h": 0.5}])[0]
    other = scorer.predict_records([{**base, "fund_profit_8h": -0.5}])[0]
    assert camel == snake and camel != other
    assert "fund_profit_24h_proj" in camel["filled_defaults"]
    assert "hour_of_day" not in camel["filled_defaults"]


def test_health_and_models_describe_the_bundle(server, tmp_path):
    from serve_helpers import start_serve, stop_serve

    health = httpx.get(server.url + "/health").json()
    manifest = httpx.get(server.url + "/models").json()
    assert health["status"] == "healthy" and health["max_model_age_days"] is None
    assert health["synthetic"] == manifest["training_data"].get("synthetic")  # None: unrecorded
    assert health["created_at"] == manifest["created_at"] and health["age_days"] > 0
    assert manifest["entry_rule"] == {
        "min_success_probability": 0.5,
        "min_expected_profit_pct": 0.0,
    }
    # a limit under the bundle's age: stale, still serving
    limit = health["age_days"] / 2
    old = start_serve(tmp_path, server.bundle, ["--max-model-age-days", str(limit)])
    try:
        stale = httpx.get(old.url + "/health")
        assert stale.status_code == 200
        assert stale.json()["status"] == "stale" and stale.json()["max_model_age_days"] == limit
    finally:
        stop_serve(old)


def test_size_names_its_units(server):
    body = {"bankroll_usd": 10_000.0, "success_probability": 0.6, "win_pct": 1.0, "loss_pct": 0.5}
    got = httpx.post(server.url + "/size", json=body).json()
    assert {"bankroll_fraction", "full_kelly_multiple", "notional_usd", "edge_pct"} <= set(got)
    assert "kelly_full" not in got and "fraction" not in got
    assert got["full_kelly_multiple"] == pytest.approx(0.6 / 0.005 - 0.4 / 0.01)
    assert got["notional_usd"] == round(got["notional_usd"], 2)
