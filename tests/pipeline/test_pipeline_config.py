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
    assert record["command"] == f"arbscore run --out {tmp_path} --data synthetic --family xgboost"
    assert record["config"]["families"] == ["xgboost"]
    assert jsonable(cfg) == record["config"]


def test_cli_input_errors_exit_2(tmp_path):
    res = runner.invoke(app, ["run", "--out", str(tmp_path), "--data", "missing.parquet"])
    assert res.exit_code == 2 and "data" in res.output
    res = runner.invoke(app, ["run", "--out", str(tmp_path), "--family", "catboost"])
    assert res.exit_code == 2 and "catboost" in res.output
    bad = tmp_path / "cfg.json"
    bad.write_text(json.dumps({"simulation": {}}))
    res = runner.invoke(app, ["run", "--out", str(tmp_path), "--config", str(bad)])
    assert res.exit_code == 2 and "unknown sections ['simulation']" in res.output
    bad.write_text(json.dumps({"synthetic": {"dayz": 3}}))
    res = runner.invoke(app, ["run", "--out", str(tmp_path), "--config", str(bad)])
    assert res.exit_code == 2 and "dayz" in res.output


TOML_CONFIG = """
[synthetic]
days = 3
symbols = ["BTCUSDT", "ETHUSDT"]

[evaluation]
n_folds = 2

[families.xgboost]
n_estimators = 20
"""


def test_config_file_toml_and_json_give_the_same_configs(tmp_path):
    from arbscore.cli.run_cmds import load_stage_configs

    toml = tmp_path / "run.toml"
    toml.write_text(TOML_CONFIG)
    same = {
        "synthetic": {"days": 3, "symbols": ["BTCUSDT", "ETHUSDT"]},
        "evaluation": {"n_folds": 2},
        "families": {"xgboost": {"n_estimators": 20}},
    }
    (tmp_path / "run.json").write_text(json.dumps(same))
    from_toml = load_stage_configs(toml)
    assert from_toml == load_stage_configs(tmp_path / "run.json")
    assert from_toml["synthetic"].symbols == ("BTCUSDT", "ETHUSDT")
    assert dict(from_toml["family_configs"])["xgboost"].n_estimators == 20


def _run_with_config(tmp_path, config):
    return runner.invoke(app, ["run", "--out", str(tmp_path / "w"), "--config", str(config)])


def test_cli_config_toml_is_parsed_and_checked(tmp_path):
    toml = tmp_path / "run.toml"
    toml.write_text("[synthetic]\ndayz = 3\n")  # parsed as TOML, then the key is refused
    res = _run_with_config(tmp_path, toml)
    assert res.exit_code == 2 and "dayz" in res.output and "not valid JSON" not in res.output


def test_cli_config_errors_name_the_file_and_line(tmp_path):
    toml = tmp_path / "broken.toml"
    toml.write_text('[synthetic]\ndays = 3\nsymbols = = ["BTCUSDT"]\n')
    res = _run_with_config(tmp_path, toml)
    out = " ".join(res.output.split())  # rich may wrap a long path
    assert res.exit_code == 2 and "not valid TOML" in out and "line 3" in out
    assert "broken.toml" in out
    bad_json = tmp_path / "broken.json"
    bad_json.write_text('{"synthetic":\n  {"days": 3,}\n}')
    res = _run_with_config(tmp_path, bad_json)
    out = " ".join(res.output.split())
    assert res.exit_code == 2 and "not valid JSON" in out and "line 2" in out
    assert "broken.json" in out
    yaml = tmp_path / "run.yaml"
    yaml.write_text("synthetic:\n  days: 3\n")
    res = _run_with_config(tmp_path, yaml)
    out = " ".join(res.output.split())
    assert res.exit_code == 2 and "run.yaml" in out and "neither .toml nor .json" in out
    res = _run_with_config(tmp_path, tmp_path / "absent.toml")
    assert res.exit_code == 2 and "no such file" in " ".join(res.output.split())
