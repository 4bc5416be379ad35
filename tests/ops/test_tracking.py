"""Prediction tracking against real processes: ``arbscore serve --ops-db`` and ``arbscore live``
writing the same PostgreSQL database at once (the live collector fed by the replay exchange
server), then outcomes and accuracy on live rows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import numpy as np
import pandas as pd
import pytest
from ops_helpers import REPO, arbscore_cmd, free_port, start_server, stop

from arbscore.data_tools.store import LIVE_SNAPSHOTS, open_store
from arbscore.ops.live_opps import live_opportunities, realise, records
from arbscore.ops.tracking import (
    OUTCOMES,
    PREDICTIONS,
    accuracy_over_time,
    attach_outcomes,
    prediction_rows,
    tracked,
)


def _wait(predicate, timeout=60.0, step=0.3):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value is not None and value is not False and not (isinstance(value, int) and value == 0):
            return value
        time.sleep(step)
    raise AssertionError("condition not met in time")


@pytest.mark.postgres
def test_server_and_live_collector_write_one_postgres_at_once(
    pg_url, ops_bundle, live_frame, tmp_path
):
    replay_port, port = free_port(), free_port()
    replay = subprocess.Popen(
        [sys.executable, "-m", "tests.support.replay_exchange", "--port", str(replay_port)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    server = None
    try:
        server = start_server(
            [
                "--bundle",
                str(ops_bundle),
                "--port",
                str(port),
                "--ops-db",
                pg_url,
                "--ops-interval",
                "1",
            ],
            tmp_path / "server.log",
            url,
        )
        live = subprocess.Popen(
            [
                *arbscore_cmd(),
                "live",
                "--once",
                "--exchange",
                "binance,bybit",
                "--symbols",
                "BTCUSDT,ETHUSDT",
                "--db",
                pg_url,
                "--api-base",
                f"http://127.0.0.1:{replay_port}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**os.environ},
        )
        # while the collector writes, the bot scores opportunities with their legs
        opp = live_opportunities(live_frame)
        recs = records(opp.head(40))
        for rec, leg in zip(recs, opp.head(40).itertuples(), strict=True):
            rec.update(
                longExchange=leg.long_exchange,
                shortExchange=leg.short_exchange,
                long_market=leg.long_market,
                short_market=leg.short_market,
            )
        sent = 0
        while live.poll() is None or sent < 40:
            batch = recs[sent % 40 : sent % 40 + 10]
            assert httpx.post(url + "/predict/batch", json=batch, timeout=10).status_code == 200
            sent += len(batch)
        out = live.communicate(timeout=60)[0].decode()
        assert live.returncode == 0, out
        with open_store(pg_url) as store:
            snaps = store.read(LIVE_SNAPSHOTS)
            assert len(snaps) == 8 and set(snaps["exchange"]) == {"binance", "bybit"}

            def api_rows():
                frame = store.read(PREDICTIONS, "origin = ?", ["api"])
                return frame if len(frame) >= sent else None

            api = _wait(api_rows)
            scan = _wait(lambda: len(store.read(PREDICTIONS, "origin = ?", ["live-scan"])))
        assert len(api) == sent and scan > 0
        assert api["model_version"].nunique() == 1
        assert api["long_exchange"].notna().all() and api["short_market"].notna().all()
        first = json.loads(api.sort_values("predicted_at")["features"].iloc[0])
        assert "fund_profit_8h" in first and "longExchange" not in first  # model inputs only
        metrics = httpx.get(url + "/metrics", timeout=10).text
        assert "arbscore_drift_status 2" in metrics or "arbscore_drift_status 1" in metrics
        assert 'arbscore_feature_psi{feature="fund_apr"}' in metrics
    finally:
        if server is not None:
            stop(server)
        stop(replay)


def test_outcomes_attach_when_the_hold_window_exists(live_copy, live_frame):
    opp = live_opportunities(live_frame)
    t_first = opp["timestamp"].min()
    early = opp[opp["timestamp"] <= t_first + pd.Timedelta(hours=3)].reset_index(drop=True)
    late = opp[opp["timestamp"] == opp["timestamp"].max()].reset_index(drop=True)
    both = pd.concat([early, late], ignore_index=True)
    recs = records(both)
    preds = [
        {
            "predicted_profit_pct": 0.05,
            "success_probability": 0.7,
            "predicted_hold_hours": 8.0,
            "composite_score": 1.0,
        }
        for _ in recs
    ]
    raw = [
        {
            "timestamp": (r.timestamp + pd.Timedelta(minutes=3)).isoformat(),
            "long_exchange": r.long_exchange,
            "long_market": r.long_market,
            "short_exchange": r.short_exchange,
            "short_market": r.short_market,
        }
        for r in both.itertuples()
    ]
    raw[0] = {}  # no legs: tracked, but no outcome can be attached
    rows = prediction_rows("v-test", recs, preds, raw)
    with open_store(live_copy) as store:
        from arbscore.ops.tracking import register

        register(store).upsert(PREDICTIONS, rows)
        assert attach_outcomes(store) == len(early) - 1
        assert attach_outcomes(store) == len(early) - 1  # revisited: 168 h not covered yet
        outs = store.read(OUTCOMES)
        frame = tracked(store)
    expected = realise(early, live_frame, 8.0)
    got = outs.set_index("prediction_id").loc[rows["prediction_id"].iloc[1 : len(early)]]
    np.testing.assert_allclose(got["realised_profit_pct"].to_numpy(), expected[1:])
    assert (got["was_profitable"] == (expected[1:] > 0)).all()
    assert got["realised_optimal_hold_hours"].isna().all()
    acc = accuracy_over_time(frame, "1h")
    assert acc["predictions"].sum() == len(rows) and acc["realised"].sum() == len(early) - 1
    r = acc[acc["realised"] > 0]
    assert r["profit_mae"].notna().all() and r["success_brier"].between(0, 1).all()
    with pytest.raises(ValueError, match="--freq"):
        accuracy_over_time(frame, "fortnightly")
