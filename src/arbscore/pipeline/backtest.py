"""``arbscore backtest``: a shipped bundle's decisions booked on any data, out of time.

The bundle carries its terms (``manifest.json``: hold grid, fees, entry rule, book settings),
so the labels are simulated at the bundle's hold grid and fees and the book is the bundle's
book. Entries are those with ``start <= timestamp < end`` (a date-only ``end`` includes that
day); the market is read from ``start - WARMUP_DAYS`` (the features' trailing windows) to
``end`` plus the longest hold, so the paths of the last entries finish. The bundle's strategy
(named ``bundle``) is scored through the same :class:`~arbscore.serve.scorer.Scorer` the
server uses and booked beside the baselines with the evaluation's own entry points
(``model_candidates``, ``baseline_candidates``, ``pooled_backtest``): the same book, baselines
and intervals as ``evaluate``, over one window. Writes ``OUT/metrics.json`` (the ``backtest``
block, ``bundle``, ``data``, ``dropped``) and ``OUT/evaluation/*`` as ``evaluate`` does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from arbscore.data_tools.costs import FeeSchedule
from arbscore.data_tools.dataset_files import feature_columns, normalise_training_frame
from arbscore.data_tools.features import build_matrix
from arbscore.data_tools.labelled import Dropped
from arbscore.data_tools.market import to_epoch_ms
from arbscore.evaluation import EvaluationConfig
from arbscore.evaluation.baselines import BASELINES, baseline_candidates, model_candidates
from arbscore.evaluation.trading import pooled_backtest
from arbscore.families import HeadOutputs
from arbscore.progress import Progress
from arbscore.schema import HOLD_COLUMN
from arbscore.serve.scorer import Scorer

#: the strategy name the bundle's decisions are booked under
BUNDLE = "bundle"
#: days of market read before ``start``: the features' trailing windows (3-day projections)
WARMUP_DAYS = 7


@dataclass(frozen=True)
class Window:
    """Entries booked: ``start <= entry < end`` (UTC); None = the data's own edge."""

    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None

    @classmethod
    def parse(cls, start: str | None, end: str | None) -> Window:
        """``--start``/``--end``: ISO dates or date-times; a date-only end includes its day."""

        def when(text: str | None, flag: str) -> pd.Timestamp | None:
            if text is None:
                return None
            try:
                ts = pd.Timestamp(text)
            except ValueError as exc:
                raise ValueError(f"{flag} {text!r}: expected a date such as 2025-10-01") from exc
            return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")

        lo, hi = when(start, "--start"), when(end, "--end")
        if hi is not None and end is not None and len(end.strip()) == 10:
            hi = hi + pd.Timedelta(days=1)
        if lo is not None and hi is not None and not lo < hi:
            raise ValueError(f"--start {start} is not before --end {end}")
        return cls(lo, hi)


def bundle_config(manifest: dict[str, Any]) -> EvaluationConfig:
    """The evaluation config of the bundle's own book, entry rule and fees (the evaluation's
    defaults where the bundle predates those keys)."""
    rule = (manifest.get("serve") or {}).get("entry_rule") or {}
    fees = manifest.get("fees")
    return EvaluationConfig(
        **dict(manifest.get("book") or {}),
        **rule,
        **({"fees": FeeSchedule.from_dict(fees, "manifest.fees")} if fees else {}),
    )


@dataclass(frozen=True)
class BacktestResult:
    """``metrics`` (metrics.json), ``trading`` (the pooled ``TradingResult``) and
    ``predictions``: the bundle's heads on every booked (opportunity, hold) row beside its
    labels, keyed by ``opportunity_id`` and ``timestamp`` (no join against input order)."""

    metrics: dict[str, Any]
    trading: Any
    predictions: pd.DataFrame


def _prediction_rows(rows: pd.DataFrame, pred: HeadOutputs) -> pd.DataFrame:
    keys = ["opportunity_id", "timestamp", "symbol", "strategy", HOLD_COLUMN]
    labels = ["actual_profit_pct", "was_profitable", "optimal_hold_hours"]
    out = rows[keys + labels].copy()
    out["profit"], out["success"], out["duration"] = pred.profit, pred.success, pred.duration
    return out.reset_index(drop=True)


def _predictions(scorer: Scorer, rows: pd.DataFrame) -> HeadOutputs:
    """The bundle's heads on every (opportunity, hold) row: duration on the features, profit
    and success at the row's own hold (what ``evaluate`` asks of a family)."""
    X = build_matrix(feature_columns(rows), scorer.spec)
    got = scorer.predict_matrix(X, rows[HOLD_COLUMN].to_numpy(np.float64))
    return HeadOutputs(got.profit_pct, got.success_probability, got.hold_hours)


def backtest_bundle(
    bundle: Path,
    frame: pd.DataFrame,
    marks: pd.DataFrame | None,
    window: Window,
    *,
    dropped: Dropped | None = None,
    data: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> BacktestResult:
    """The bundle at ``bundle`` booked on the labelled ``frame`` (entries bounded by
    ``window``); raises ValueError when no entry is left."""
    scorer = Scorer(bundle)
    config = bundle_config(scorer.manifest)
    df = normalise_training_frame(frame)
    df["timestamp_ms"] = to_epoch_ms(df["timestamp"]).to_numpy(np.int64)
    ts = pd.to_datetime(df["timestamp"], utc=True)
    keep = np.ones(len(df), bool)
    if window.start is not None:
        keep &= (ts >= window.start).to_numpy()
    if window.end is not None:
        keep &= (ts < window.end).to_numpy()
    rows = df[keep].reset_index(drop=True)
    if rows.empty:
        raise ValueError(
            f"no labelled entry between {window.start} and {window.end}: the data holds "
            f"{ts.min()} .. {ts.max()}"
        )
    if progress:
        progress(f"scoring {len(rows):,} rows with the bundle", 0, 2)
    pred = _predictions(scorer, rows)
    cands = {BUNDLE: [model_candidates(rows, pred, config).assign(fold=0)]}
    for name in BASELINES:
        cands[name] = [baseline_candidates(name, rows, config).assign(fold=0)]
    lo = int(window.start.value // 1_000_000) if window.start is not None else None
    hi = int(window.end.value // 1_000_000) if window.end is not None else None
    span = (
        lo if lo is not None else int(rows["timestamp_ms"].min()),
        hi if hi is not None else int(rows["timestamp_ms"].max()) + 1,
    )
    if progress:
        progress("booking the bundle and the baselines", 1, 2)
    trading = pooled_backtest(cands, [span], rows, marks, [BUNDLE], config)
    strategy = scorer.manifest.get("strategy") or {}
    fold = {"index": 0, "test_start": _iso(span[0]), "test_end": _iso(span[1])}
    metrics = {
        "scheme": "out_of_time",
        # the harness's keys the report reads; no family is fitted in a backtest
        "folds": [fold],
        "families": {},
        "baselines": {},
        "winner": {},
        "backtest": trading.section,
        "bundle": {
            "path": str(bundle),
            "model_version": scorer.model_version,
            "strategy": strategy.get("name"),
            "heads": {h: e.get("family") for h, e in scorer.manifest["heads"].items()},
            "trained_on": scorer.manifest.get("data_window")
            or scorer.manifest.get("training_data"),
            "hold_grid_hours": list(scorer.terms.hold_grid_hours),
            "book": {k: v for k, v in config.to_dict().items() if k != "fees"},
        },
        "window": {
            "start": None if window.start is None else window.start.isoformat(),
            "end": None if window.end is None else window.end.isoformat(),
            "entries": int(rows["opportunity_id"].nunique()),
            "rows": int(len(rows)),
        },
        "data": dict(data or {}),
        "dropped": None if dropped is None else dropped.to_dict(),
        "persistence_expected_hold": "rule_expected_hold_hours (no training rows in a backtest)",
        "config": config.to_dict(),
    }
    return BacktestResult(metrics, trading, _prediction_rows(rows, pred))


def _grid(manifest: dict[str, Any]) -> tuple[int, ...]:
    from arbscore.export.manifest import BundleTerms

    holds = BundleTerms.from_manifest(manifest).hold_grid_hours
    return tuple(int(h) if float(h).is_integer() else h for h in holds)  # type: ignore[misc]


def load_labelled(
    data: str,
    manifest: dict[str, Any],
    window: Window,
    *,
    embedded: Any = None,
    synthetic: Any = None,
    progress: Progress | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame | None, Dropped | None, dict[str, Any]]:
    """(labelled frame, daily marks, drops, data summary) for ``data``: ``embedded`` (the
    shared data, ``$ARBSCORE_SHARED_DATA`` honoured, read for the window), ``synthetic`` or a
    labelled training-data file. A market is labelled at the bundle's hold grid and fees."""
    if data not in ("embedded", "synthetic"):
        from arbscore.data_tools.dataset_files import load_training_data
        from arbscore.data_tools.training_set import load_marks

        frame = load_training_data(Path(data))
        return frame, load_marks(data), None, {"source": f"training data file {data}"}
    import dataclasses

    from arbscore.data_tools.costs import CostConfig
    from arbscore.data_tools.labelled import labelled_set
    from arbscore.data_tools.simulate import SimulationConfig
    from arbscore.data_tools.training_set import TrainingSetConfig
    from arbscore.serve.answers import training_notional_usd

    grid = _grid(manifest)
    lo = None if window.start is None else window.start - pd.Timedelta(days=WARMUP_DAYS)
    hi = None if window.end is None else window.end + pd.Timedelta(hours=max(grid) + 24)
    if data == "embedded":
        from arbscore.data_tools.sources.embedded import EmbeddedDataConfig, load_embedded_market

        cfg = embedded or EmbeddedDataConfig()
        cfg = dataclasses.replace(
            cfg,
            **({"start": f"{lo:%Y-%m-%d}"} if lo is not None else {}),
            **({"end": f"{hi:%Y-%m-%d}"} if hi is not None else {}),
        )
        market = load_embedded_market(cfg, progress=progress)
        stride = cfg.entry_stride_minutes
    else:
        from arbscore.data_tools.sources.synthetic import (
            SyntheticMarketConfig,
            generate_synthetic_market,
        )

        cfg = synthetic or SyntheticMarketConfig()
        if lo is not None:
            end = hi if hi is not None else lo + pd.Timedelta(days=cfg.days)
            days = (end - lo) / pd.Timedelta(days=1)
            cfg = dataclasses.replace(cfg, start=f"{lo:%Y-%m-%d}", days=float(days))
        market = generate_synthetic_market(cfg)
        stride = None
    fees = manifest.get("fees")
    ts_config = TrainingSetConfig(
        simulation=SimulationConfig(holds_hours=grid, horizon_hours=max(grid)),
        costs=CostConfig(
            position_size_usd=training_notional_usd(manifest),
            **({"fees": FeeSchedule.from_dict(fees, "manifest.fees")} if fees else {}),
        ),
    )
    if stride:
        opp = dataclasses.replace(ts_config.opportunities, entry_stride_minutes=stride)
        ts_config = dataclasses.replace(ts_config, opportunities=opp)
    frame, marks, dropped = labelled_set(
        market, ts_config, progress, entries=(window.start, window.end)
    )
    summary = {
        "source": market.source,
        "synthetic": bool(market.synthetic),
        "read_start": None if lo is None else lo.isoformat(),
        "read_end": None if hi is None else hi.isoformat(),
    }
    return frame, marks, dropped, summary


def _iso(ms: int) -> str:
    return pd.Timestamp(int(ms), unit="ms", tz="UTC").isoformat()


def write_backtest(out: Path, result: BacktestResult) -> Path:
    """``OUT/metrics.json``, ``OUT/market.json`` (the data read) and
    ``OUT/evaluation/{predictions,backtest_equity,backtest_trades}.parquet``."""
    metrics, trading = result.metrics, result.trading
    from arbscore.evaluation.run import json_safe

    out = Path(out)
    (out / "evaluation").mkdir(parents=True, exist_ok=True)
    path = out / "metrics.json"
    path.write_text(json.dumps(json_safe(metrics), indent=2) + "\n", encoding="utf-8")
    market = json.dumps(json_safe(metrics.get("data") or {}), indent=1) + "\n"
    (out / "market.json").write_text(market, encoding="utf-8")
    result.predictions.to_parquet(out / "evaluation" / "predictions.parquet", index=False)
    trading.equity.to_parquet(out / "evaluation" / "backtest_equity.parquet", index=False)
    trades = trading.trades.drop(columns=["entry_ms", "exit_ms"], errors="ignore")
    trades.to_parquet(out / "evaluation" / "backtest_trades.parquet", index=False)
    return path


__all__ = [
    "BUNDLE",
    "BacktestResult",
    "Window",
    "backtest_bundle",
    "bundle_config",
    "load_labelled",
    "write_backtest",
]
