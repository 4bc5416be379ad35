"""``arbscore drift | paper | track`` on a live store; bad input is exit 2 with a message."""

from __future__ import annotations

import json

import pytest
from ops_helpers import tiny_market
from typer.testing import CliRunner

from arbscore.cli import app
from arbscore.data_tools.store import LIVE_SNAPSHOTS

runner = CliRunner()


def _flat(text: str) -> str:
    return " ".join(text.split())  # rich wraps lines at the terminal width


def test_drift_and_paper_commands(live_copy, ops_bundle, tmp_path):
    out = tmp_path / "drift.json"
    res = runner.invoke(
        app, ["drift", "--bundle", str(ops_bundle), "--db", str(live_copy), "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    report = json.loads(out.read_text())
    assert report["source"] == "live" and report["rows"] > 50  # nothing tracked yet: live rows
    assert report["status"] in ("ok", "warn", "alert") and "fund_apr" in report["features"]
    assert "drift of" in res.output and "status:" in res.output
    strict = runner.invoke(
        app, ["drift", "--bundle", str(ops_bundle), "--db", str(live_copy), "--fail-on", "warn"]
    )
    assert strict.exit_code == (1 if report["status"] in ("warn", "alert") else 0)
    paper_json = tmp_path / "paper.json"
    res = runner.invoke(
        app,
        [
            "paper",
            "--bundle",
            str(ops_bundle),
            "--db",
            str(live_copy),
            "--max-hold",
            "12",
            "--out",
            str(paper_json),
        ],
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(paper_json.read_text())
    assert set(summary["strategies"]) == {"ml", "rule_based"}
    assert "interval" in summary["difference"]["statement"]
    res = runner.invoke(app, ["track", "outcomes", "--db", str(live_copy)])
    assert res.exit_code == 0 and "0 outcomes written" in res.output
    # once the server has tracked predictions of this model, drift reads those by default
    from arbscore.data_tools.store import open_store
    from arbscore.ops.live_opps import live_opportunities, records
    from arbscore.ops.tracking import PREDICTIONS, prediction_rows, register
    from arbscore.serve.scorer import Scorer

    scorer = Scorer(ops_bundle)
    with open_store(live_copy) as store:
        recs = records(live_opportunities(store.read(LIVE_SNAPSHOTS)).head(60))
        rows = prediction_rows(scorer.model_version, recs, scorer.predict_records(recs))
        register(store).upsert(PREDICTIONS, rows)
    res = runner.invoke(
        app, ["drift", "--bundle", str(ops_bundle), "--db", str(live_copy), "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    tracked = json.loads(out.read_text())
    assert tracked["source"] == "tracked" and tracked["rows"] == 60  # >= MIN_DRIFT_ROWS
    assert tracked["status"] in ("ok", "warn", "alert") and tracked["features"]


def test_bad_input_is_exit_2_naming_the_field(live_copy, tmp_path):
    res = runner.invoke(app, ["drift", "--bundle", str(tmp_path / "nope"), "--db", str(live_copy)])
    assert res.exit_code == 2 and "not a directory" in _flat(res.output)
    res = runner.invoke(app, ["track", "accuracy", "--db", str(live_copy), "--freq", "weekly-ish"])
    assert res.exit_code == 2 and "--freq" in _flat(res.output)
    empty = str(tmp_path / "e.duckdb")
    res = runner.invoke(app, ["paper", "--bundle", str(tmp_path), "--db", empty])
    assert res.exit_code == 2
    res = runner.invoke(app, ["retrain", "--root", str(tmp_path / "r"), "--required-wins", "5"])
    assert res.exit_code == 2 and "required_wins" in _flat(res.output)


@pytest.mark.slow
def test_retrain_command_builds_the_training_set_from_the_store(tmp_path):
    from arbscore.data_tools.store import FUNDING, KLINES, open_store

    market = tiny_market()
    db = tmp_path / "market.duckdb"
    with open_store(db) as store:
        store.write({FUNDING: market.funding, KLINES: market.klines})
    root = tmp_path / "bundles"
    args = [
        "retrain",
        "--root",
        str(root),
        "--db",
        str(db),
        "--days",
        "30",
        "--family",
        "xgboost",
        "--folds",
        "2",
    ]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "no champion yet" in _flat(res.output)
    assert (root / "current" / "manifest.json").is_file()
    res = runner.invoke(app, [*args[:5], "--days", "0"])
    assert res.exit_code == 2 and "--days" in _flat(res.output)
