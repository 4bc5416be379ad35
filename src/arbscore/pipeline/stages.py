"""One function per stage: each calls the entry point its module owns and returns a one-line
summary. Imports are inside the functions so ``arbscore run`` loads only what a stage uses."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from arbscore.pipeline.config import PipelineError, RunConfig, family_args
from arbscore.pipeline.markers import jsonable
from arbscore.progress import Progress
from arbscore.schema import FEES_FILE_NAME, MARKS_FILE_NAME


def _stage_data(config: RunConfig, forward: Progress) -> str:
    import pandas as pd

    workdir = config.workdir
    if config.data_is_file:
        from arbscore.data_tools.dataset_files import load_training_data

        forward(f"reading {config.data}")
        frame = load_training_data(Path(config.data))
        marks = None
        # the schedule `arbscore simulate` wrote beside the file (FEES_FILE_NAME), if any
        fees_beside = Path(config.data).parent / FEES_FILE_NAME
        fees = json.loads(fees_beside.read_text()) if fees_beside.is_file() else None
        kinds = set(frame["data_source"].astype(str)) if "data_source" in frame else set()
        market = {
            "source": f"training data file {config.data}",
            "synthetic": ("synthetic" in kinds) if kinds else None,
            "details": {},
        }
    else:
        embedded = None
        if config.data == "embedded":
            from arbscore.data_tools.sources.embedded import (
                EmbeddedDataConfig,
                load_embedded_market,
            )

            forward("loading the embedded market data")
            embedded = config.embedded or EmbeddedDataConfig()
            md = load_embedded_market(embedded, progress=forward)
        else:
            from arbscore.data_tools.sources.synthetic import (
                SyntheticMarketConfig,
                generate_synthetic_market,
            )

            forward("generating the synthetic market")
            md = generate_synthetic_market(config.synthetic or SyntheticMarketConfig())
        from arbscore.data_tools.training_set import TrainingSetConfig

        ts_config = config.training_set or TrainingSetConfig()
        stride = getattr(embedded, "entry_stride_minutes", None)
        if config.training_set is None and stride:  # the embedded market's default, sized to budget
            opp = dataclasses.replace(ts_config.opportunities, entry_stride_minutes=stride)
            ts_config = dataclasses.replace(ts_config, opportunities=opp)
        stride = ts_config.opportunities.entry_stride_minutes
        forward(f"building the training set from {md.source} (entry stride {stride} min)")
        frame, marks, dropped = build_set(config, md, ts_config, forward)
        fees = ts_config.simulation.costs.fees.to_dict()
        market = {
            "source": md.source,
            "synthetic": bool(md.synthetic),
            "entry_stride_minutes": stride,
            "details": jsonable(md.details),
            **_market_ranges(md),
            **({"dropped": dropped.to_dict()} if dropped is not None else {}),
        }
    if len(frame) == 0:
        raise PipelineError(
            "data: the training set is empty (no opportunity whose whole path, the largest "
            "hold, fits in the data: use a longer market or a shorter training_set.simulation "
            "grid)"
        )
    frame.to_parquet(workdir / "training_data.parquet", index=False)
    if marks is not None:  # the backtest's daily marks (a training-data file has none)
        marks.to_parquet(workdir / MARKS_FILE_NAME, index=False)
    elif (workdir / MARKS_FILE_NAME).exists():
        (workdir / MARKS_FILE_NAME).unlink()  # stale marks of an earlier run's set
    fees_file = workdir / FEES_FILE_NAME
    if fees is not None:  # the schedule the labels used, for the bundle manifest
        fees_file.write_text(json.dumps(fees, indent=1))
    elif fees_file.exists():
        fees_file.unlink()  # a training-data file says nothing about its fees
    (workdir / "market.json").write_text(json.dumps(market, indent=1, default=str))
    n_opp = frame["opportunity_id"].nunique() if "opportunity_id" in frame else None
    kind = "SYNTHETIC" if market["synthetic"] else "real" if market["synthetic"] is False else "?"
    span = ""
    if "timestamp" in frame and len(frame):
        ts = pd.to_datetime(frame["timestamp"], utc=True)
        span = f", {ts.min():%Y-%m-%d} .. {ts.max():%Y-%m-%d}"
    sampling = f", entry stride {stride} min" if not config.data_is_file else ""
    lost = market.get("dropped") or {}
    note = (
        f"; dropped {lost['entries']:,} of {lost['detected']:,} entries from {lost['after']}: "
        f"{lost['reason']}"
        if lost.get("entries")
        else ""
    )
    return f"{len(frame):,} rows, {n_opp:,} opportunities ({kind}{span}{sampling}){note}"


def build_set(config: RunConfig, md: Any, ts_config: Any, forward: Progress) -> Any:
    """(frame, marks, dropped): the set in this process (with the entries the data's end left
    unlabelled counted), or partition by partition on the run's cluster (dropped None)."""
    from arbscore.data_tools.labelled import labelled_set
    from arbscore.scale.cluster import open_cluster

    with open_cluster(config.cluster) as cluster:
        if cluster.spec is None:
            return labelled_set(md, ts_config, progress=forward)
        from arbscore.data_tools.partitioned import build_via_partitions

        forward(f"building the set partition by partition on {cluster.spec.describe()}")
        parts = config.workdir / "training_set.parts"
        frame, marks = build_via_partitions(md, ts_config, parts, mapper=cluster.map)
        return frame, marks, None


def _market_ranges(md: Any) -> dict:
    out: dict[str, Any] = {}
    if len(md.funding):
        out["funding_rows"] = len(md.funding)
        out["funding_start"] = str(md.funding["funding_time"].min())
        out["funding_end"] = str(md.funding["funding_time"].max())
    if len(md.klines):
        out["kline_rows"] = len(md.klines)
        out["symbols"] = sorted(md.klines["symbol"].unique().tolist())
        out["exchanges"] = sorted(md.klines["exchange"].unique().tolist())
    return out


def _read_training_set(config: RunConfig) -> Any:
    import pandas as pd

    return pd.read_parquet(config.workdir / "training_data.parquet")


def _read_marks(workdir: Path) -> Any:
    """The set's daily marks when the data stage wrote them (a training-data file has none)."""
    import pandas as pd

    path = workdir / MARKS_FILE_NAME
    return pd.read_parquet(path) if path.exists() else None


def _stage_evaluate(config: RunConfig, forward: Progress) -> str:
    from arbscore.evaluation import EvaluationConfig, evaluate
    from arbscore.scale.cluster import open_cluster

    frame = _read_training_set(config)
    marks = _read_marks(config.workdir)
    forward(f"walk-forward evaluation of {', '.join(config.families)}")
    with open_cluster(config.cluster) as cluster:
        result = evaluate(
            frame,
            family_args(config),
            config.evaluation or EvaluationConfig(),
            progress=forward,
            marks=marks,
            mapper=cluster.map,
        )
    market_file = config.workdir / "market.json"
    market = json.loads(market_file.read_text()) if market_file.is_file() else {}
    if "dropped" in market:  # what the data's end left unlabelled, beside the results
        result.metrics["dropped"] = market["dropped"]
    result.write(config.workdir)
    metrics = json.loads((config.workdir / "metrics.json").read_text())
    winners = metrics.get("winner", {})
    return "winners: " + ", ".join(f"{h} {f}" for h, f in winners.items())


def _stage_train(config: RunConfig, forward: Progress) -> str:
    from arbscore.final_fit import train_final

    frame = _read_training_set(config)
    forward(f"fitting {', '.join(config.families)} on all {len(frame):,} rows")
    train_final(frame, family_args(config), config.workdir, progress=forward)
    return f"models in {config.workdir / 'models'}"


def _stage_export(config: RunConfig, forward: Progress) -> str:
    from arbscore.export.bundle import ExportConfig, export_bundle

    out = config.workdir / "bundle"
    forward("exporting the winners to ONNX")
    manifest = export_bundle(config.workdir, out, config.export or ExportConfig(), progress=forward)
    heads = manifest.get("heads", {}) if isinstance(manifest, dict) else {}
    return f"bundle {out} ({', '.join(heads) or 'heads'})"


def _stage_report(config: RunConfig, forward: Progress) -> str:
    from arbscore.report import build_report

    forward("writing the report")
    html_path, _ = build_report(config.workdir)
    return str(html_path)


STAGE_FUNCTIONS: dict[str, Callable[[RunConfig, Progress], str]] = {
    "data": _stage_data,
    "evaluate": _stage_evaluate,
    "train": _stage_train,
    "export": _stage_export,
    "report": _stage_report,
}
