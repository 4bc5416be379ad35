"""Arbitrary JSON never gets a 5xx: Hypothesis-drawn values in every field and as the body."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from serve_helpers import GOLDEN

from arbscore.serve.app import ServeConfig, create_app

FIELDS = [
    "symbol",
    "fundProfit8h",
    "fundApr",
    "strategy",
    "volume24h",
    "bidAskSpread",
    "liquidityStatus",
    "marketRegime",
    "hourOfDay",
    "dayOfWeek",
    "holdHours",
    "timestamp",
    "breakEvenHours",
    "orderbookDepth",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
BASE = {"symbol": "BTCUSDT", "fundProfit8h": 0.02, "fundApr": 21.9}


@pytest.fixture(scope="module")
def client():
    app = create_app(GOLDEN / "bundle", ServeConfig(max_batch=20, max_body_bytes=16 * 1024))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _post(client, path, obj):
    body = json.dumps(obj, allow_nan=True).encode()  # NaN/Infinity literals on purpose
    return client.post(path, content=body, headers={"content-type": "application/json"})


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(field=st.sampled_from(FIELDS), value=values)
def test_any_field_value_is_4xx_or_200(client, field, value):
    r = _post(client, "/predict", BASE | {field: value})
    assert r.status_code in (200, 400, 413, 422), r.text
    if r.status_code == 422:
        assert r.json()["detail"] and r.json()["message"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=values,
    path=st.sampled_from(["/predict", "/predict/batch", "/size", "/exit-signal", "/reload"]),
)
def test_any_body_is_4xx_or_200(client, body, path):
    if path == "/reload" and isinstance(body, dict) and "bundle" in body:
        body = {"bundle": 1}
    r = _post(client, path, body)
    assert r.status_code < 500, r.text
