"""Champion/challenger retraining against a running server: promotion swaps the symlink and
the server reloads; a losing or failing challenger leaves the champion untouched."""

from __future__ import annotations

import json
import os
import re
import shutil

import httpx
import pandas as pd
import pytest
from ops_helpers import free_port, start_server, stop

from arbscore.evaluation.config import EvaluationConfig
from arbscore.ops.retrain import RetrainConfig, retrain


def _version(url: str) -> str:
    return httpx.get(url + "/health", timeout=10).json()["model_version"]


def test_promote_then_keep_then_fail(tmp_path, ops_bundle, tiny_training):
    root = tmp_path / "bundles"
    (root / "versions" / "v0").mkdir(parents=True)
    shutil.copytree(ops_bundle, root / "versions" / "v0" / "bundle")
    os.symlink("versions/v0/bundle", root / "current")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(
        ["--bundle", str(root / "current"), "--port", str(port), "--allow-reload"],
        tmp_path / "server.log",
        url,
    )
    try:
        champion = _version(url)
        evaluation = EvaluationConfig(n_folds=2, latency_repeats=1)
        # 1) the demo-trained champion against a challenger trained on this market: promoted
        easy = RetrainConfig(
            root=root,
            families=("xgboost",),
            evaluation=evaluation,
            required_wins=1,
            max_regression=1e9,
            server_url=url,
        )
        result = retrain(tiny_training, easy)
        assert result.promoted, result.reason
        assert result.champion_version == champion
        assert os.readlink(root / "current") == os.path.relpath(result.run_dir / "bundle", root)
        assert _version(url) == result.challenger_version != champion  # the server reloaded
        manifest = json.loads((root / "current" / "manifest.json").read_text())
        ref = manifest["reference"]  # export wrote the drift reference from training_data
        assert set(ref["predictions"]) == {"profit", "success", "duration"}
        assert "fund_apr" in ref["features"] and ref["source"]["file"] == "training_data.parquet"
        assert "champion" in json.loads((result.run_dir / "metrics.json").read_text())["families"]
        # the demo bundle's manifest does not say where its training data ends: said so
        assert result.comparison["champion_unseen_folds"] is False
        assert "does not say where its training data ends" in result.comparison["folds_note"]
        # 2) a challenger that must win every head without any regression against a champion
        #    trained on these very rows: kept
        strict = RetrainConfig(
            root=root,
            families=("xgboost",),
            evaluation=evaluation,
            required_wins=3,
            max_regression=0.0,
            server_url=url,
        )
        served = os.readlink(root / "current")
        kept = retrain(tiny_training, strict)
        assert not kept.promoted and "champion kept" in kept.reason
        # the champion was trained on these very rows: the comparison says it, not just a flag
        assert kept.comparison["champion_unseen_folds"] is False
        assert "scored partly on data it was trained on" in kept.comparison["folds_note"]
        assert kept.challenger["families"] == dict.fromkeys(
            ("profit", "success", "duration"), "xgboost"
        )
        assert os.readlink(root / "current") == served
        assert _version(url) == result.challenger_version
        # 3) a failing retrain (too little data for the folds) never touches the champion
        short = tiny_training[
            tiny_training["timestamp"] < tiny_training["timestamp"].min() + pd.Timedelta(days=2)
        ]
        with pytest.raises(ValueError, match="too short|training rows"):
            retrain(short, strict)
        assert os.readlink(root / "current") == served
        assert _version(url) == result.challenger_version
        failed = [p for p in (root / "versions").iterdir() if (p / "FAILED").is_file()]
        assert len(failed) == 1 and not (failed[0] / "bundle").exists()
        log = [json.loads(x) for x in (root / "retrain_log.jsonl").read_text().splitlines()]
        assert [e["promoted"] for e in log] == [True, False]
        assert log[0]["challenger"]["model_version"] == result.challenger_version
        assert log[1]["challenger"]["model_version"] is None  # kept: recorded, not exported
        assert log[1]["challenger"]["run"] == kept.run_dir.name
        assert set(log[1]["challenger"]["metrics"]) == {"profit", "success", "duration"}
        assert log[1]["comparison"]["champion_unseen_folds"] is False
    finally:
        stop(server)


def test_config_errors_name_the_field(tmp_path):
    with pytest.raises(ValueError, match="required_wins"):
        RetrainConfig(root=tmp_path, required_wins=4)
    with pytest.raises(ValueError, match="champion"):
        RetrainConfig(root=tmp_path, families=("champion",))


def test_a_real_current_directory_is_refused_before_training(tmp_path, ops_bundle):
    import shutil as sh

    sh.copytree(ops_bundle, tmp_path / "current")
    with pytest.raises(ValueError, match="real directory"):
        retrain(pd.DataFrame(), RetrainConfig(root=tmp_path))
    assert (tmp_path / "current" / "manifest.json").is_file()


def _flat(text: str) -> str:
    return " ".join(text.split())  # rich wraps lines at the terminal width


def test_retrain_cli_first_run_then_folds_the_champion_never_saw(tmp_path, tiny_training):
    from typer.testing import CliRunner

    from arbscore.cli import app

    runner = CliRunner()
    start = tiny_training["timestamp"].min()
    early = tmp_path / "early.parquet"
    tiny_training[tiny_training["timestamp"] < start + pd.Timedelta(days=10)].to_parquet(early)
    full = tmp_path / "full.parquet"
    tiny_training.to_parquet(full)
    root = tmp_path / "bundles"
    args = ["retrain", "--root", str(root), "--family", "xgboost", "--folds", "2"]
    # 1) no champion yet: promoted, saying so; no "champion nan" column
    first = runner.invoke(app, [*args, "--data", str(early)])
    assert first.exit_code == 0, first.output
    text = _flat(first.output)
    assert "promoted (no champion yet)" in text and "nan" not in text
    # the result lines (not the timestamped progress lines a pipe gets) show no champion
    result = _flat(
        "\n".join(
            line for line in first.output.splitlines() if not re.match(r"\d\d:\d\d:\d\d ", line)
        )
    )
    assert "champion " not in result.replace("no champion yet", "")
    champion = json.loads((root / "current" / "manifest.json").read_text())
    champion_end = pd.Timestamp(champion["training_data"]["end"])
    # 2) 13 more days of rows: the folds start after the champion's rows + the label horizon
    second = runner.invoke(app, [*args, "--data", str(full)])
    assert second.exit_code == 0, second.output
    assert "data the champion never saw" in _flat(second.output)
    log = [json.loads(x) for x in (root / "retrain_log.jsonl").read_text().splitlines()]
    assert log[0]["promoted"] and log[0]["champion"] is None
    assert log[0]["comparison"]["champion_unseen_folds"] is None
    assert log[0]["challenger"]["model_version"] == champion["model_version"]
    assert log[1]["champion"] == champion["model_version"]
    assert log[1]["comparison"]["champion_unseen_folds"] is True
    assert log[1]["challenger"]["families"]["profit"] == "xgboost"
    run = root / "versions" / log[1]["challenger"]["run"]
    folds = json.loads((run / "metrics.json").read_text())["folds"]
    # the embargo the run used: the set's largest hold (EvaluationConfig's default)
    embargo = pd.Timedelta(hours=EvaluationConfig().embargo_for(tiny_training["hold_hours"]))
    assert pd.Timestamp(folds[0]["test_start"]) >= champion_end + embargo
    assert log[1]["comparison"]["test_folds"][0] == folds[0]["test_start"]
