"""The ops loop on the embedded default (a DuckDB file), through the real command.

- ``drift``, ``paper`` and ``track accuracy`` work while ``arbscore serve --ops-db FILE`` holds
  the file (they read the snapshot the server writes after each ops round, and say so);
- ``paper`` and ``drift`` replay recorded live snapshots from a file (``--replay``);
- ``live --once`` exits 1 when every exchange failed;
- ``track accuracy`` prints whole headers and a dash, never ``nan``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time

from ops_helpers import arbscore_cmd, free_port, start_server, stop

from arbscore.ops.snapshot import snapshot_path

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def arbscore(*args: str, env: dict | None = None, timeout: float = 180):
    return subprocess.run(
        [*arbscore_cmd(), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "ARBSCORE_NO_BLAS_PRELOAD": "1", **(env or {})},
    )


def test_read_verbs_work_while_the_server_holds_the_duckdb_store(live_copy, ops_bundle, tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(
        ["--bundle", str(ops_bundle), "--port", str(port), "--ops-db", str(live_copy)],
        tmp_path / "serve.log",
        url,
    )
    try:
        snap = snapshot_path(live_copy)
        deadline = time.monotonic() + 60
        while not snap.exists() and time.monotonic() < deadline:
            time.sleep(0.2)  # the first ops round runs at start and writes it
        assert snap.exists(), (tmp_path / "serve.log").read_text()
        out = tmp_path / "drift.json"
        drift = arbscore(
            "drift", "--bundle", str(ops_bundle), "--db", str(live_copy), "-o", str(out)
        )
        assert drift.returncode == 0, drift.stderr
        assert f"reading its snapshot {snap}" in drift.stderr
        assert json.loads(out.read_text())["rows"] > 0
        paper = arbscore(
            "paper", "--bundle", str(ops_bundle), "--db", str(live_copy), "--max-hold", "12"
        )
        assert paper.returncode == 0, paper.stderr
        assert "paper A/B" in paper.stdout
        acc = arbscore("track", "accuracy", "--db", str(live_copy))
        assert acc.returncode == 0, acc.stderr
        assert "held by another process" in acc.stderr
        assert server.poll() is None  # the server kept the store throughout
    finally:
        stop(server)


def test_paper_and_drift_replay_recorded_live_snapshots(live_copy, ops_bundle, tmp_path):
    recorded = tmp_path / "recorded.parquet"
    exported = arbscore("data", "export", "live_snapshots", str(recorded), "--db", str(live_copy))
    assert exported.returncode == 0, exported.stderr
    no_store = {"ARBSCORE_DB": str(tmp_path / "absent.duckdb")}  # nothing but the file
    paper_json = tmp_path / "paper.json"
    paper = arbscore(
        "paper", "--bundle", str(ops_bundle), "--replay", str(recorded), "--max-hold", "12",
        "--out", str(paper_json), env=no_store,
    )  # fmt: skip
    assert paper.returncode == 0, paper.stderr
    assert set(json.loads(paper_json.read_text())["strategies"]) == {"ml", "rule_based"}
    drift_json = tmp_path / "drift.json"
    drift = arbscore(
        "drift", "--bundle", str(ops_bundle), "--replay", str(recorded), "--out",
        str(drift_json), env=no_store,
    )  # fmt: skip
    assert drift.returncode == 0, drift.stderr
    report = json.loads(drift_json.read_text())
    assert report["source"] == f"replay of {recorded}" and report["rows"] > 50
    assert not (tmp_path / "absent.duckdb").exists()  # the replay created no store
    bad = arbscore("paper", "--bundle", str(ops_bundle), "--replay", str(tmp_path / "no.csv"))
    assert bad.returncode == 2 and "--replay" in bad.stderr


def test_live_once_exits_1_when_every_exchange_failed(tmp_path):
    result = arbscore(
        "live", "--once", "--exchange", "binance", "--api-base", "http://127.0.0.1:1",
        "--db", str(tmp_path / "live.duckdb"),
    )  # fmt: skip
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "binance failed" in result.stdout
    assert "every exchange failed" in result.stderr


def test_track_accuracy_prints_whole_headers_and_no_nan(live_copy, ops_bundle):
    from arbscore.data_tools.store import LIVE_SNAPSHOTS, open_store
    from arbscore.ops.live_opps import live_opportunities, records
    from arbscore.ops.tracking import PREDICTIONS, prediction_rows, register
    from arbscore.serve.scorer import Scorer

    scorer = Scorer(ops_bundle)
    with open_store(live_copy) as store:  # predictions tracked, no outcome attached yet
        recs = records(live_opportunities(store.read(LIVE_SNAPSHOTS)).head(20))
        rows = prediction_rows(scorer.model_version, recs, scorer.predict_records(recs))
        register(store).upsert(PREDICTIONS, rows)
    # an 80-column terminal (rich's own terminal check, forced) and a pipe
    for env in ({"TTY_COMPATIBLE": "1", "COLUMNS": "80"}, {"COLUMNS": "80"}):
        result = arbscore("track", "accuracy", "--db", str(live_copy), env=env)
        assert result.returncode == 0, result.stderr
        text = ANSI.sub("", result.stdout)
        assert "nan" not in text.lower() and "…" not in text, text
        flat = " ".join(re.sub(r"[│┃|]", " ", text).split())
        for header in ("with outcome", "success Brier", "success accuracy", "optimal hold MAE (h)"):
            words = header.split()
            assert all(w in flat for w in words), (header, text)
        assert "no outcomes yet" in " ".join(text.split())
