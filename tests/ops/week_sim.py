"""A compressed week of operation (not a test): what the ops loop produces day by day.

    nice .venv/bin/python tests/ops/week_sim.py [--days 7] [--step-minutes 60]

The replay exchange's clock moves slot by slot; at each slot the real collector stores a live
snapshot (binance + bybit, BTC/ETH/SOL, spot + perp) into a DuckDB store, and the serving model
scores that slot's candidates (tracked as ``live-scan``, as ``arbscore serve --ops-db`` does).
At the end of each day: outcomes are attached, accuracy, drift (vs the bundle's reference) and
the paper A/B are computed, as the daily timers would. The champion is trained by
``ops.retrain.retrain`` (first deployment) on a synthetic 30-day market: the replay world is a
different market, so expect drift alerts. Prints one JSON line per day, then a summary.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

from ops_helpers import T0_MS  # noqa: E402

from arbscore.data_tools.collect.exchange import RetryPolicy, make_exchange  # noqa: E402
from arbscore.data_tools.collect.live import LiveConfig, snapshot_once  # noqa: E402
from arbscore.data_tools.store import LIVE_SNAPSHOTS, open_store  # noqa: E402
from arbscore.evaluation.config import EvaluationConfig  # noqa: E402
from arbscore.ops.drift import drift_report  # noqa: E402
from arbscore.ops.live_opps import live_opportunities, records  # noqa: E402
from arbscore.ops.paper import PaperConfig, paper_trade  # noqa: E402
from arbscore.ops.tracking import (  # noqa: E402
    PREDICTIONS,
    accuracy_over_time,
    attach_outcomes,
    prediction_rows,
    register,
    tracked,
)
from tests.support.replay_exchange import ReplayExchange, World  # noqa: E402


def champion(root: Path) -> Path:
    from arbscore.data_tools.opportunities import OpportunityConfig
    from arbscore.data_tools.sources.synthetic import (
        SyntheticMarketConfig,
        generate_synthetic_market,
    )
    from arbscore.data_tools.training_set import TrainingSetConfig, build_training_set
    from arbscore.ops.retrain import RetrainConfig, retrain

    market = generate_synthetic_market(
        SyntheticMarketConfig(
            days=30,
            symbols=("BTCUSDT", "ETHUSDT", "SOLUSDT"),
            exchanges=("binance", "bybit"),
            kline_minutes=60,
        )
    )
    frame = build_training_set(
        market, TrainingSetConfig(opportunities=OpportunityConfig(entry_stride_minutes=240))
    )
    config = RetrainConfig(
        root=root, families=("xgboost",), evaluation=EvaluationConfig(n_folds=2, latency_repeats=1)
    )
    result = retrain(frame, config)
    assert result.promoted
    return root / "current"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--step-minutes", type=int, default=60)
    args = parser.parse_args()
    from arbscore.serve.scorer import Scorer

    tmp = Path(tempfile.mkdtemp())
    t_start = time.perf_counter()
    scorer = Scorer(champion(tmp / "bundles"))
    exchanges, symbols = ("binance", "bybit"), ("BTCUSDT", "ETHUSDT", "SOLUSDT")
    config = LiveConfig(
        exchanges, symbols, interval=f"{args.step_minutes}m", retry=RetryPolicy(max_retries=0)
    )
    per_day = 24 * 60 // args.step_minutes
    rules = EvaluationConfig(top_k=3)
    with ReplayExchange(World()) as replay, open_store(tmp / "ops.duckdb") as store:
        register(store)
        clients = {n: make_exchange(n, api_base=replay.base_url) for n in exchanges}
        for c in clients.values():
            c.rateLimit = 1
        cache: dict = {}
        for k in range(args.days * per_day + 1):
            t = T0_MS + k * args.step_minutes * 60_000
            replay.world.end_ms = t
            assert not snapshot_once(store, clients, config, t / 1000, cache).errors
            live = store.read(
                LIVE_SNAPSHOTS,
                "snapshot_time > ?",
                [pd.Timestamp(t, unit="ms", tz="UTC") - pd.Timedelta(days=3.5)],
            )
            opp = live_opportunities(live)
            opp = opp[opp["timestamp"] == opp["timestamp"].max()]
            if len(opp):
                recs = records(opp)
                raw = [
                    {
                        "prediction_id": f"scan:{r.opportunity_key}:{r.timestamp:%Y%m%dT%H%M}",
                        "timestamp": r.timestamp.isoformat(),
                        "long_exchange": r.long_exchange,
                        "long_market": r.long_market,
                        "short_exchange": r.short_exchange,
                        "short_market": r.short_market,
                    }
                    for r in opp.itertuples()
                ]
                rows = prediction_rows(
                    scorer.model_version,
                    recs,
                    scorer.predict_records(recs),
                    raw,
                    origin="live-scan",
                )
                store.upsert(PREDICTIONS, rows)
            if k and k % per_day == 0:
                day = k // per_day
                now = pd.Timestamp(t, unit="ms", tz="UTC")
                attach_outcomes(store, now=now.to_pydatetime())
                frame = tracked(store)
                acc = accuracy_over_time(frame, "1D")
                done = frame[frame["realised_profit_pct"].notna()]
                live_all = store.read(LIVE_SNAPSHOTS)
                X, _ = scorer.features([json.loads(f) for f in frame["features"]])
                p = scorer.predict_matrix(X)
                drift = drift_report(
                    scorer.manifest["reference"],
                    X,
                    scorer.spec.feature_names,
                    {
                        "profit": p.profit_pct,
                        "success": p.success_probability,
                        "duration": p.hold_hours,
                    },
                )
                try:
                    paper = paper_trade(live_all, scorer, PaperConfig(rules=rules)).summary()
                except ValueError as exc:
                    paper = {"note": str(exc)}
                last = acc[acc["realised"] > 0].tail(1)
                print(
                    json.dumps(
                        {
                            "day": day,
                            "predictions": int(len(frame)),
                            "with_outcome": int(len(done)),
                            "with_optimal_hold": int(
                                frame["realised_optimal_hold_hours"].notna().sum()
                            ),
                            "realised_profitable_share": float(done["was_profitable"].mean())
                            if len(done)
                            else None,
                            "latest_day_profit_mae": None
                            if last.empty
                            else float(last["profit_mae"].iloc[0]),
                            "latest_day_brier": None
                            if last.empty
                            else float(last["success_brier"].iloc[0]),
                            "duration_mae_hours": float(
                                np.nanmean(
                                    np.abs(
                                        done["predicted_hold_hours"]
                                        - done["realised_optimal_hold_hours"]
                                    )
                                )
                            )
                            if done["realised_optimal_hold_hours"].notna().any()
                            else None,
                            "drift": drift.status,
                            "worst_feature": drift.worst_feature,
                            "paper": {
                                k: v
                                for k, v in paper.items()
                                if k in ("strategies", "difference", "note")
                            },
                        },
                        default=str,
                    )
                )
    print(
        json.dumps({"wall_seconds": time.perf_counter() - t_start, "model": scorer.model_version})
    )


if __name__ == "__main__":
    main()
