"""Champion/challenger retraining against a running server: promotion swaps the symlink and
the server reloads; a losing or failing challenger leaves the champion untouched."""

from __future__ import annotations

import json
import os
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
