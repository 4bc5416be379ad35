"""The bundle carries its terms: a bundle trained on a short hold grid is served on that grid
(the served hold clipped to it, a longer ``hold_hours`` refused, ``/exit-signal`` capped at its
largest hold), the raw-input graph clips the same way, and an older bundle without the key
loads with the default grid, saying so."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from fastapi.testclient import TestClient
from serve_helpers import GOLDEN

from arbscore.export.bundle import export_families
from arbscore.export.demo import fit_demo_families
from arbscore.export.onnx_raw import PREDICTIONS
from arbscore.schema import HOLD_GRID_HOURS
from arbscore.serve.app import create_app
from arbscore.serve.scorer import Scorer

GRID = (1, 8, 24)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("terms") / "b"
    fitted, spec, X = fit_demo_families(("xgboost",), n_opportunities=200, seed=2)
    xgb = fitted["xgboost"]
    export_families(
        {h: ("xgboost", xgb) for h in ("profit", "success", "duration")},
        spec,
        out,
        hold_grid_hours=GRID,
    )
    return out, X


def test_the_manifest_carries_the_hold_grid_and_the_server_reads_it(bundle):
    bundle, X = bundle
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["hold_grid_hours"] == [1.0, 8.0, 24.0]
    scorer = Scorer(bundle)
    assert scorer.terms.hold_grid_hours == (1.0, 8.0, 24.0)
    # a predicted hold beyond 24 h is served at 24 h: the profit equals the one at a given 24 h
    got = scorer.predict_matrix(X)
    long = got.hold_hours > 30.0
    assert long.any()
    at_24 = scorer.predict_matrix(X[long], np.full(long.sum(), 24.0))
    np.testing.assert_array_equal(got.profit_pct[long], at_24.profit_pct)


def test_a_hold_beyond_the_bundles_grid_is_refused(bundle):
    bundle, _ = bundle
    client = TestClient(create_app(bundle))
    base = {"symbol": "BTCUSDT", "fundProfit8h": 0.02, "fundApr": 21.9}
    assert client.post("/predict", json={**base, "holdHours": 24.0}).status_code == 200
    got = client.post("/predict", json={**base, "holdHours": 72.0})
    assert got.status_code == 422
    assert ["body", "hold_hours"] in [e["loc"] for e in got.json()["detail"]]


def test_exit_signal_caps_at_the_bundles_largest_hold(bundle):
    bundle, _ = bundle
    client = TestClient(create_app(bundle))
    body = {
        "entry": {"symbol": "BTCUSDT", "fundProfit8h": 0.02, "fundApr": 21.9},
        "entry_time": "2026-01-01T00:00:00Z",
        "now": "2026-01-02T01:00:00Z",  # 25 h: past this bundle's 24 h, far below 720 h
        "current": {"fund_profit_8h": 0.05, "unrealized_pnl_pct": 0.5},
        "predicted_hold_hours": 500.0,
    }
    got = client.post("/exit-signal", json=body).json()
    assert got["reason"] == "max_hold_reached"


def test_the_raw_graph_clips_the_served_hold_to_the_bundles_grid(bundle):
    bundle, _ = bundle
    import onnxruntime as ort

    manifest = json.loads((bundle / "manifest.json").read_text())
    raw = manifest["raw_input"]
    sess = ort.InferenceSession(str(bundle / raw["file"]), providers=["CPUExecutionProvider"])
    rec = {"fund_profit_8h": 0.05, "fund_apr": 55.0, "strategy": "spot_perp"}
    feeds = {}
    for inp in raw["inputs"]:
        v = rec.get(inp["field"])
        feeds[inp["name"]] = (
            np.array(["" if v is None else v], object)
            if inp["type"] == "string"
            else np.array([math.nan if v is None else v])
        )
    got = dict(zip(PREDICTIONS, (o[0] for o in sess.run(list(PREDICTIONS), feeds)), strict=True))
    want = Scorer(bundle).predict_rows([rec])[0]
    for k in PREDICTIONS:
        assert abs(got[k] - want[k]) <= 1e-5 * max(1.0, abs(want[k])), k


def test_an_older_bundle_without_terms_loads_with_the_default_grid():
    manifest = json.loads((GOLDEN / "bundle" / "manifest.json").read_text())
    assert "hold_grid_hours" not in manifest and "inputs" not in manifest
    scorer = Scorer(GOLDEN / "bundle")
    assert scorer.terms.hold_grid_hours == tuple(float(h) for h in HOLD_GRID_HOURS)
    assert scorer.terms.source.startswith("default")
    assert "hold_hours" in scorer.request.defaulted
    models = TestClient(create_app(GOLDEN / "bundle")).get("/models").json()
    assert models["hold_grid_source"].startswith("default")
    assert models["hold_grid_hours"] == [float(h) for h in HOLD_GRID_HOURS]
