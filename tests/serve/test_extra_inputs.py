"""``/predict`` hears every input the bundle's models read: a bundle trained with the
opportunity stage's extra inputs (``basis_pct``, ``round_trip_cost_pct``, ...) answers the same
over HTTP (a real ``arbscore serve``), in process (``Scorer.predict_records``) and through the
raw-input ONNX graph, on Hypothesis records carrying those inputs in camelCase and snake_case;
and every input left out is listed in ``filled_defaults``."""

from __future__ import annotations

import json
import math

import httpx
import numpy as np
import onnxruntime as ort
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from serve_helpers import start_serve, stop_serve

from arbscore.conformal import IntervalTable
from arbscore.data_tools.features.keys import camel_case
from arbscore.export.bundle import export_families
from arbscore.export.demo import extras_spec, fit_demo_families
from arbscore.export.interval import PROFIT_INTERVAL_KEY
from arbscore.export.onnx_raw import INTERVAL_OUTPUT, PREDICTIONS
from arbscore.schema import EXTRA_FEATURE_COLUMNS
from arbscore.serve.scorer import Scorer

TOL = 1e-5  # relative; the served answers are rounded to 6 significant digits
#: a profit interval between the grid's holds, so the served (predicted) hold interpolates
INTERVAL = IntervalTable(0.8, (8.0, 72.0, 336.0), (0.5, 1.5, 4.0), 2.0, 300)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("extras")
    fitted, spec, _ = fit_demo_families(
        ("xgboost",), n_opportunities=300, seed=5, spec=extras_spec()
    )
    xgb = fitted["xgboost"]
    export_families(
        {h: ("xgboost", xgb) for h in ("profit", "success", "duration")},
        spec,
        tmp / "b",
        terms={PROFIT_INTERVAL_KEY: INTERVAL.to_dict()},
    )
    srv = start_serve(tmp, tmp / "b", [])
    yield srv
    stop_serve(srv)


@pytest.fixture(scope="module")
def scorer(server) -> Scorer:
    return Scorer(server.bundle)


money = st.floats(-5.0, 5.0, allow_nan=False, width=32)


@st.composite
def records(draw) -> dict:
    # the fields whose request default differs from the raw graph's (clock, fund_profit_8h,
    # spot_perp) are always given; the rest, the extras among them, may be left out
    f8 = draw(money)
    rec = {
        "symbol": "BTCUSDT",
        "strategy": draw(st.sampled_from(["spot_perp", "perp_perp"])),
        "fund_profit_8h": f8,
        "fund_apr": f8 * 1095,
        "fund_profit_24h_proj": draw(money),
        "fund_profit_3d_proj": draw(money),
        "hour_of_day": draw(st.integers(0, 23)),
        "day_of_week": draw(st.integers(0, 6)),
    }
    for name in draw(st.sets(st.sampled_from(EXTRA_FEATURE_COLUMNS), min_size=1)):
        rec[name] = draw(st.floats(0.0, 2.0, allow_nan=False, width=32))
    if draw(st.booleans()):
        rec["hold_hours"] = draw(st.sampled_from([8.0, 24.0, 72.0]))
    if draw(st.booleans()):  # camelCase, as a C# or JS client sends
        rec = {camel_case(k): v for k, v in rec.items()}
    return rec


def raw_graph(bundle, batch: list[dict]) -> list[dict]:
    """The raw-input ONNX graph on ``batch``, fed by the manifest's input names (camelCase, or
    the snake_case field), a missing number as NaN, as a bot without arbscore would."""
    manifest = json.loads((bundle / "manifest.json").read_text())
    raw = manifest["raw_input"]
    sess = ort.InferenceSession(str(bundle / raw["file"]), providers=["CPUExecutionProvider"])
    feeds = {}
    for inp in raw["inputs"]:
        values = [r.get(inp["name"], r.get(inp["field"])) for r in batch]
        if inp["type"] == "string":
            feeds[inp["name"]] = np.array(["" if v is None else str(v) for v in values], object)
        else:
            feeds[inp["name"]] = np.array([math.nan if v is None else float(v) for v in values])
    names = [*PREDICTIONS, INTERVAL_OUTPUT]
    out = dict(zip(names, sess.run(names, feeds), strict=True))
    return [
        {k: (out[k][i].tolist() if k == INTERVAL_OUTPUT else float(out[k][i])) for k in names}
        for i in range(len(batch))
    ]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=st.lists(records(), min_size=1, max_size=4))
def test_http_equals_inprocess_equals_raw_graph_with_extra_inputs(server, scorer, batch):
    got = httpx.post(server.url + "/predict/batch", json=batch, timeout=30)
    assert got.status_code == 200, got.text
    http = got.json()
    assert http == scorer.predict_records(batch)
    for i, (h, r) in enumerate(zip(http, raw_graph(server.bundle, batch), strict=True)):
        for k in PREDICTIONS:
            assert abs(h[k] - r[k]) <= TOL * max(1.0, abs(r[k])), (i, k, h[k], r[k])
        for got, want in zip(h[INTERVAL_OUTPUT], r[INTERVAL_OUTPUT], strict=True):
            assert abs(got - want) <= TOL * max(1.0, abs(want)), (i, h, r)


def test_an_extra_input_moves_the_answer_and_absent_ones_are_listed(server):
    base = {"symbol": "ETHUSDT", "fundProfit8h": 0.02, "fundApr": 21.9, "holdHours": 72.0}
    low = httpx.post(server.url + "/predict", json={**base, "roundTripCostPct": 0.1}).json()
    high = httpx.post(server.url + "/predict", json={**base, "round_trip_cost_pct": 0.6}).json()
    assert low["predicted_profit_pct"] > high["predicted_profit_pct"]
    defaulted = set(EXTRA_FEATURE_COLUMNS) - {"round_trip_cost_pct"}
    assert defaulted <= set(low["filled_defaults"])
    assert "round_trip_cost_pct" not in low["filled_defaults"]
    assert "round_trip_cost_pct" not in high["filled_defaults"]


def test_an_extra_input_is_validated_like_the_rest(server):
    bad = {"symbol": "ETHUSDT", "fundProfit8h": 0.02, "fundApr": 21.9, "basisPct": "0.5"}
    got = httpx.post(server.url + "/predict", json=bad)
    assert got.status_code == 422
    assert ["body", "basis_pct"] in [e["loc"] for e in got.json()["detail"]]
    neg = {**bad, "basisPct": 0.5, "roundTripCostPct": -1.0}
    got = httpx.post(server.url + "/predict", json=neg)
    assert got.status_code == 422
    assert ["body", "round_trip_cost_pct"] in [e["loc"] for e in got.json()["detail"]]


def test_the_manifest_lists_every_input_with_its_aliases(server):
    manifest = json.loads((server.bundle / "manifest.json").read_text())
    inputs = {i["name"]: i for i in manifest["inputs"]}
    assert set(EXTRA_FEATURE_COLUMNS) <= set(inputs)
    assert inputs["basis_pct"]["aliases"] == ["basisPct"]
    assert "bidAskSpreadPercent" in inputs["bid_ask_spread"]["aliases"]
    assert "fundProfit8h24hProj" in inputs["fund_profit_24h_proj"]["aliases"]
    assert inputs["hold_hours"]["maximum"] == max(manifest["hold_grid_hours"])
    assert inputs["fund_profit_8h"]["required"] and not inputs["basis_pct"]["required"]


def test_the_interval_is_the_tables_width_around_the_profit_at_the_served_hold(server, scorer):
    rec = {"symbol": "ETHUSDT", "fundProfit8h": 0.02, "fundApr": 21.9}
    for hold, width in ((8.0, 0.5), (40.0, 1.0), (72.0, 1.5), (720.0, 4.0)):
        got = httpx.post(server.url + "/predict", json={**rec, "holdHours": hold}).json()
        low, high = got["profit_interval_pct"]
        assert low == pytest.approx(got["predicted_profit_pct"] - width, abs=1e-5)
        assert high == pytest.approx(got["predicted_profit_pct"] + width, abs=1e-5)
    manifest = json.loads((server.bundle / "manifest.json").read_text())
    assert manifest[PROFIT_INTERVAL_KEY]["coverage"] == 0.8
    outputs = [o["name"] for o in manifest["raw_input"]["outputs"]]
    assert INTERVAL_OUTPUT in outputs
