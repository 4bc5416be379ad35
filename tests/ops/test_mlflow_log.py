"""``--mlflow``: params, per-fold and pooled metrics, artifacts and the champion alias, read
back with MlflowClient from a real local store (SQLite, so the registry works); and no mlflow
import without the flag."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from arbscore.cli import app
from arbscore.ops.retrain import RetrainResult

mlflow = pytest.importorskip("mlflow")
from mlflow import MlflowClient  # noqa: E402

from arbscore.ops import mlflow_log  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
GUIDE_CSV = REPO / "tests" / "features" / "data" / "guide_training_data.csv"
MEAN_FAMILY = "tests.evaluation.arb_eval_kit:MeanFamily"
runner = CliRunner()

METRICS = {
    "folds": [
        {"fold": 0, "train_rows": 100, "test_rows": 40, "test_start": "2025-01-01T00:00:00Z"},
        {"fold": 1, "train_rows": 140, "test_rows": 40, "test_start": "2025-01-03T00:00:00Z"},
    ],
    "families": {
        "xgboost": {
            "profit": {"mae": 1.5, "mae_folds": [1.0, 2.0], "std": {"mae": 0.5}},
            "success": {"auc": 0.7, "auc_folds": [0.6, 0.8], "calibration": [{"bin": 0}]},
            "timing_folds": {"train_seconds": [0.1, 0.2]},
        }
    },
    "baselines": {"carry_rule": {"sharpe": -1.0, "sharpe_folds": [-2.0, None]}},
    "backtest": {"pooled": {"xgboost": {"sharpe": 1.25, "sharpe_ci95": [0.1, 2.0]}}},
    "winner": {"profit": "xgboost", "success": "xgboost", "duration": "xgboost"},
    "config": {"n_folds": 2, "fees": {"tier": 0, "rates": {"binance:spot": [[0.001, 0.001]]}}},
}


def _uri(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


def _history(client, run_id, key):
    return [(m.step, m.value) for m in client.get_metric_history(run_id, key)]


def _artifacts(client, run_id, path=None) -> set[str]:
    out = set()
    for f in client.list_artifacts(run_id, path):
        out |= _artifacts(client, run_id, f.path) if f.is_dir else {f.path}
    return out


def _workdir(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "metrics.json").write_text(json.dumps(METRICS))
    (root / "run_config.json").write_text(json.dumps({"config": {"families": ["xgboost"]}}))
    (root / "report").mkdir()
    (root / "report" / "report.md").write_text("# report\n")
    (root / "bundle").mkdir()
    (root / "bundle" / "manifest.json").write_text('{"model_version": "v1"}')
    return root


def test_flatten_and_metric_rows():
    params = mlflow_log.flatten_params(METRICS["config"])
    assert params == {
        "n_folds": "2",
        "fees.tier": "0",
        "fees.rates.binance:spot": "[[0.001, 0.001]]",
    }
    rows = mlflow_log.metric_rows(METRICS)
    assert ("xgboost.profit.mae", 1.5, 0) in rows and ("xgboost.profit.mae_folds", 2.0, 1) in rows
    assert ("baseline.carry_rule.sharpe_folds", -2.0, 0) in rows
    assert not [r for r in rows if r[0] == "baseline.carry_rule.sharpe_folds" and r[2] == 1]
    assert ("pooled.xgboost.sharpe", 1.25, 0) in rows and ("fold.train_rows", 140.0, 1) in rows
    assert not [r for r in rows if "ci95" in r[0] or "calibration" in r[0]]


def test_log_run_params_metrics_artifacts(tmp_path):
    work = _workdir(tmp_path / "work")
    run_id = mlflow_log.log_run(_uri(tmp_path), work)
    client = MlflowClient(tracking_uri=_uri(tmp_path))
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["families"] == '["xgboost"]'
    assert run.data.params["evaluation_resolved.n_folds"] == "2"
    assert run.data.params["winner.profit"] == "xgboost"
    assert run.data.metrics["pooled.xgboost.sharpe"] == 1.25
    assert _history(client, run_id, "xgboost.profit.mae_folds") == [(0, 1.0), (1, 2.0)]
    assert _history(client, run_id, "xgboost.timing_folds.train_seconds") == [(0, 0.1), (1, 0.2)]
    assert _artifacts(client, run_id) == {
        "metrics.json",
        "run_config.json",
        "report/report.md",
        "bundle/manifest.json",
    }
    assert (tmp_path / "mlartifacts").is_dir()  # beside the SQLite file


def _result(run_dir: Path, promoted: bool, version: str) -> RetrainResult:
    return RetrainResult(
        promoted=promoted,
        reason="promoted" if promoted else "kept the champion",
        champion_version=None,
        challenger_version=version,
        comparison={
            "heads": {
                "profit": {
                    "metric": "mae",
                    "challenger_family": "xgboost",
                    "challenger": 1.5,
                    "champion": None,
                    "challenger_wins": promoted,
                }
            },
            "folds_note": "no champion",
        },
        run_dir=run_dir,
    )


def test_retrain_promotion_sets_the_champion_alias(tmp_path):
    uri = _uri(tmp_path)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    first = mlflow_log.log_retrain(
        uri, _result(_workdir(tmp_path / "v1"), True, "v1"), {"families": ("xgboost",)}
    )
    champion = client.get_model_version_by_alias(mlflow_log.MODEL_NAME, "champion")
    assert champion.run_id == first and champion.tags["arbscore.model_version"] == "v1"
    kept_dir = tmp_path / "v2"
    kept_dir.mkdir()
    (kept_dir / "metrics.json").write_text(json.dumps(METRICS))  # not promoted: no bundle
    kept = mlflow_log.log_retrain(uri, _result(kept_dir, False, "v2"), {})
    assert client.get_run(kept).data.tags["arbscore.promoted"] == "false"
    assert "comparison.json" in _artifacts(client, kept)
    assert client.get_model_version_by_alias(mlflow_log.MODEL_NAME, "champion").run_id == first
    third = mlflow_log.log_retrain(uri, _result(_workdir(tmp_path / "v3"), True, "v3"), {})
    champion = client.get_model_version_by_alias(mlflow_log.MODEL_NAME, "champion")
    assert champion.run_id == third and str(champion.version) == "2"
    assert "bundle/manifest.json" in _artifacts(client, third)


def test_evaluate_cli_logs_to_mlflow(tmp_path):
    uri = _uri(tmp_path)
    out = tmp_path / "eval"
    args = ["evaluate", "--data", str(GUIDE_CSV), "--out", str(out), "--folds", "2"]
    res = runner.invoke(app, [*args, "--family", MEAN_FAMILY, "--mlflow", uri])
    assert res.exit_code == 0, res.output
    client = MlflowClient(tracking_uri=uri)
    (run,) = client.search_runs([client.get_experiment_by_name("arbscore").experiment_id])
    assert run.info.run_id in res.output
    assert run.data.params["evaluation.n_folds"] == "2" and run.data.params["data"] == str(
        GUIDE_CSV
    )
    metrics = json.loads((out / "metrics.json").read_text())
    family = next(iter(metrics["families"]))
    history = _history(client, run.info.run_id, f"{family}.profit.mae_folds")
    assert [v for _, v in history] == pytest.approx(
        metrics["families"][family]["profit"]["mae_folds"]
    )
    assert "metrics.json" in _artifacts(client, run.info.run_id)


def test_retrain_cli_hands_the_result_to_mlflow(tmp_path, monkeypatch):
    import arbscore.ops.retrain as retrain_mod

    uri = _uri(tmp_path)
    run_dir = _workdir(tmp_path / "root" / "versions" / "v1")
    monkeypatch.setattr(
        retrain_mod, "retrain", lambda frame, config, progress: _result(run_dir, True, "v1")
    )
    monkeypatch.setattr("arbscore.cli.model_cmds.load_data", lambda data: None)
    res = runner.invoke(
        app,
        ["retrain", "--root", str(tmp_path / "root"), "--data", str(GUIDE_CSV), "--mlflow", uri],
    )
    assert res.exit_code == 0, res.output
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    champion = client.get_model_version_by_alias(mlflow_log.MODEL_NAME, "champion")
    assert client.get_run(champion.run_id).data.params["retrain.required_wins"] == "2"


def test_mlflow_env_needs_the_variable(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    args = ["evaluate", "--data", str(GUIDE_CSV), "--out", str(tmp_path), "--mlflow", "env"]
    res = runner.invoke(app, [*args, "--family", MEAN_FAMILY])
    assert res.exit_code == 2 and "MLFLOW_TRACKING_URI" in res.output
    assert not (tmp_path / "metrics.json").exists()  # refused before any work


def test_no_mlflow_import_without_the_flag(tmp_path):
    code = f"""
import sys
from typer.testing import CliRunner
from arbscore.cli import app
args = ["evaluate", "--data", {str(GUIDE_CSV)!r}, "--out", {str(tmp_path / "o")!r},
        "--folds", "2", "--family", {MEAN_FAMILY!r}]
res = CliRunner().invoke(app, args)
assert res.exit_code == 0, res.output
assert "mlflow" not in sys.modules, "mlflow imported"
print("ok")
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300
    )
    assert done.returncode == 0 and "ok" in done.stdout, done.stdout + done.stderr


def test_run_cli_logs_the_finished_workdir(tmp_path, monkeypatch):
    import arbscore.cli.run_cmds as run_cmds
    import arbscore.pipeline as pipeline

    uri = _uri(tmp_path)
    work = _workdir(tmp_path / "work")
    report = work / "report"
    result = pipeline.RunResult(
        work, [], report / "report.html", report / "report.md", work / "bundle", METRICS
    )
    monkeypatch.setattr(pipeline, "run_pipeline", lambda cfg, progress: result)
    monkeypatch.setattr(run_cmds, "_summary", lambda result, console: None)
    res = runner.invoke(app, ["run", "--out", str(work), "--data", "synthetic", "--mlflow", uri])
    assert res.exit_code == 0, res.output
    client = MlflowClient(tracking_uri=uri)
    (run,) = client.search_runs([client.get_experiment_by_name("arbscore").experiment_id])
    assert run.data.tags["arbscore.command"] == "run" and run.info.run_id in res.output
    assert "bundle/manifest.json" in _artifacts(client, run.info.run_id)
