"""The raw-input graph: raw opportunity fields in, the served predictions out.

Proven against the in-process Scorer (which /predict calls) from a fresh interpreter that has
only onnxruntime and numpy (tests/export/raw_client.py, run with ``python -I``), on Hypothesis
records: camelCase and snake_case keys, missing and NaN fields, odd spellings and unknown
categories, extreme numbers. The feature layer alone is checked for exact equality (a zero's
sign aside) against ``build_rows``, also for a spec with the opportunity stage's extra columns.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import onnxruntime as ort
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto
from raw_helpers import BUNDLE, HERE, assert_close, run_client, spelling

from arbscore.composite import composite_score
from arbscore.data_tools.features import FeatureSpec, build_rows
from arbscore.data_tools.features.columns import KNOWN_EXTRA_NUMERIC, RAW_NUMERIC
from arbscore.data_tools.features.keys import _STRATEGY_ALIASES, normalise_key, normalise_keys
from arbscore.export.manifest import read_manifest
from arbscore.export.onnx_features import camel_key, feature_matrix, raw_inputs
from arbscore.export.onnx_graph import Graph
from arbscore.export.onnx_raw import PREDICTIONS, RAW_FILE
from arbscore.schema import HEADS, HOLD_COLUMN, LIQUIDITY_STATUSES, MARKET_REGIMES, STRATEGIES
from arbscore.serve.scorer import Scorer

ANGLE_FIELDS = ("hour_of_day", "day_of_week")  # |v| <= 1e6: onnx_trig's exact range

WORDS = [*STRATEGIES, *_STRATEGY_ALIASES, *MARKET_REGIMES, *LIQUIDITY_STATUSES, "CFFF", "x"]
# unicode spaces, the Kelvin sign (lower() -> 'k'), long s and dotted I (lower() is not ASCII)
ODD = " \t\n\u00a0\u2003\u3000-_KkSs\u017f\u0130\u212aPpEeRrOoTtCcAaNnDdBbUuLlGgMmIiWwYy"


@st.composite
def category(draw):
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return None
    if kind == 1:
        return draw(st.sampled_from(WORDS))
    if kind == 2:
        return spelling(draw(st.sampled_from(WORDS)), draw).replace(
            "_", draw(st.sampled_from("_ -"))
        )
    return draw(st.text(st.sampled_from(ODD), max_size=14))


def number(field: str):
    if field in ANGLE_FIELDS:
        finite = st.floats(-1e6, 1e6) | st.integers(0, 23)
    else:
        finite = st.floats(-1e6, 1e6) | st.floats(allow_nan=False, allow_infinity=False)
    return (
        st.none() | st.just(math.nan) | st.sampled_from([math.inf, -math.inf, 0.0, -0.0]) | finite
    )


def hold():
    return (
        st.none() | st.just(math.nan) | st.floats(0.05, 720) | st.sampled_from([1.0, 24.0, 720.0])
    )


@st.composite
def record(draw, spec: FeatureSpec):
    rec = {"symbol": "BTCUSDT"}
    for inp in raw_inputs(spec):
        if draw(st.integers(0, 5)) == 0:
            continue  # absent
        value = (
            draw(category())
            if inp.type == "string"
            else draw(hold() if inp.field == HOLD_COLUMN else number(inp.field))
        )
        rec[inp.name if draw(st.booleans()) else inp.field] = value
    return rec


@pytest.fixture(scope="module")
def scorer():
    return Scorer(BUNDLE)


def test_manifest_names_every_graph_input_and_output():
    manifest = read_manifest(BUNDLE)
    entry = manifest["raw_input"]
    assert entry["file"] == RAW_FILE and RAW_FILE in manifest["files"]
    sess = ort.InferenceSession(str(BUNDLE / RAW_FILE), providers=["CPUExecutionProvider"])
    assert [(i.name, i.type) for i in sess.get_inputs()] == [
        (i["name"], f"tensor({i['type']})") for i in entry["inputs"]
    ]
    assert [o.name for o in sess.get_outputs()] == [o["name"] for o in entry["outputs"]]
    assert {i["name"] for i in entry["inputs"]} >= {"fundProfit8h", "fundApr", "holdHours"}
    for i in entry["inputs"]:  # the guide's camelCase, read back by the request mapping
        assert normalise_key(i["name"]) == i["field"]


def test_camel_keys_of_every_known_column_round_trip():
    for field in (*RAW_NUMERIC, *KNOWN_EXTRA_NUMERIC, HOLD_COLUMN, "market_regime"):
        assert normalise_key(camel_key(field)) == field
    with pytest.raises(ValueError, match="no camelCase key"):
        camel_key("fund_a_p_r")


def test_standalone_client_imports_no_arbscore(scorer):
    got = run_client(BUNDLE, [{"fundProfit8h": 0.01, "fundApr": 10.95}])
    assert got["arbscore_modules"] == []
    assert_close(
        got["predictions"], scorer.predict_rows([{"fund_profit_8h": 0.01, "fund_apr": 10.95}])
    )


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(record(FeatureSpec()), min_size=1, max_size=25))
def test_fresh_interpreter_matches_scorer(scorer, records):
    got = run_client(BUNDLE, records)["predictions"]
    want = scorer.predict_rows([normalise_keys(r) for r in records])
    assert_close(got, want)
    # the composite is arbscore/composite.py's, from the graph's own three predictions
    p = {k: np.array([g[k] for g in got]) for k in PREDICTIONS}
    ref = composite_score(
        p["predicted_profit_pct"], p["success_probability"], p["predicted_hold_hours"]
    )
    np.testing.assert_allclose(p["composite_score"], ref, rtol=0, atol=1e-9)


def _feature_graph(spec: FeatureSpec) -> ort.InferenceSession:
    g = Graph("features")
    numbers, cats = {}, {}
    for inp in raw_inputs(spec):
        kind = TensorProto.STRING if inp.type == "string" else TensorProto.DOUBLE
        (cats if inp.type == "string" else numbers)[inp.field] = g.input(inp.name, kind, ["N"])
    base, _ = feature_matrix(g, spec, numbers, cats)
    g.output(base, "X", TensorProto.FLOAT, ["N", spec.n_features - 1])
    return ort.InferenceSession(
        g.model(20, 9).SerializeToString(), providers=["CPUExecutionProvider"]
    )


EXTRA_SPEC = FeatureSpec(
    extra_numeric=KNOWN_EXTRA_NUMERIC,
    fill_values=tuple(
        {**dict(FeatureSpec().fill_values), **dict.fromkeys(KNOWN_EXTRA_NUMERIC, 0.25)}.items()
    ),
)
EXTRA_SESSION = _feature_graph(EXTRA_SPEC)


@settings(max_examples=40, deadline=None)
@given(st.lists(record(EXTRA_SPEC), min_size=1, max_size=20))
def test_feature_layer_equals_build_rows_exactly(records):
    snake = [normalise_keys(r) for r in records]
    feeds = {}
    for inp in raw_inputs(EXTRA_SPEC):
        values = [r.get(inp.field) for r in snake]
        if inp.type == "string":
            feeds[inp.name] = np.array(["" if v is None else str(v) for v in values], object)
        else:
            feeds[inp.name] = np.array([math.nan if v is None else float(v) for v in values])
    got = EXTRA_SESSION.run(["X"], feeds)[0]
    rows = [{k: v for k, v in r.items() if k != HOLD_COLUMN} for r in snake]
    want = build_rows(rows, EXTRA_SPEC)[:, :-1]
    # exact equality (-0.0 == 0.0: onnxruntime's Where drops a zero's sign, which no model sees)
    bad = np.argwhere(got != want)
    assert bad.size == 0, [(EXTRA_SPEC.feature_names[j], snake[i]) for i, j in bad[:3]]


def test_golden_raw_records_reproduce(scorer):
    golden = json.loads((HERE / "golden" / "golden_raw.json").read_text())
    records = [
        {k: float(v) if v in ("Infinity", "-Infinity") else v for k, v in r.items()}
        for r in golden["records"]
    ]
    assert_close(run_client(BUNDLE, records)["predictions"], golden["predictions"])
    assert_close(scorer.predict_rows([normalise_keys(r) for r in records]), golden["predictions"])


def test_docs_csharp_example_uses_a_fresh_bundles_input_names_and_types(demo, tmp_path):
    from arbscore.export.bundle import export_families

    families, spec, _ = demo
    name = "xgboost"
    manifest = export_families({h: (name, families[name]) for h in HEADS}, spec, tmp_path / "b")
    inputs = {i["name"]: i["type"] for i in manifest["raw_input"]["inputs"]}
    doc = (HERE.parents[1] / "docs" / "serving.md").read_text()
    block = doc.split("```csharp", 1)[1].split("```", 1)[0]
    fed = dict(re.findall(r'\["(\w+)"\] = ("|double\.NaN|-?[0-9])', block))
    assert {k: "string" if v == '"' else "double" for k, v in fed.items()} == inputs
    outputs = {o["name"] for o in manifest["raw_input"]["outputs"]}
    assert set(re.findall(r'Out\("(\w+)"\)', block)) == outputs - {"features"}
