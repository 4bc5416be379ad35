"""What you backtest is what you ship, through the real CLI on the synthetic market:
``simulate`` writes the labels' fee schedule beside the set, ``run`` on that file carries the
fees and the hold grid into the bundle."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from arbscore.cli import app
from arbscore.schema import FEES_FILE_NAME

runner = CliRunner()
FAMILY = {"xgboost": {"n_estimators": 20, "early_stopping_rounds": 5, "n_jobs": 1}}


def test_simulate_writes_fees_and_run_ships_them_with_the_hold_grid(tmp_path):
    out = tmp_path / "set" / "training_data.parquet"
    out.parent.mkdir()
    res = runner.invoke(
        app,
        [
            "simulate", "--data", "synthetic", "--days", "10", "--symbols", "BTCUSDT,ETHUSDT",
            "--holds", "1,8,24", "--entry-order", "maker", "--out", str(out),
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    fees = json.loads((out.parent / FEES_FILE_NAME).read_text())
    assert fees["entry_order"] == "maker"
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"evaluation": {"n_folds": 2}, "families": FAMILY}))
    run_dir = tmp_path / "run"
    res = runner.invoke(
        app,
        ["run", "--out", str(run_dir), "--data", str(out), "--family", "xgboost",
         "--config", str(config)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    manifest = json.loads((run_dir / "bundle" / "manifest.json").read_text())
    assert manifest["fees"] == fees and manifest["fees_source"] == "training run"
    assert manifest["hold_grid_hours"] == [1.0, 8.0, 24.0]
    hold = {i["name"]: i for i in manifest["inputs"]}["hold_hours"]
    assert hold["maximum"] == 24.0
