"""Every list option takes a comma list as well as repeats (run/evaluate always did)."""

from __future__ import annotations

from typer.testing import CliRunner

from arbscore.cli import app


def test_retrain_takes_a_comma_list_of_families(tmp_path):
    # an unknown name inside the list is refused by name: the list itself was parsed
    r = CliRunner().invoke(
        app, ["retrain", "--root", str(tmp_path), "--data", "x.parquet", "-f", "xgboost,nope"]
    )
    assert r.exit_code == 2, r.output
    assert "unknown family 'nope'" in r.output


def test_retrain_comma_list_reaches_the_config(tmp_path, monkeypatch):
    seen = {}

    def fake_retrain(frame, config, progress=None):
        seen["families"] = config.families
        raise SystemExit(0)

    monkeypatch.setattr("arbscore.ops.retrain.retrain", fake_retrain)
    monkeypatch.setattr("arbscore.cli.model_cmds.load_data", lambda path: None)
    r = CliRunner().invoke(
        app,
        ["retrain", "--root", str(tmp_path), "--data", "x", "--family", "xgboost,lightgbm,mlx"],
    )
    assert r.exit_code == 0, r.output
    assert seen["families"] == ("xgboost", "lightgbm", "mlx")


def test_export_head_overrides_take_a_comma_list(tmp_path, monkeypatch):
    seen = {}

    def fake_export(run_dir, out, config, progress=None):
        seen["families"] = config.families
        raise SystemExit(0)

    monkeypatch.setattr("arbscore.export.bundle.export_bundle", fake_export)
    r = CliRunner().invoke(
        app, ["export", "--from", "r", "--out", "b", "--head", "duration=mlx,profit=xgboost"]
    )
    assert r.exit_code == 0, r.output
    assert seen["families"] == (("duration", "mlx"), ("profit", "xgboost"))
