"""The report's fold-by-fold table (report.sections_folds) reads the harness's per-fold lists."""

from __future__ import annotations

import json

from report_fixture import make_run_dir

from arbscore.report.build import build_document
from arbscore.report.inputs import load_inputs


def _add_folds(run):
    path = run / "metrics.json"
    metrics = json.loads(path.read_text())
    n_folds = len(metrics["folds"])
    for i, block in enumerate(metrics["families"].values()):
        block["success"]["ece_folds"] = [0.01 * (i + 1) * (k + 1) for k in range(n_folds)]
        block["success"]["recalibration"] = {
            "chosen_folds": ["family"] + ["isotonic"] * (n_folds - 1),
            "chosen_calibration_error_folds": [0.5] * n_folds,
        }
        block["profit"]["interval"] = {
            "coverage_target": 0.8,
            "coverage_folds": [None] + [0.75] * (n_folds - 1),
            "mean_width_pct_folds": [None] + [1.25] * (n_folds - 1),
        }
    path.write_text(json.dumps(metrics))
    return metrics


def _section(doc, anchor):
    return next((s for s in doc.sections if s.anchor == anchor), None)


def test_fold_table_has_a_row_per_family_and_fold_with_the_harness_values(tmp_path):
    make_run_dir(tmp_path)
    assert _section(build_document(load_inputs(tmp_path)), "folds") is None  # older runs
    metrics = _add_folds(tmp_path)
    doc = build_document(load_inputs(tmp_path))
    anchors = [s.anchor for s in doc.sections]
    assert anchors.index("folds") == anchors.index("calibration") + 1
    table = _section(doc, "folds").blocks[-1]
    n_folds = len(metrics["folds"])
    assert len(table.rows) == n_folds * len(metrics["families"])
    col = {h: i for i, h in enumerate(table.headers)}
    fam = next(iter(metrics["families"]))
    second = table.rows[1]
    assert second[0].text == fam and second[1].text.startswith("2 (")
    assert second[col["ECE"]].value == metrics["families"][fam]["success"]["ece_folds"][1]
    assert second[col["calibration used"]].text == "isotonic"
    assert second[col["interval coverage"]].value == 0.75
    assert second[col["interval width"]].text == "1.25 %"
    assert table.rows[0][col["interval coverage"]].text == "–"  # no window before fold 1
