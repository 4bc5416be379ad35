"""Bundle export -> manifest -> Scorer round trips, checked against the native families."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from arbscore.data_tools.costs import FeeSchedule
from arbscore.export.bundle import ExportConfig, export_bundle, export_families
from arbscore.export.manifest import read_manifest, sha256_file
from arbscore.schema import HEADS, clip_hold_hours
from arbscore.serve.scorer import Scorer

RECORD = {"symbol": "BTCUSDT", "fund_profit_8h": 0.01, "fund_apr": 10.0}

GOLDEN = Path(__file__).parent / "golden"


def _winners(families, mix: bool):
    names = list(families)
    if mix:  # a different family per head where possible: the mixed-bundle case
        return {
            h: (names[i % len(names)], families[names[i % len(names)]]) for i, h in enumerate(HEADS)
        }
    return {h: ("xgboost", families["xgboost"]) for h in HEADS}


def _native_served(winners, X):
    """What the server must return, computed with the native families: duration first, then
    profit/success at the predicted hold clipped to the hold grid's range."""
    duration = np.asarray(winners["duration"][1].predict(X).duration, np.float64)
    X2 = X.copy()
    X2[:, -1] = clip_hold_hours(duration, grid=True)
    return (
        np.asarray(winners["profit"][1].predict(X2).profit, np.float64),
        np.asarray(winners["success"][1].predict(X2).success, np.float64),
        duration,
    )


@pytest.mark.parametrize("mix", [False, True], ids=["xgboost", "mixed"])
def test_scorer_matches_native_families(demo, tmp_path, mix):
    families, spec, X = demo
    winners = _winners(families, mix)
    manifest = export_families(winners, spec, tmp_path / "b", metrics={"profit": {"mae": 1.0}})
    assert manifest["feature_names"] == list(spec.feature_names)
    assert set(manifest["heads"]) == set(HEADS)
    assert manifest["fees"] == FeeSchedule().to_dict()  # no run fees given: the default
    assert manifest["fees_source"] == "default schedule"
    for rel, digest in manifest["files"].items():
        assert sha256_file(tmp_path / "b" / rel) == digest
    scorer = Scorer(tmp_path / "b")
    rows = X[::11]
    pred = scorer.predict_matrix(rows)
    profit, success, duration = _native_served(winners, rows)
    np.testing.assert_allclose(pred.hold_hours, duration, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(pred.profit_pct, profit, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(pred.success_probability, success, rtol=1e-4, atol=1e-4)
    assert np.all((pred.composite >= 0) & (pred.composite <= 100))


def test_caller_hold_is_used_for_profit_and_success(demo, tmp_path):
    families, spec, X = demo
    winners = _winners(families, False)
    export_families(winners, spec, tmp_path / "b")
    scorer = Scorer(tmp_path / "b")
    rows = X[:20].copy()
    hold = np.full(20, np.nan)
    hold[::2] = 72.0
    pred = scorer.predict_matrix(rows, hold)
    rows72 = rows.copy()
    rows72[:, -1] = 72.0
    native = families["xgboost"].predict(rows72)
    np.testing.assert_allclose(pred.profit_pct[::2], native.profit[::2], rtol=1e-4, atol=1e-4)


def test_tampered_or_missing_file_is_a_bad_bundle(demo, tmp_path):
    families, spec, _ = demo
    manifest = export_families(_winners(families, False), spec, tmp_path / "b")
    victim = tmp_path / "b" / manifest["heads"]["profit"]["file"]
    victim.write_bytes(victim.read_bytes()[:-3] + b"xyz")
    with pytest.raises(ValueError, match="checksum mismatch"):
        Scorer(tmp_path / "b")
    victim.unlink()
    with pytest.raises(ValueError, match="missing"):
        Scorer(tmp_path / "b")
    with pytest.raises(ValueError, match="no manifest.json"):
        Scorer(tmp_path)


def test_feature_list_must_match_the_graphs(tmp_path):
    shutil.copytree(GOLDEN / "bundle", tmp_path / "b")
    path = tmp_path / "b" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["feature_names"] = manifest["feature_names"][:-1]
    path.write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="feature_names disagree"):
        Scorer(tmp_path / "b")


def test_export_bundle_reads_a_run_directory(demo, tmp_path):
    families, spec, X = demo
    run = tmp_path / "run"
    for name, family in families.items():
        family.save(run / "models" / name)
    spec.save(run / "models" / "feature_spec.json")
    winner = {"profit": "lightgbm", "success": "xgboost", "duration": "lightgbm"}
    (run / "metrics.json").write_text(json.dumps({"winner": winner}))
    manifest = export_bundle(run, tmp_path / "bundle")
    assert {h: e["family"] for h, e in manifest["heads"].items()} == winner
    assert "profit_interval" not in manifest  # no evaluation/predictions.parquet: no interval
    # with the run's out-of-sample predictions the bundle ships the profit interval
    rng = np.random.default_rng(0)
    preds = pd.DataFrame(
        {
            "family": "lightgbm",
            "fold": np.repeat([0, 1], 50),
            "hold_hours": np.tile([8.0, 72.0], 50),
            "actual_profit_pct": rng.normal(0, 1, 100),
            "profit": 0.0,
        }
    )
    (run / "evaluation").mkdir()
    preds.to_parquet(run / "evaluation" / "predictions.parquet")
    with_interval = export_bundle(run, tmp_path / "bundle3")
    assert with_interval["profit_interval"]["hold_hours"] == [8.0, 72.0]
    outputs = [o["name"] for o in with_interval["raw_input"]["outputs"]]
    assert "profit_interval_pct" in outputs
    answer = Scorer(tmp_path / "bundle3").predict_records([RECORD])[0]
    low, high = answer["profit_interval_pct"]
    assert low < answer["predicted_profit_pct"] < high
    manifest = export_bundle(
        run, tmp_path / "bundle2", ExportConfig(families=(("profit", "xgboost"),))
    )
    assert manifest["heads"]["profit"]["family"] == "xgboost"
    assert read_manifest(tmp_path / "bundle2")["model_version"] == manifest["model_version"]


def test_export_bundle_errors_name_the_problem(demo, tmp_path):
    with pytest.raises(ValueError, match="no models/ directory"):
        export_bundle(tmp_path, tmp_path / "out")
    families, spec, _ = demo
    run = tmp_path / "run"
    families["xgboost"].save(run / "models" / "xgboost")
    with pytest.raises(ValueError, match="feature_spec.json"):
        export_bundle(run, tmp_path / "out")
    spec.save(run / "models" / "feature_spec.json")
    (run / "metrics.json").write_text(json.dumps({"winner": {"profit": "mlx"}}))
    with pytest.raises(ValueError, match="winner 'mlx' for 'profit' has no models/mlx/"):
        export_bundle(run, tmp_path / "out")


def test_golden_bundle_reproduces_golden_predictions():
    golden = json.loads((GOLDEN / "golden.json").read_text())
    scorer = Scorer(GOLDEN / "bundle")
    X, hold = scorer.features(golden["records"])
    np.testing.assert_allclose(X, np.array(golden["X"], np.float32), rtol=1e-6, atol=1e-6)
    got = scorer.predict_rows(golden["records"])
    for g, w in zip(got, golden["predictions"], strict=True):
        for key in (
            "predicted_profit_pct",
            "success_probability",
            "predicted_hold_hours",
            "composite_score",
        ):
            assert g[key] == pytest.approx(w[key], rel=1e-5, abs=1e-5), key
        assert g["model_version"] == golden["model_version"]


def test_desktop_files_are_skipped_with_a_log_line_others_refused(tmp_path, caplog):
    """Finder's .DS_Store, Explorer's Thumbs.db/desktop.ini and ._* AppleDouble files, at any
    depth, are not part of the bundle: the check logs them and passes, an export may replace
    the directory; any other unlisted file is still refused."""
    from arbscore.export.staging import is_bundle

    bundle = tmp_path / "b"
    shutil.copytree(GOLDEN / "bundle", bundle)
    sub = bundle / "opened"  # a folder a person opened, holding only desktop files
    sub.mkdir()
    for path in (bundle / ".DS_Store", bundle / "Thumbs.db", sub / "desktop.ini", sub / "._x"):
        path.write_bytes(b"\0")
    with caplog.at_level("WARNING", logger="arbscore.export.manifest"):
        read_manifest(bundle)
    assert "ignoring files a desktop wrote" in caplog.text and ".DS_Store" in caplog.text
    assert is_bundle(bundle)
    (bundle / "DS_Store.txt").write_text("not a desktop file")
    with pytest.raises(ValueError, match="files not listed in the manifest: DS_Store.txt"):
        read_manifest(bundle)
    assert not is_bundle(bundle)
