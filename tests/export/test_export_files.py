"""``arbscore export --out DIR`` writes a bundle whole or not at all and never deletes a
directory that is not a bundle (``export/staging.py``)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from arbscore.cli import app
from arbscore.export.bundle import ExportConfig, export_bundle
from arbscore.export.manifest import read_manifest


@pytest.fixture()
def run_dir(demo, tmp_path):
    families, spec, _ = demo
    run = tmp_path / "run"
    families["xgboost"].save(run / "models" / "xgboost")
    spec.save(run / "models" / "feature_spec.json")
    (run / "metrics.json").write_text(json.dumps({"winner": {h: "xgboost" for h in ("profit",)}}))
    (run / "training_data.marker").write_text("the run's data")
    return run


def _files(path):
    return sorted(p.relative_to(path).as_posix() for p in path.rglob("*"))


def test_out_naming_the_run_directory_is_refused_and_keeps_it(run_dir):
    before = _files(run_dir)
    r = CliRunner().invoke(app, ["export", "--from", str(run_dir), "--out", str(run_dir)])
    assert r.exit_code == 2, r.output
    assert "--out" in r.output and "not empty" in r.output
    assert _files(run_dir) == before


def test_an_existing_bundle_is_replaced_whole(run_dir, tmp_path):
    out = tmp_path / "bundle"
    assert (
        CliRunner().invoke(app, ["export", "--from", str(run_dir), "--out", str(out)]).exit_code
        == 0
    )
    first = read_manifest(out)["created_at"]
    r = CliRunner().invoke(app, ["export", "--from", str(run_dir), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert read_manifest(out)["created_at"] >= first  # verified: every file listed and intact
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no leftovers
    (out / "notes.txt").write_text("mine")  # no longer only a bundle: refused
    r = CliRunner().invoke(app, ["export", "--from", str(run_dir), "--out", str(out)])
    assert r.exit_code == 2 and (out / "notes.txt").is_file()


def test_a_failed_export_leaves_the_old_bundle_serving(run_dir, tmp_path):
    out = tmp_path / "bundle"
    export_bundle(run_dir, out)
    before = {p: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(ValueError, match="parity check failed"):
        export_bundle(run_dir, out, ExportConfig(tolerance=1e-300))
    assert {p: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
