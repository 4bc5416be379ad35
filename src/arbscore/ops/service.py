"""Operations inside ``arbscore serve --ops-db URL``: tracking sink, drift gauges, /dashboard.

``OpsService`` owns one store connection (guarded by a lock: the request sink's writer thread,
the periodic jobs and the dashboard share it) and three parts:

- the prediction sink (``ServeConfig.prediction_sink``): every /predict and /predict/batch row is
  queued for the ``predictions`` table and fed to the drift monitor;
- a background job every ``job_interval_s``: score the newest live slot with the serving model
  (tracked as ``origin='live-scan'``, with legs, so outcomes can be attached even when the bot
  sends none) and attach realised outcomes whose hold window the live data now covers;
- ``attach(app)``: ``GET /dashboard`` (HTML), ``GET /ops/summary`` (the same data as JSON) and
  the drift gauges on ``/metrics``.

Imported only when ``--ops-db`` is given, so the plain serving install never loads pandas.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pandas as pd

from arbscore.data_tools.costs import CostConfig
from arbscore.data_tools.store import LIVE_SNAPSHOTS, open_store
from arbscore.ops.drift import DriftConfig, DriftMonitor
from arbscore.ops.live_opps import SCAN_HISTORY_DAYS, live_opportunities, records
from arbscore.ops.paper import PaperConfig, paper_trade
from arbscore.ops.snapshot import write_snapshot
from arbscore.ops.tracking import (
    PredictionTracker,
    accuracy_over_time,
    attach_outcomes,
    prediction_rows,
    tracked,
)
from arbscore.serve.positions import bundle_fees


@dataclass(frozen=True)
class OpsConfig:
    """Settings of the in-server operations (see module docstring)."""

    db: str
    drift: DriftConfig = field(default_factory=DriftConfig)
    paper: PaperConfig = field(default_factory=PaperConfig)
    costs: CostConfig = field(default_factory=CostConfig)
    job_interval_s: float = 300.0
    flush_seconds: float = 1.0
    live_days: float = 7.0
    dashboard_cache_s: float = 30.0
    live_rows_shown: int = 30

    def __post_init__(self) -> None:
        if self.job_interval_s <= 0 or self.flush_seconds <= 0 or self.live_days <= 0:
            raise ValueError("--ops-interval, flush seconds and live days must be > 0")


class OpsService:
    def __init__(self, config: OpsConfig) -> None:
        self.config = config
        self.store = open_store(config.db)
        self.lock = threading.Lock()
        self.monitor = DriftMonitor(config.drift)
        self.tracker = PredictionTracker(
            self.store, self.lock, flush_seconds=config.flush_seconds, listeners=[self.monitor]
        )
        self._provider: Any = None
        self._cache: tuple[float, tuple[str, int], dict] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.job_errors: list[str] = []
        self.job_rounds = 0

    # --- the sink ---------------------------------------------------------------------------
    def sink(self, scorer: Any, records_: list, predictions: list, raw: Any = None) -> None:
        """``ServeConfig.prediction_sink``: one list append in the request (see tracker)."""
        self.tracker(scorer, records_, predictions, raw)

    # --- periodic jobs ----------------------------------------------------------------------
    def _live(self, days: float) -> pd.DataFrame:
        """Live rows of the last ``days`` before the newest slot (read in SQL, not all rows)."""
        hours = max(1, math.ceil(days * 24))
        newest = "(SELECT MAX(snapshot_time) FROM live_snapshots)"
        with self.lock:
            return self.store.read(
                LIVE_SNAPSHOTS, f"snapshot_time > {newest} - INTERVAL '{hours} hours'"
            )

    def scan(self, scorer: Any) -> pd.DataFrame:
        """Score the newest live slot; track each row once per (model, candidate, slot)."""
        live = self._live(SCAN_HISTORY_DAYS)  # the horizon features' 30-day windows
        opp = live_opportunities(live, self.config.paper.opportunities) if len(live) else live
        if opp.empty:
            return opp
        opp = opp[opp["timestamp"] == opp["timestamp"].max()].reset_index(drop=True)
        recs = records(opp)
        preds = scorer.predict_records(recs)
        raw = [
            {
                "prediction_id": f"scan:{scorer.model_version}:{k}:{t:%Y%m%dT%H%M}",
                "timestamp": t.isoformat(),
                "long_exchange": le,
                "long_market": lm,
                "short_exchange": se,
                "short_market": sm,
            }
            for k, t, le, lm, se, sm in opp[
                [
                    "opportunity_key",
                    "timestamp",
                    "long_exchange",
                    "long_market",
                    "short_exchange",
                    "short_market",
                ]
            ].itertuples(index=False, name=None)
        ]
        self.tracker.enqueue(
            prediction_rows(scorer.model_version, recs, preds, raw, origin="live-scan")
        )
        self.monitor(scorer, recs, preds)
        out = opp.assign(**{k: [p[k] for p in preds] for k in preds[0] if k != "model_version"})
        return out

    def run_jobs(self) -> None:
        """One round: scan the newest slot, flush, attach outcomes, write the store's readable
        snapshot (``ops.snapshot``; errors are kept, not raised)."""
        try:
            if self._provider is not None:
                self.scan(self._provider.scorer)
            self.tracker.flush()
            costs, grid = self.config.costs, None
            if self._provider is not None:  # the served bundle's fees and hold grid
                scorer = self._provider.scorer
                costs = dataclasses.replace(costs, fees=bundle_fees(scorer, costs.fees))
                grid = scorer.terms.hold_grid_hours
            attach_outcomes(self.store, costs, lock=self.lock, hold_grid=grid)
            write_snapshot(self.store, self.lock)  # what drift/paper/track read meanwhile
        except Exception as exc:  # noqa: BLE001 - a bad round must not stop the server
            self.job_errors = [*self.job_errors[-9:], f"{type(exc).__name__}: {exc}"]
        self.job_rounds += 1

    def _loop(self) -> None:
        self.run_jobs()
        while not self._stop.wait(self.config.job_interval_s):
            self.run_jobs()

    # --- dashboard --------------------------------------------------------------------------
    def dashboard_data(self, scorer: Any) -> dict[str, Any]:
        """Everything the page shows, JSON-ready; cached ``dashboard_cache_s`` per model."""
        now = time.monotonic()
        key = (scorer.model_version, self.job_rounds)  # a finished job round invalidates it
        if (
            self._cache
            and self._cache[1] == key
            and now - self._cache[0] < self.config.dashboard_cache_s
        ):
            return self._cache[2]
        data: dict[str, Any] = {
            "model_version": scorer.model_version,
            "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        live = self._live(self.config.live_days)
        data["live"] = self._live_block(scorer)
        try:
            data["paper"] = (
                _paper_block(paper_trade(live, scorer, self.config.paper)) if len(live) else None
            )
            if not len(live):
                data["paper_note"] = "no live snapshots yet: run `arbscore live`"
        except ValueError as exc:
            data["paper"], data["paper_note"] = None, str(exc)
        self.tracker.flush()
        frame = tracked(self.store, self.lock)
        done = frame.loc[frame["realised_profit_pct"].notna(), "opportunity_time"]
        span = (done.max() - done.min()) if len(done) else pd.Timedelta(0)
        acc = accuracy_over_time(frame, "1D" if span > pd.Timedelta(days=3) else "1h")
        acc = acc[acc["realised"] > 0]
        data["accuracy"] = [
            {
                **{k: _clean(v) for k, v in row.items() if k != "period"},
                "period": row["period"].strftime("%Y-%m-%d %H:%M"),
                "model": row["model_version"],
                "period_ms": int(row["period"].value // 10**6),
            }
            for row in acc.to_dict("records")
        ]
        report = self.monitor.report()
        if report is None or not report.enough_rows:
            data["drift"] = None
            data["drift_note"] = (
                "bundle has no drift reference"
                if report is None
                else f"{report.note} scored so far"
            )
        else:
            d = report.to_dict()
            levels = {k: self.config.drift.level(v) for k, v in report.features.items()}
            levels.update(
                {f"head:{k}": self.config.drift.level(v) for k, v in report.predictions.items()}
            )
            data["drift"] = {**d, "levels": levels}
        data["jobs"] = {
            "rounds": key[1],
            "errors": self.job_errors,
            "tracked_written": self.tracker.written,
        }
        self._cache = (now, key, data)
        return data

    def _live_block(self, scorer: Any) -> dict[str, Any]:
        scored = self.scan(scorer)
        if scored.empty:
            return {"rows": [], "slot": None, "count": 0}
        scored = scored.sort_values("composite_score", ascending=False)
        rows = [
            {
                "symbol": r["symbol"],
                "strategy": r["strategy"],
                "legs": f"{r['long_exchange']} {r['long_market']} / "
                f"{r['short_exchange']} {r['short_market']}",
                **{
                    k: _clean(float(r[k]))
                    for k in (
                        "fund_apr",
                        "break_even_hours",
                        "predicted_profit_pct",
                        "success_probability",
                        "predicted_hold_hours",
                        "composite_score",
                    )
                },
            }
            for r in scored.head(self.config.live_rows_shown).to_dict("records")
        ]
        return {"rows": rows, "slot": scored["timestamp"].iloc[0].isoformat(), "count": len(scored)}

    # --- wiring -----------------------------------------------------------------------------
    def attach(self, app: Any, start_jobs: bool = True) -> None:
        """Add /dashboard, /ops/summary and the drift gauges to a ``create_app`` app."""
        from fastapi.concurrency import run_in_threadpool
        from fastapi.responses import HTMLResponse, JSONResponse

        from arbscore.ops.dashboard import render_dashboard

        self._provider = app.state.provider
        app.state.ops = self
        app.state.metrics.add_collector(self.monitor.render)

        @app.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
        async def dashboard() -> HTMLResponse:
            data = await run_in_threadpool(self.dashboard_data, self._provider.scorer)
            return HTMLResponse(render_dashboard(data))

        @app.get("/ops/summary", include_in_schema=False)
        async def summary() -> JSONResponse:
            data = await run_in_threadpool(self.dashboard_data, self._provider.scorer)
            return JSONResponse(data)

        if start_jobs and self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="ops-jobs", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.tracker.close()
        with self.lock:
            self.store.close()


def _clean(value: Any) -> Any:
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def _paper_block(result: Any) -> dict[str, Any]:
    s = result.summary()
    end_ms = int(result.end.value // 10**6)
    s["equity"] = {}
    for k, r in result.strategies.items():
        times = r.equity["time_ms"].astype("int64").tolist()
        values = r.equity["equity"].tolist()
        if times[-1] < end_ms:  # carry the curve flat to the end of the window
            times, values = [*times, end_ms], [*values, values[-1]]
        s["equity"][k] = {"time_ms": times, "equity": values}
    return s
