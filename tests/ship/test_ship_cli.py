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


TINY_MARKET = {
    "synthetic": {"days": 30, "symbols": ["BTCUSDT", "ETHUSDT"], "exchanges": ["binance", "bybit"],
                  "kline_minutes": 60},
    "training_set": {
        "opportunities": {"entry_stride_minutes": 240},
        "simulation": {"holds_hours": [1, 8, 24, 72], "horizon_hours": 72},
    },
    "evaluation": {"n_folds": 2, "latency_repeats": 1},
    "families": FAMILY,
}  # fmt: skip


def _tiny_run(tmp_path, *flags):
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(TINY_MARKET))
    run_dir = tmp_path / "run"
    res = runner.invoke(
        app,
        ["run", "--out", str(run_dir), "--data", "synthetic", "--family", "xgboost",
         "--config", str(config), *flags],
        env={"COLUMNS": "200"},
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    return run_dir, config, res


def test_run_cuts_folds_from_test_start_and_says_what_it_dropped(tmp_path):
    run_dir, _, res = _tiny_run(tmp_path, "--test-start", "2025-01-20")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    record = json.loads((run_dir / "run_config.json").read_text())
    assert record["command"].endswith("--test-start 2025-01-20")
    assert metrics["folds"][0]["test_start"] == "2025-01-20T00:00:00Z"
    assert metrics["folds"][-1]["test_end"] > "2025-01-27"
    # the last 72 h of the market cannot be labelled: counted, dated and explained
    dropped = metrics["dropped"]
    assert dropped["entries"] > 0 and dropped["max_hold_hours"] == 72.0
    assert dropped["after"] >= metrics["data"]["end"]
    text = " ".join(res.output.split())
    assert f"dropped {dropped['entries']:,} of {dropped['detected']:,} entries" in text
    assert "runs past the end of the data" in text


def test_backtest_books_a_shipped_bundle_out_of_time(tmp_path):
    run_dir, config, _ = _tiny_run(tmp_path)
    out = tmp_path / "bt"
    res = runner.invoke(
        app,
        ["backtest", "--bundle", str(run_dir / "bundle"), "--data", "synthetic",
         "--start", "2025-03-01", "--end", "2025-03-10", "--out", str(out),
         "--config", str(config)],
        env={"COLUMNS": "200"},
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    metrics = json.loads((out / "metrics.json").read_text())
    pooled = metrics["backtest"]["pooled"]
    assert {"bundle", "carry_rule", "fund_apr_rank", "persistence", "hindsight_oracle"} <= set(
        pooled
    )
    assert "annual_return_ci95" in pooled["bundle"]
    assert metrics["backtest"]["vs_rule"]["bundle"]["verdict"]
    assert metrics["window"]["start"].startswith("2025-03-01")
    assert metrics["window"]["end"].startswith("2025-03-11")  # a date-only end includes its day
    assert metrics["bundle"]["hold_grid_hours"] == [1.0, 8.0, 24.0, 72.0]
    # the data after --end was read: the last day's entries were labelled, none dropped
    assert metrics["dropped"]["entries"] == 0
    import pandas as pd

    scored = pd.read_parquet(out / "evaluation" / "predictions.parquet")
    entry = pd.to_datetime(scored["timestamp"], utc=True)
    assert entry.min() >= pd.Timestamp("2025-03-01", tz="UTC")
    assert entry.max() < pd.Timestamp("2025-03-11", tz="UTC")
    assert entry.max() >= pd.Timestamp("2025-03-10", tz="UTC")  # --end's own day was booked
    trades = pd.read_parquet(out / "evaluation" / "backtest_trades.parquet")
    booked = pd.to_datetime(trades["entry_time"], utc=True)
    assert booked.empty or booked.between(entry.min(), entry.max()).all()
    assert (out / "report" / "report.html").is_file()
    assert "bundle" in " ".join(res.output.split())


def test_backtest_refuses_a_bad_window_with_exit_2(tmp_path):
    res = runner.invoke(
        app,
        ["backtest", "--bundle", str(tmp_path / "none"), "--data", "synthetic",
         "--start", "2025-03-10", "--end", "2025-03-01", "--out", str(tmp_path / "o")],
    )  # fmt: skip
    assert res.exit_code == 2
    assert "--start 2025-03-10 is not before --end 2025-03-01" in " ".join(res.output.split())


def test_evaluate_takes_config_and_test_start(tmp_path):
    data = tmp_path / "set" / "training_data.parquet"
    data.parent.mkdir()
    res = runner.invoke(
        app,
        ["simulate", "--data", "synthetic", "--days", "12", "--symbols", "BTCUSDT,ETHUSDT",
         "--holds", "1,8,24", "--out", str(data)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"evaluation": {"n_folds": 3, "latency_repeats": 1}}))
    out = tmp_path / "ev"
    res = runner.invoke(
        app,
        ["evaluate", "--data", str(data), "--out", str(out), "--family", "xgboost",
         "--config", str(config), "--test-start", "2025-01-08"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["folds"]) == 3  # from the file
    assert metrics["folds"][0]["test_start"] == "2025-01-08T00:00:00Z"  # from the flag
    assert metrics["config"]["test_start"] == "2025-01-08"


def test_export_ships_the_backtested_family_unless_asked_for_the_head_winners(tmp_path):
    both = dict(TINY_MARKET, families={**FAMILY, "lightgbm": FAMILY["xgboost"]})
    config = tmp_path / "both.json"
    config.write_text(json.dumps(both))
    run_dir = tmp_path / "run"
    res = runner.invoke(
        app,
        ["run", "--out", str(run_dir), "--data", "synthetic", "--family", "xgboost,lightgbm",
         "--config", str(config)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    metrics = json.loads((run_dir / "metrics.json").read_text())
    rec = metrics["recommended_family"]["family"]
    other = "lightgbm" if rec == "xgboost" else "xgboost"
    # the heads' winners disagree with the book: a mix of the two families
    metrics["winner"] = {"profit": other, "success": rec, "duration": rec}
    (run_dir / "metrics.json").write_text(json.dumps(metrics))
    for ship, families, verdict in (("recommended", {rec}, True), ("head_winners", None, False)):
        out = tmp_path / ship
        res = runner.invoke(
            app, ["export", "--from", str(run_dir), "--out", str(out), "--ship", ship]
        )
        assert res.exit_code == 0, res.output
        manifest = json.loads((out / "manifest.json").read_text())
        shipped = {h: e["family"] for h, e in manifest["heads"].items()}
        strategy = manifest["strategy"]
        if families:
            assert set(shipped.values()) == families and strategy["name"] == rec
        else:
            assert shipped["profit"] == other and len(set(shipped.values())) == 2
            assert strategy["name"] == "+".join(
                shipped[h] for h in ("profit", "success", "duration")
            )
        assert strategy["backtested"] is verdict and (strategy["verdict"] is not None) is verdict
