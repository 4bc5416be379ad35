"""The real server on hostile numbers and bodies: every number it answers is finite or the
request is a 422 naming the field; booleans and numeric strings are not numbers; one error
shape for every status; the OpenAPI document is complete (no dangling $ref, enums, errors)."""

from __future__ import annotations

import json
import math

import httpx
import pytest

from arbscore.schema import LIQUIDITY_STATUSES, MARKET_REGIMES

OK = {"symbol": "BTCUSDT", "fundProfit8h": 0.02, "fundApr": 21.9}
EXIT = {
    "entry": OK,
    "entry_time": "2026-01-01T00:00:00Z",
    "now": "2026-01-01T02:00:00Z",
    "predicted_hold_hours": 48,
    "current": {"fund_profit_8h": 0.05},
}
TINY = [5e-324, 1e-310, 2.2250738585072014e-308, 1e-300, 1e-12]
HUGE = [1e308, 1.7976931348623157e308, 1e13, -1e308]


def _post(server, path: str, body) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(server.url + path, content=raw, headers={"content-type": "application/json"})


def _floats(value):
    if isinstance(value, float):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _floats(v)
    elif isinstance(value, list):
        for v in value:
            yield from _floats(v)


def _fields(r: httpx.Response) -> list[str]:
    return [".".join(str(p) for p in e["loc"]) for e in r.json()["detail"]]


def _finite_or_422(r: httpx.Response, field: str | None = None) -> None:
    assert r.status_code in (200, 422), r.text
    body = r.json()
    if r.status_code == 200:
        # the schema says float, except profit_interval_pct: null for a bundle without one
        nullable = ("model_version", "profit_interval_pct")
        nulls = [k for k, v in body.items() if v is None and k not in nullable]
        assert not nulls, r.text
        assert all(math.isfinite(v) for v in _floats(body)), r.text
    else:
        assert body["message"] and (field is None or field in _fields(r)), r.text


def test_size_on_a_subnormal_loss_is_a_422(server):
    r = _post(
        server,
        "/size",
        {"bankroll_usd": 1000, "success_probability": 0.5, "win_pct": 1, "loss_pct": 5e-324},
    )
    assert r.status_code == 422 and "body.loss_pct" in _fields(r), r.text


@pytest.mark.parametrize("tiny", TINY)
def test_size_stays_finite_on_tiny_values(server, tiny):
    base = {"bankroll_usd": 1000, "success_probability": 0.5, "win_pct": 1.0, "loss_pct": 0.5}
    for key in ("success_probability", "win_pct", "loss_pct", "bankroll_usd"):
        _finite_or_422(_post(server, "/size", base | {key: tiny}), f"body.{key}")
    r = _post(
        server, "/size", {"bankroll_usd": 1000, "success_probability": tiny, "opportunity": OK}
    )
    _finite_or_422(r)
    r = _post(server, "/size", {"bankroll_usd": 1000, "opportunity": OK | {"fundProfit8h": tiny}})
    _finite_or_422(r)


@pytest.mark.parametrize("huge", HUGE)
def test_exit_signal_and_predict_on_huge_values(server, huge):
    r = _post(server, "/exit-signal", EXIT | {"current": {"fund_profit_8h": huge}})
    _finite_or_422(r, "body.current.fund_profit_8h")
    assert r.status_code == 422  # beyond the documented +-1e12
    for key in ("fundProfit8h", "fundApr", "volume24h", "btcPrice", "orderbookDepth"):
        r = _post(server, "/predict", OK | {key: abs(huge)})
        _finite_or_422(r)
    r = _post(server, "/size", {"bankroll_usd": huge, "opportunity": OK})
    _finite_or_422(r, "body.bankroll_usd")


def test_extremes_inside_the_limits_answer_finite_numbers(server):
    edge = 1e12
    for key in ("fundProfit8h", "fundApr", "volume24h", "bidAskSpread", "breakEvenHours"):
        for value in (edge, -edge, 1e-300):
            r = _post(server, "/predict", OK | {key: value})
            _finite_or_422(r)
    r = _post(server, "/exit-signal", EXIT | {"current": {"fund_profit_8h": edge}})
    assert r.status_code == 200 and all(math.isfinite(v) for v in _floats(r.json())), r.text
    full = {"bankroll_usd": edge, "success_probability": 1.0, "win_pct": edge, "loss_pct": 1e-6}
    r = _post(server, "/size", full)
    assert r.status_code == 200 and all(math.isfinite(v) for v in _floats(r.json())), r.text
    r = _post(server, "/size", full | {"success_probability": 1e-300, "win_pct": 1e-300})
    assert r.status_code == 200 and r.json()["full_kelly_multiple"] >= -1e9, r.text


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/predict", OK | {"fundProfit8h": True}, "body.fund_profit_8h"),
        ("/predict", OK | {"fundApr": "21.9"}, "body.fund_apr"),
        ("/predict", OK | {"hourOfDay": 3.5}, "body.hour_of_day"),
        ("/predict", OK | {"hourOfDay": False}, "body.hour_of_day"),
        ("/predict", OK | {"timestamp": 1700000000}, "body.timestamp"),
        ("/predict", OK | {"marketRegime": ""}, "body.market_regime"),
        ("/predict", OK | {"liquidityStatus": ""}, "body.liquidity_status"),
        ("/predict/batch", [OK, OK | {"volume24h": True}], "body.1.volume_24h"),
        ("/size", {"bankroll_usd": True, "opportunity": OK}, "body.bankroll_usd"),
        ("/exit-signal", EXIT | {"predicted_hold_hours": True}, "body.predicted_hold_hours"),
    ],
)
def test_booleans_and_strings_are_not_numbers(server, path, body, field):
    r = _post(server, path, body)
    assert r.status_code == 422 and field in _fields(r), r.text


def test_categories_match_in_any_case(server):
    r = _post(server, "/predict", OK | {"marketRegime": "bull", "liquidityStatus": "GOOD"})
    assert r.status_code == 200, r.text


def test_a_5000_digit_integer_is_a_clean_422(server):
    raw = b'{"symbol": "BTCUSDT", "fundProfit8h": 0.02, "fundApr": ' + b"7" * 5000 + b"}"
    r = _post(server, "/predict", raw)
    assert r.status_code == 422 and _fields(r) == ["body.fund_apr"], r.text
    for internal in ("int_max_str_digits", "sys.set", "Exceeds the limit", "4300"):
        assert internal not in r.text
    r = _post(server, "/predict", OK | {"hourOfDay": 10**40})
    assert r.status_code == 422 and _fields(r) == ["body.hour_of_day"], r.text


MALFORMED = [b"{oops", b"", b"\xff\xfe", b"[" * 50_000]
POSTS = ["/predict", "/predict/batch", "/size", "/exit-signal", "/reload"]


# (an empty /reload body is not malformed: it means "reload the bundle being served")
@pytest.mark.parametrize(
    ("path", "raw"),
    [(p, raw) for p in POSTS for raw in MALFORMED if (p, raw) != ("/reload", b"")],
)
def test_malformed_json_is_a_400_everywhere(server, path, raw):
    r = _post(server, path, raw)
    assert r.status_code == 400, r.text
    body = r.json()
    assert set(body) == {"detail", "message"} and body["detail"][0]["loc"] == ["body"]
    assert "Expecting" not in body["message"] or "line 1" in body["message"]


def test_one_error_shape_for_every_status(server):
    answers = [
        httpx.get(server.url + "/no/such/path"),  # 404
        httpx.delete(server.url + "/predict"),  # 405
        _post(server, "/predict", OK | {"note": "x" * server.max_body}),  # 413
        _post(server, "/predict/batch", [OK] * (server.max_batch + 1)),  # 413
        _post(server, "/predict", {"symbol": "X"}),  # 422
        _post(server, "/reload", {"bundle": "/etc"}),  # 404 (not under the root)
    ]
    assert [r.status_code for r in answers] == [404, 405, 413, 413, 422, 404]
    for r in answers:
        body = r.json()
        assert set(body) == {"detail", "message"}, r.text
        assert body["message"] and all(set(e) == {"loc", "msg", "type"} for e in body["detail"])
    assert answers[1].headers["allow"] == "POST"


def _refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                yield v
            else:
                yield from _refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _refs(v)


def test_openapi_document_is_complete(server):
    doc = httpx.get(server.url + "/openapi.json").json()
    schemas = doc["components"]["schemas"]
    for ref in _refs(doc):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref
    assert "CurrentState" in schemas
    opp = schemas["Opportunity"]["properties"]
    enum_of = {
        k: next(a["enum"] for a in opp[k]["anyOf"] if "enum" in a)
        for k in ("liquidity_status", "market_regime")
    }
    assert enum_of == {
        "liquidity_status": list(LIQUIDITY_STATUSES),
        "market_regime": list(MARKET_REGIMES),
    }
    assert opp["strategy"]["enum"] == ["spot_perp", "perp_perp"]
    for path in ("/predict", "/predict/batch", "/size", "/exit-signal", "/reload"):
        responses = doc["paths"][path]["post"]["responses"]
        assert {"400", "413", "422"} <= set(responses), (path, list(responses))
        assert responses["422"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorBody"
        }
    assert {"401", "403", "404"} <= set(doc["paths"]["/reload"]["post"]["responses"])
    batch = doc["paths"]["/predict/batch"]["post"]["requestBody"]["content"]
    assert batch["application/json"]["schema"]["maxItems"] == server.max_batch


def test_exit_signal_applies_the_signal_rule_over_http(server):
    """``current.trailing_edge_pct`` <= 0 exits by the simulator's signal rule; > 0 holds."""
    flipped = _post(
        server,
        "/exit-signal",
        EXIT | {"current": {"fund_profit_8h": 0.05, "trailing_edge_pct": -0.01}},
    )
    assert flipped.status_code == 200, flipped.text
    assert (flipped.json()["action"], flipped.json()["reason"]) == ("exit", "signal_exit")
    earning = _post(
        server,
        "/exit-signal",
        EXIT | {"current": {"fund_profit_8h": 0.05, "trailing_edge_pct": 0.2}},
    )
    assert earning.status_code == 200, earning.text
    assert earning.json()["reason"] != "signal_exit"
    assert earning.json()["details"]["trailing_edge_pct"] == 0.2


def test_ensure_finite_refuses_every_non_finite_float_by_name():
    import numpy as np

    from arbscore.serve.errors import BadRequest
    from arbscore.serve.handlers import ensure_finite

    ensure_finite({"a": 1.0, "b": "x", "c": {"d": 2.0}, "e": None, "f": 3}, ["body"])
    for row, name in (
        ({"a": 1.0, "kelly_full": float("inf")}, "kelly_full"),
        ({"p": float("nan")}, "p"),
        ({"q": np.float64("-inf")}, "q"),
        ({"r": {"s": 1.0, "t": float("nan")}}, "r"),
    ):
        with pytest.raises(BadRequest) as err:
            ensure_finite(row, ["body", 3])
        assert err.value.status == 422 and name in err.value.errors[0]["msg"]
        assert err.value.errors[0]["loc"] == ["body", 3]
