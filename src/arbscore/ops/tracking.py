"""Prediction tracking: every prediction the server makes, its realised outcome, accuracy.

Two store tables (``MarketStore.register_table``): ``predictions`` (when, model version, where
it came from, the opportunity's legs when the caller sent them, the model inputs as JSON, the
three outputs) and ``prediction_outcomes`` (realised net PnL at the hold the model chose, whether
it was profitable, and the best grid hold once the grid's largest hold of live data exists).
DuckDB by default; with PostgreSQL the server and ``arbscore live`` write the same database at once.

:class:`PredictionTracker` is the server's sink: requests only append to an in-memory queue and a
background thread upserts batches, so a slow database never slows ``/predict``.
:func:`attach_outcomes` marks tracked predictions to market on the live snapshots
(``ops.live_opps.realise``); :func:`accuracy_over_time` summarises them per period and head.
"""

from __future__ import annotations

import json
import math
import threading
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pandas as pd

from arbscore.data_tools.costs import CostConfig
from arbscore.data_tools.store import LIVE_SNAPSHOTS, Column, MarketStore, TableSpec
from arbscore.ops.live_opps import realise, realised_optimal_hold
from arbscore.schema import HOLD_GRID_HOURS, clip_hold_hours

PREDICTIONS = TableSpec(
    name="predictions",
    columns=(
        Column("prediction_id", "text", False),
        Column("predicted_at", "time", False),
        Column("opportunity_time", "time", False),
        Column("model_version", "text", False),
        Column("origin", "text", False),
        Column("symbol", "text", False),
        Column("strategy", "text"),
        Column("long_exchange", "text"),
        Column("long_market", "text"),
        Column("short_exchange", "text"),
        Column("short_market", "text"),
        Column("hold_hours_requested", "float"),
        Column("features", "text", False),
        Column("predicted_profit_pct", "float", False),
        Column("success_probability", "float", False),
        Column("predicted_hold_hours", "float", False),
        Column("composite_score", "float"),
    ),
    primary_key=("prediction_id",),
)

OUTCOMES = TableSpec(
    name="prediction_outcomes",
    columns=(
        Column("prediction_id", "text", False),
        Column("evaluated_at", "time", False),
        Column("hold_hours", "float", False),
        Column("realised_profit_pct", "float", False),
        Column("was_profitable", "int", False),
        Column("realised_optimal_hold_hours", "float"),
    ),
    primary_key=("prediction_id",),
)

_LEG_KEYS = {
    "long_exchange": ("long_exchange", "longExchange"),
    "long_market": ("long_market", "longMarket"),
    "short_exchange": ("short_exchange", "shortExchange"),
    "short_market": ("short_market", "shortMarket"),
}


def register(store: MarketStore) -> MarketStore:
    """Create the tracking tables in ``store`` (idempotent); returns the store."""
    store.register_table(PREDICTIONS)
    store.register_table(OUTCOMES)
    return store


def _first(raw: Mapping[str, Any], names: Sequence[str]) -> Any:
    for name in names:
        if raw.get(name) not in (None, ""):
            return raw[name]
    return None


def prediction_rows(
    model_version: str,
    records: Sequence[Mapping[str, Any]],
    predictions: Sequence[Mapping[str, Any]],
    raw: Sequence[Any] | None = None,
    *,
    origin: str = "api",
    now: datetime | None = None,
) -> pd.DataFrame:
    """One ``predictions`` row per scored record. ``raw``: the JSON objects as sent, for the
    legs and entry time the model does not read (``long_exchange``/``longExchange``, ...,
    ``timestamp``); without legs an outcome cannot be attached later."""
    now = now or datetime.now(timezone.utc)
    rows = []
    for i, (rec, pred) in enumerate(zip(records, predictions, strict=True)):
        extra = raw[i] if raw is not None and isinstance(raw[i], Mapping) else {}
        legs = {k: _first(extra, names) or rec.get(k) for k, names in _LEG_KEYS.items()}
        if rec.get("strategy", "spot_perp") == "spot_perp" and not legs["long_exchange"]:
            legs["long_exchange"] = _first(extra, ("exchange",))  # one venue for both legs
        if (
            legs["long_exchange"]
            and not legs["short_exchange"]
            and rec.get("strategy") == "spot_perp"
        ):
            legs["short_exchange"] = legs["long_exchange"]
        if rec.get("strategy", "spot_perp") == "spot_perp":
            legs["long_market"] = legs["long_market"] or "spot"
            legs["short_market"] = legs["short_market"] or "perp"
        else:
            legs["long_market"] = legs["long_market"] or "perp"
            legs["short_market"] = legs["short_market"] or "perp"
        when = _first(extra, ("timestamp", "opportunity_time")) or rec.get("timestamp") or now
        rows.append(
            {
                "prediction_id": str(_first(extra, ("prediction_id", "id")) or uuid.uuid4().hex),
                "predicted_at": now,
                "opportunity_time": pd.Timestamp(when),
                "model_version": model_version,
                "origin": origin,
                "symbol": str(rec.get("symbol", "")),
                "strategy": rec.get("strategy", "spot_perp"),
                **legs,
                "hold_hours_requested": rec.get("hold_hours"),
                "features": json.dumps(rec, default=str, sort_keys=True),
                **{
                    k: pred[k]
                    for k in (
                        "predicted_profit_pct",
                        "success_probability",
                        "predicted_hold_hours",
                        "composite_score",
                    )
                },
            }
        )
    frame = pd.DataFrame(rows, columns=list(PREDICTIONS.column_names))
    frame["opportunity_time"] = pd.to_datetime(frame["opportunity_time"], utc=True)
    return frame


class PredictionTracker:
    """The server's prediction sink: the request only appends to a list; a background thread
    turns the batches into rows, feeds the ``listeners`` (the drift monitor) and upserts.

    ``lock`` guards the store connection (shared with the dashboard). ``flush()`` does one
    round now (tests, shutdown); ``errors`` counts failed writes and listener errors (rows of a
    failed write are kept for the next round, up to ``max_queue`` rows, after which the oldest
    are dropped and counted in ``dropped``)."""

    def __init__(
        self,
        store: MarketStore,
        lock: threading.Lock | None = None,
        *,
        flush_seconds: float = 1.0,
        max_queue: int = 100_000,
        origin: str = "api",
        listeners: Sequence[Any] = (),
    ) -> None:
        self.store = register(store)
        self.lock = lock or threading.Lock()
        self.flush_seconds = flush_seconds
        self.max_queue = max_queue
        self.origin = origin
        self.listeners = list(listeners)
        self.errors = 0
        self.dropped = 0
        self.written = 0
        self._items: list[tuple] = []  # (scorer, records, predictions, raw, time) per request
        self._frames: list[pd.DataFrame] = []  # rows built already (scans, failed writes)
        self._qlock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="prediction-tracker", daemon=True)
        self._thread.start()

    def __call__(
        self, scorer: Any, records: Sequence, predictions: Sequence, raw: Any = None
    ) -> None:
        item = (scorer, records, predictions, raw, datetime.now(timezone.utc))
        with self._qlock:
            self._items.append(item)
            if len(self._items) > self.max_queue:  # the store is down for long: keep the newest
                self.dropped += len(self._items.pop(0)[1])

    def enqueue(self, rows: pd.DataFrame) -> None:
        """Queue rows built already (``prediction_rows``) for the next write."""
        with self._qlock:
            self._frames.append(rows)
            while sum(len(f) for f in self._frames) > self.max_queue and len(self._frames) > 1:
                self.dropped += len(self._frames.pop(0))

    def _rows(self, items: list[tuple]) -> list[pd.DataFrame]:
        frames = []
        for scorer, records, predictions, raw, when in items:
            for listener in self.listeners:
                try:
                    listener(scorer, records, predictions)
                except Exception:  # noqa: BLE001 - a listener must not lose the rows
                    self.errors += 1
            try:
                frames.append(
                    prediction_rows(
                        scorer.model_version,
                        records,
                        predictions,
                        raw,
                        origin=self.origin,
                        now=when,
                    )
                )
            except Exception:  # noqa: BLE001 - a malformed item must not block the rest
                self.errors += 1
        return frames

    def flush(self) -> int:
        """Build and write everything queued now; returns rows written (0 on a failed write)."""
        with self._flush_lock:
            with self._qlock:
                items, self._items = self._items, []
                frames, self._frames = self._frames, []
            frames = [*frames, *self._rows(items)]
            if not frames:
                return 0
            frame = pd.concat(frames, ignore_index=True)
            try:
                with self.lock:
                    self.store.upsert(PREDICTIONS, frame)
            except Exception:  # noqa: BLE001 - keep the rows, try again next round
                self.errors += 1
                self.enqueue(frame)
                return 0
            self.written += len(frame)
            return len(frame)

    def _loop(self) -> None:
        while not self._stop.wait(self.flush_seconds):
            self.flush()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.flush()


def attach_outcomes(
    store: MarketStore,
    costs: CostConfig | None = None,
    *,
    now: datetime | None = None,
    lock: threading.Lock | None = None,
    hold_grid: tuple[float, ...] | None = None,
) -> int:
    """Realise tracked predictions whose hold window the live data now covers; returns the
    number of outcome rows written. Re-run safely (cron, the server's ops thread): rows already
    complete are skipped, rows waiting for the optimal hold (known after the hold grid's largest
    hold) are revisited."""
    lock = lock or threading.Lock()
    costs = costs or CostConfig()
    with lock:
        register(store)
        preds = store.read(PREDICTIONS, "long_exchange IS NOT NULL AND short_exchange IS NOT NULL")
        done = store.read(OUTCOMES)
    if preds.empty:
        return 0
    complete = set(done.loc[done["realised_optimal_hold_hours"].notna(), "prediction_id"])
    todo = preds[~preds["prediction_id"].isin(complete)].copy()
    if todo.empty:
        return 0
    lo = todo["opportunity_time"].min() - pd.Timedelta(minutes=10)
    grid = tuple(HOLD_GRID_HOURS if hold_grid is None else hold_grid)
    hi = todo["opportunity_time"].max() + pd.Timedelta(hours=max(grid) + 1)
    with lock:
        live = store.read(LIVE_SNAPSHOTS, "snapshot_time >= ? AND snapshot_time <= ?", [lo, hi])
    if live.empty:
        return 0
    # entries are taken at the live slot at or before the prediction (what the bot could trade)
    slots = np.sort(pd.to_datetime(live["snapshot_time"], utc=True).unique())
    t = pd.to_datetime(todo["opportunity_time"], utc=True).to_numpy()
    pos = np.searchsorted(slots, t, side="right") - 1
    todo = todo[pos >= 0].copy()
    todo["timestamp"] = slots[pos[pos >= 0]]
    hold = todo["hold_hours_requested"].fillna(todo["predicted_hold_hours"]).to_numpy(float)
    hold = clip_hold_hours(hold, grid=True, hold_grid=grid)
    pnl = realise(todo, live, hold, costs)
    best = realised_optimal_hold(todo, live, grid, costs)
    ok = np.isfinite(pnl)
    if not ok.any():
        return 0
    out = pd.DataFrame(
        {
            "prediction_id": todo["prediction_id"].to_numpy()[ok],
            "evaluated_at": pd.Timestamp(now or datetime.now(timezone.utc)),
            "hold_hours": hold[ok],
            "realised_profit_pct": pnl[ok],
            "was_profitable": (pnl[ok] > 0).astype("int64"),
            "realised_optimal_hold_hours": best[ok],
        }
    )
    with lock:
        return store.upsert(OUTCOMES, out)


def tracked(store: MarketStore, lock: threading.Lock | None = None) -> pd.DataFrame:
    """Predictions joined with their outcomes (outcome columns NaN where none yet)."""
    lock = lock or threading.Lock()
    with lock:
        register(store)
        preds, outs = store.read(PREDICTIONS), store.read(OUTCOMES)
    return preds.merge(outs, on="prediction_id", how="left")


def accuracy_over_time(frame: pd.DataFrame, freq: str = "1D") -> pd.DataFrame:
    """Per period (by entry time) and model version: rows with outcomes, profit MAE,
    success Brier score and accuracy, duration MAE (hours, where the optimal hold is known)."""
    cols = [
        "period",
        "model_version",
        "predictions",
        "realised",
        "profit_mae",
        "success_brier",
        "success_accuracy",
        "duration_mae_hours",
    ]
    try:
        pd.tseries.frequencies.to_offset(freq)
    except ValueError as exc:
        raise ValueError(f"--freq {freq!r}: not a pandas period such as 1h, 6h, 1D") from exc
    if frame.empty:
        return pd.DataFrame(columns=cols)
    from sklearn.metrics import accuracy_score, brier_score_loss, mean_absolute_error

    f = frame.copy()
    f["period"] = pd.to_datetime(f["opportunity_time"], utc=True).dt.floor(freq)
    rows = []
    for (period, version), g in f.groupby(["period", "model_version"], sort=True):
        r = g[g["realised_profit_pct"].notna()]
        y = r["was_profitable"].to_numpy(float)
        p = r["success_probability"].to_numpy(float)
        d = r[r["realised_optimal_hold_hours"].notna()]
        rows.append(
            {
                "period": period,
                "model_version": version,
                "predictions": len(g),
                "realised": len(r),
                "profit_mae": _or_nan(
                    mean_absolute_error, r["realised_profit_pct"], r["predicted_profit_pct"]
                ),
                "success_brier": _or_nan(brier_score_loss, y > 0.5, p),
                "success_accuracy": _or_nan(accuracy_score, y > 0.5, p >= 0.5),
                "duration_mae_hours": _or_nan(
                    mean_absolute_error,
                    d["realised_optimal_hold_hours"],
                    d["predicted_hold_hours"],
                ),
            }
        )
    return pd.DataFrame(rows, columns=cols)


def _or_nan(metric: Any, y_true: Any, y_pred: Any) -> float:
    """A ``sklearn.metrics`` score, NaN for a period with no rows (sklearn would raise)."""
    return float(metric(np.asarray(y_true), np.asarray(y_pred))) if len(y_true) else math.nan
