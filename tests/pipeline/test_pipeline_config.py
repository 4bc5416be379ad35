"""RunConfig, stage lookup and the CLI's input errors (no training: fast)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from arbscore.cli import app
from arbscore.pipeline import PipelineError, RunConfig, jsonable, run_pipeline, write_run_config
from arbscore.pipeline import run as pipeline_run

runner = CliRunner()


def test_bad_data_is_named(tmp_path):
    with pytest.raises(ValueError, match="data: 'nowhere.csv'"):
        RunConfig(workdir=tmp_path, data="nowhere.csv")
    txt = tmp_path / "x.txt"
    txt.write_text("a")
    with pytest.raises(ValueError, match="neither .csv nor .parquet"):
        RunConfig(workdir=tmp_path, data=str(txt))
    with pytest.raises(ValueError, match="families"):
        RunConfig(workdir=tmp_path, families=())


def test_a_stage_that_cannot_import_is_a_clear_error(tmp_path, monkeypatch):
    def broken(config, progress):
        raise ImportError("No module named 'onnxmltools'")

    monkeypatch.setitem(pipeline_run.STAGE_FUNCTIONS, "data", broken)
    cfg = RunConfig(workdir=tmp_path, data="synthetic", families=("xgboost",))
    with pytest.raises(PipelineError, match="stage 'data' could not import .*onnxmltools"):
        run_pipeline(cfg)
    assert not (tmp_path / ".stages" / "data.json").exists()


def test_run_config_json_records_the_command(tmp_path):
    cfg = RunConfig(workdir=tmp_path, data="synthetic", families=("xgboost",))
    record = json.loads(write_run_config(cfg).read_text())
    assert (
        record["command"] == f"arbscore run --workdir {tmp_path} --data synthetic "
        "--families xgboost"
    )
    assert record["config"]["families"] == ["xgboost"]
    assert jsonable(cfg) == record["config"]


def test_cli_input_errors_exit_2(tmp_path):
    res = runner.invoke(app, ["run", "--workdir", str(tmp_path), "--data", "missing.parquet"])
    assert res.exit_code == 2 and "data" in res.output
    res = runner.invoke(app, ["run", "--workdir", str(tmp_path), "--families", "catboost"])
    assert res.exit_code == 2 and "catboost" in res.output
    bad = tmp_path / "cfg.json"
    bad.write_text(json.dumps({"simulation": {}}))
    res = runner.invoke(app, ["run", "--workdir", str(tmp_path), "--config", str(bad)])
    assert res.exit_code == 2 and "unknown sections ['simulation']" in res.output
    bad.write_text(json.dumps({"synthetic": {"dayz": 3}}))
    res = runner.invoke(app, ["run", "--workdir", str(tmp_path), "--config", str(bad)])
    assert res.exit_code == 2 and "dayz" in res.output
