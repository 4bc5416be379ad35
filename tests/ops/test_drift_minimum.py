"""One minimum-sample rule for drift (``MIN_DRIFT_ROWS``): below it ``arbscore drift``, the
server's /metrics and the dashboard all say "not enough rows (n < N)" instead of PSI alerts."""

from __future__ import annotations

import json
import re
import time

import httpx
from ops_helpers import free_port, start_server, stop
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from arbscore.cli import app
from arbscore.data_tools.store import LIVE_SNAPSHOTS, open_store
from arbscore.ops.drift import MIN_DRIFT_ROWS, DriftConfig
from arbscore.ops.live_opps import live_opportunities, records
from arbscore.ops.tracking import PREDICTIONS, prediction_rows, register
from arbscore.serve.scorer import Scorer

runner = CliRunner()


def _flat(text: str) -> str:
    return " ".join(text.split())


def _track(db, bundle, n: int) -> None:
    scorer = Scorer(bundle)
    with open_store(db) as store:
        recs = records(live_opportunities(store.read(LIVE_SNAPSHOTS)).head(n))
        rows = prediction_rows(scorer.model_version, recs, scorer.predict_records(recs))
        register(store).upsert(PREDICTIONS, rows)


def test_one_constant_for_cli_and_server():
    assert DriftConfig().min_rows == MIN_DRIFT_ROWS == 50


def test_drift_cli_on_five_rows_reports_not_enough_rows(live_copy, ops_bundle, tmp_path):
    _track(live_copy, ops_bundle, 5)
    out = tmp_path / "drift.json"
    args = ["drift", "--bundle", str(ops_bundle), "--db", str(live_copy), "--json", str(out)]
    res = runner.invoke(app, [*args, "--fail-on", "warn"])
    assert res.exit_code == 0, res.output  # no PSI, no alert: --fail-on does not fire
    text = _flat(res.output)
    assert f"not enough rows (5 < {MIN_DRIFT_ROWS})" in text
    assert "alert" not in text and "PSI" in text  # "no PSI below 50 rows", no table
    report = json.loads(out.read_text())
    assert report["source"] == "tracked" and report["rows"] == 5
    assert report["status"] == "not enough rows" and report["min_rows"] == MIN_DRIFT_ROWS
    assert report["features"] == {} and report["predictions"] == {}
    assert report["note"] == f"not enough rows (5 < {MIN_DRIFT_ROWS})"


def test_server_metrics_and_dashboard_wait_for_the_same_minimum(
    live_copy, live_frame, ops_bundle, tmp_path
):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = ["--bundle", str(ops_bundle), "--port", str(port), "--ops-db", str(live_copy)]
    server = start_server([*args, "--ops-interval", "3600"], tmp_path / "s.log", url)
    try:
        recs = records(live_opportunities(live_frame).head(3))  # far below the minimum
        assert httpx.post(url + "/predict/batch", json=recs, timeout=30).status_code == 200
        for _ in range(240):  # the first ops round (scan of the newest slot) runs at start-up
            summary = httpx.get(url + "/ops/summary", timeout=120).json()
            if summary["jobs"]["rounds"]:
                break
            time.sleep(0.5)
        assert summary["drift"] is None
        found = re.fullmatch(
            rf"not enough rows \((\d+) < {MIN_DRIFT_ROWS}\) scored so far", summary["drift_note"]
        )
        assert found and 3 <= int(found.group(1)) < MIN_DRIFT_ROWS, summary["drift_note"]
        metrics = httpx.get(url + "/metrics", timeout=30).text
        assert "arbscore_drift_status -1" in metrics and "arbscore_feature_psi{" not in metrics
        # the request families and ops' drift gauges make one parseable scrape
        names = {f.name for f in text_string_to_metric_families(metrics)}
        assert {"arbscore_requests", "arbscore_drift_status", "arbscore_drift_rows"} <= names
        page = httpx.get(url + "/dashboard", timeout=120).text
        assert "not enough rows (" in page and f"&lt; {MIN_DRIFT_ROWS})" in page
    finally:
        stop(server)
