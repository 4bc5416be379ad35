"""Read a run directory into typed report inputs.

The report never computes a metric of its own when the harness already wrote it: every number
in the tables comes from ``metrics.json`` (issue 4's schema), so "the report's numbers match
metrics.json" holds by construction. Optional artefacts (equity curves, feature importance,
benchmarks, the data summary) add sections when they exist and are named as missing when not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from arbscore.report.metrics_view import (
    DEFAULT_WINNER_METRIC,
    Calibration,
    FamilyMetrics,
    Metrics,
    Stat,
    Winner,
    parse_metrics,
)

__all__ = [
    "DEFAULT_WINNER_METRIC",
    "Calibration",
    "DataSummary",
    "FamilyMetrics",
    "Metrics",
    "ReportInputs",
    "Stat",
    "Winner",
    "load_inputs",
    "parse_metrics",
    "summarise_training_data",
]


@dataclass(frozen=True)
class DataSummary:
    """What data the run used; ``synthetic`` drives the SYNTHETIC label on every page."""

    synthetic: bool | None
    source: str
    rows: int | None = None
    opportunities: int | None = None
    start: str | None = None
    end: str | None = None
    symbols: tuple[str, ...] = ()
    exchanges: tuple[str, ...] = ()
    strategies: tuple[str, ...] = ()
    holds: tuple[int, ...] = ()
    profitable_share: float | None = None


@dataclass(frozen=True)
class ReportInputs:
    workdir: Path
    metrics: Metrics
    data: DataSummary
    equity: pd.DataFrame | None  # strategy, fold, time, equity (x capital), drawdown_pct
    trades: pd.DataFrame | None  # every strategy's booked positions (backtest_trades.parquet)
    importance: dict[str, dict[str, dict[str, float]]]  # family -> head -> feature -> value
    benchmarks: dict | None
    run_config: dict | None
    command: str | None
    missing: list[str]  # artefacts that were not there, named in the report


def _read_json(path: Path) -> dict | None:
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from exc


def summarise_training_data(path: Path, market: dict | None) -> DataSummary:
    """Ranges, symbols and exchanges of the labelled set (and the market it came from)."""
    market = market or {}
    synthetic = market.get("synthetic")
    source = str(market.get("source", "unknown"))
    if not path.exists():
        return DataSummary(synthetic=synthetic, source=source)
    import pyarrow.parquet as pq

    names = set(pq.read_schema(path).names)
    wanted = [
        c
        for c in (
            "timestamp",
            "symbol",
            "strategy",
            "long_exchange",
            "short_exchange",
            "opportunity_id",
            "hold_hours",
            "data_source",
            "was_profitable",
        )
        if c in names
    ]
    frame = pd.read_parquet(path, columns=wanted)
    if "data_source" in frame and synthetic is None:
        kinds = set(frame["data_source"].astype(str).unique())
        synthetic = "synthetic" in kinds
    exchanges: set[str] = set()
    for col in ("long_exchange", "short_exchange"):
        if col in frame:
            exchanges |= set(frame[col].astype(str).unique())
    ts = frame.get("timestamp")
    return DataSummary(
        synthetic=synthetic,
        source=source,
        rows=len(frame),
        opportunities=int(frame["opportunity_id"].nunique()) if "opportunity_id" in frame else None,
        start=str(ts.min()) if ts is not None and len(ts) else None,
        end=str(ts.max()) if ts is not None and len(ts) else None,
        symbols=tuple(sorted(frame["symbol"].astype(str).unique())) if "symbol" in frame else (),
        exchanges=tuple(sorted(exchanges)),
        strategies=tuple(sorted(frame["strategy"].astype(str).unique()))
        if "strategy" in frame
        else (),
        holds=tuple(sorted(int(h) for h in frame["hold_hours"].unique()))
        if "hold_hours" in frame
        else (),
        profitable_share=float(frame["was_profitable"].astype(float).mean())
        if "was_profitable" in frame and len(frame)
        else None,
    )


def load_inputs(workdir: Path) -> ReportInputs:
    """Everything the report shows, read from ``workdir`` (a run or evaluate output folder)."""
    workdir = Path(workdir)
    raw = _read_json(workdir / "metrics.json")
    if raw is None:
        raise FileNotFoundError(
            f"{workdir / 'metrics.json'} not found: run `arbscore run --out {workdir}` "
            f"or `arbscore evaluate --out {workdir}` first"
        )
    missing: list[str] = []
    metrics = parse_metrics(raw)
    run_config = _read_json(workdir / "run_config.json")
    market = _read_json(workdir / "market.json")
    if market is None and run_config is not None:
        market = run_config.get("market")
    if market is None and isinstance(raw.get("data"), dict):  # the harness's own summary
        market = {
            "synthetic": raw["data"].get("synthetic"),
            "source": "data_source " + ", ".join(raw["data"].get("data_source") or []),
        }
    data = summarise_training_data(workdir / "training_data.parquet", market)
    if data.rows is None:
        missing.append("training_data.parquet")
    equity_path = workdir / "evaluation" / "backtest_equity.parquet"
    equity = pd.read_parquet(equity_path) if equity_path.exists() else None
    if equity is None:
        missing.append("evaluation/backtest_equity.parquet")
    trades_path = workdir / "evaluation" / "backtest_trades.parquet"
    trades = pd.read_parquet(trades_path) if trades_path.exists() else None
    if trades is None:
        missing.append("evaluation/backtest_trades.parquet")
    importance = _read_json(workdir / "evaluation" / "feature_importance.json") or {}
    if not importance:
        missing.append("evaluation/feature_importance.json")
    benchmarks = _read_json(workdir / "benchmarks.json")
    command = run_config.get("command") if run_config else None
    return ReportInputs(
        workdir=workdir,
        metrics=metrics,
        data=data,
        equity=equity,
        trades=trades,
        importance=importance,
        benchmarks=benchmarks,
        run_config=run_config,
        command=command,
        missing=missing,
    )
