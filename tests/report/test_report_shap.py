"""The report's SHAP section: drawn from evaluation/shap.json, named when it is missing."""

from __future__ import annotations

import json

import numpy as np
from report_fixture import make_run_dir

from arbscore.evaluation.explain import explain
from arbscore.families import HeadOutputs


class _Linear:
    def predict(self, X):
        X = np.asarray(X, np.float64)
        return HeadOutputs(2 * X[:, 0], 0.5 + 0.1 * X[:, 1], 10 + X[:, 1])


def test_the_shap_section_shows_each_family_and_head(tmp_path):
    from arbscore.report import build_report

    d = tmp_path / "run"
    make_run_dir(d)
    X = np.random.default_rng(0).normal(size=(50, 3))
    block = explain(_Linear(), X, ["edge_funding_mean_30d_pct", "basis_zscore_7d", "hold_hours"])
    (d / "evaluation" / "shap.json").write_text(json.dumps({"mlx": block | {"fold": 3}}))
    _, md_path = build_report(d)
    md = md_path.read_text()
    assert "What the models learned (SHAP)" in md
    assert "an approximation, not SHAP" in md
    assert "| mlx | profit | occlusion | edge_funding_mean_30d_pct (" in md
    assert "| mlx | success | occlusion | basis_zscore_7d (" in md
    assert (md_path.parent / "figures" / "shap-mlx.png").exists() or "shap-mlx.png" in md


def test_without_shap_json_the_section_says_so(tmp_path):
    from arbscore.report import build_report

    d = tmp_path / "run"
    make_run_dir(d)
    _, md_path = build_report(d)
    assert "No attributions (evaluation/shap.json missing)." in md_path.read_text()
