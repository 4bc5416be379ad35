"""``arbscore run``: market data -> training set -> evaluation -> final models -> bundle -> report.

One short function (:func:`run_pipeline`) chains the stages each module owns (see
docs/architecture.md, "Agreed entry points"). A finished stage leaves a marker in
``DIR/.stages/<stage>.json`` holding the hash of everything it depended on (its config, the
hashes of the stages it reads, the input file's bytes); a re-run reuses the stage when the hash
and the outputs are still there, so editing one setting only re-runs what it affects. ``force``
ignores the markers. The report is always rebuilt (seconds), so it picks up new benchmarks.
A stage whose function does not exist (yet) stops the run with a message naming the missing
function; nothing is faked.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import importlib
import json
import shlex
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arbscore.registry import DEFAULT_FAMILIES
from arbscore.schema import FEES_FILE_NAME, MARKS_FILE_NAME

STAGES: tuple[str, ...] = ("data", "evaluate", "train", "export", "report")
#: what each stage's result depends on besides its own config (its hash includes theirs)
DEPENDS_ON: dict[str, tuple[str, ...]] = {
    "data": ("input",),
    "evaluate": ("data",),
    "train": ("data",),
    "export": ("evaluate", "train"),
    "report": ("evaluate", "export"),
}
DATA_CHOICES = ("embedded", "synthetic")


class PipelineError(RuntimeError):
    """A stage could not run (missing implementation or a failure inside it)."""


@dataclass(frozen=True)
class StageEvent:
    """What the progress callback receives: a stage starting, moving, finishing or reused."""

    stage: str
    kind: str  # "start" | "update" | "done" | "reused"
    message: str = ""
    completed: float | None = None
    total: float | None = None


Progress = Callable[[StageEvent], None]


@dataclass(frozen=True)
class RunConfig:
    """Everything a run depends on. Stage configs left as ``None`` use that stage's defaults.

    ``data``: ``embedded`` (the real data under ../shared/data when present, else the synthetic
    market), ``synthetic`` (always generated), or the path of a training-data CSV/Parquet (our
    simulate output or the guide's ``training_data.csv``), which skips the market stages.
    """

    workdir: Path
    data: str = "embedded"
    families: tuple[str, ...] = DEFAULT_FAMILIES
    force: bool = False
    embedded: Any = None  # data_tools.sources.embedded.EmbeddedDataConfig
    synthetic: Any = None  # data_tools.sources.synthetic.SyntheticMarketConfig
    training_set: Any = None  # data_tools.training_set.TrainingSetConfig
    evaluation: Any = None  # evaluation.EvaluationConfig
    export: Any = None  # export.bundle.ExportConfig
    #: (family name, its config object), e.g. (("xgboost", GBDTConfig(n_estimators=200)),);
    #: families not listed use their defaults
    family_configs: tuple[tuple[str, Any], ...] = ()
    command: str | None = None  # the command line that made the run (shown in the report)
    #: ``--cluster`` (local[:N] or tcp://HOST:PORT; None: ARBSCORE_DASK_SCHEDULER, else this
    #: process): where the partitioned data stage and the (fold, family) fits run. Not part of
    #: the stage keys: the answers are the same (docs/scaling.md)
    cluster: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "workdir", Path(self.workdir))
        if not self.families:
            raise ValueError("families: at least one model family is needed")
        if self.data not in DATA_CHOICES:
            path = Path(self.data)
            if not path.is_file():
                raise ValueError(
                    f"data: {self.data!r} is neither {' nor '.join(DATA_CHOICES)} nor an "
                    "existing training-data file (.csv or .parquet)"
                )
            if not path.name.lower().endswith((".csv", ".parquet", ".pq", ".csv.gz")):
                raise ValueError(f"data: {path.name} is neither .csv nor .parquet")
        stray = [n for n, _ in self.family_configs if n not in self.families]
        if stray:
            raise ValueError(f"family_configs: {stray} not among families {list(self.families)}")

    @property
    def data_is_file(self) -> bool:
        return self.data not in DATA_CHOICES


@dataclass(frozen=True)
class StageResult:
    stage: str
    status: str  # "ran" | "reused"
    seconds: float
    detail: str = ""


@dataclass(frozen=True)
class RunResult:
    workdir: Path
    stages: list[StageResult]
    html_path: Path
    md_path: Path
    bundle_dir: Path
    metrics: dict = field(repr=False)

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.stages)


# --- hashing and markers ---------------------------------------------------------------------


def jsonable(obj: Any) -> Any:
    """Configs (nested frozen dataclasses, Paths, tuples) as plain JSON values."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out = {f.name: jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
        out["__type__"] = f"{type(obj).__module__}.{type(obj).__qualname__}"
        return out
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        items = [jsonable(v) for v in obj]
        return sorted(items, key=repr) if isinstance(obj, (set, frozenset)) else items
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return repr(obj)


def _hash(*parts: Any) -> str:
    text = json.dumps([jsonable(p) for p in parts], sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes (so an edited input re-runs the stages after it)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _marker(workdir: Path, stage: str) -> Path:
    return workdir / ".stages" / f"{stage}.json"


def _is_done(workdir: Path, stage: str, key: str, outputs: list[Path]) -> bool:
    path = _marker(workdir, stage)
    if not path.exists() or not all(p.exists() for p in outputs):
        return False
    try:
        return json.loads(path.read_text()).get("key") == key
    except json.JSONDecodeError:
        return False


def _mark_done(workdir: Path, stage: str, key: str, seconds: float, detail: str) -> None:
    path = _marker(workdir, stage)
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    record = {"key": key, "finished_at": stamp, "seconds": seconds, "detail": detail}
    path.write_text(json.dumps(record, indent=1))


def need(module: str, attr: str, stage: str) -> Any:
    """The agreed entry point ``module.attr``, or a PipelineError naming what is missing."""
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        raise PipelineError(
            f"stage '{stage}' needs {module}.{attr}, which cannot be imported yet ({exc})"
        ) from exc
    fn = getattr(mod, attr, None)
    if fn is None:
        raise PipelineError(f"stage '{stage}' needs {module}.{attr}, which does not exist yet")
    return fn


# --- the chain -------------------------------------------------------------------------------


def run_pipeline(config: RunConfig, progress: Progress | None = None) -> RunResult:
    """Run (or reuse) every stage into ``config.workdir``; returns what ran and where it is."""
    emit = progress or (lambda event: None)
    workdir = config.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    write_run_config(config)
    results: list[StageResult] = []
    keys = {"input": _input_key(config)}
    for stage in STAGES:
        key = _hash(stage, [keys[d] for d in DEPENDS_ON[stage]], _stage_config(config, stage))
        keys[stage] = key
        outputs = stage_outputs(workdir, stage)
        if stage != "report" and not config.force and _is_done(workdir, stage, key, outputs):
            emit(StageEvent(stage, "reused", "reused (inputs unchanged)"))
            record = json.loads(_marker(workdir, stage).read_text())
            results.append(StageResult(stage, "reused", 0.0, record.get("detail", "")))
            continue
        emit(StageEvent(stage, "start"))
        started = time.perf_counter()
        _marker(workdir, stage).unlink(missing_ok=True)  # a failure leaves no stale marker

        def forward(message: str, completed=None, total=None, _stage=stage) -> None:
            emit(StageEvent(_stage, "update", message, completed, total))

        try:
            detail = _STAGE_FUNCTIONS[stage](config, forward)
        except ValueError as exc:  # bad data or settings: say which stage met it
            raise ValueError(f"stage '{stage}': {exc}") from exc
        except ImportError as exc:  # a piece the stage needs is missing or broken
            raise PipelineError(f"stage '{stage}' could not import what it needs: {exc}") from exc
        seconds = time.perf_counter() - started
        _mark_done(workdir, stage, key, seconds, detail)
        emit(StageEvent(stage, "done", detail))
        results.append(StageResult(stage, "ran", seconds, detail))
    metrics = json.loads((workdir / "metrics.json").read_text())
    report = workdir / "report"
    return RunResult(
        workdir, results, report / "report.html", report / "report.md", workdir / "bundle", metrics
    )


def _input_key(config: RunConfig) -> str:
    """What the data stage reads: the file's bytes, or which market the embedded default finds
    (real data appearing or disappearing under ../shared/data must not reuse the old set)."""
    if config.data_is_file:
        return _hash(config.data, file_digest(Path(config.data)))
    if config.data == "embedded":
        try:
            from arbscore.data_tools.sources.real import find_shared_data
        except ImportError:
            return _hash(config.data, None)
        root_setting = getattr(config.embedded, "data_root", None)
        return _hash(config.data, str(find_shared_data(root_setting)))
    return _hash(config.data)


def _stage_config(config: RunConfig, stage: str) -> Any:
    """The part of the config each stage depends on (besides the stages in DEPENDS_ON)."""
    if stage == "data":
        return (config.data, config.embedded, config.synthetic, config.training_set)
    if stage == "evaluate":
        return (config.families, config.family_configs, config.evaluation)
    if stage == "train":
        return (config.families, config.family_configs)
    if stage == "export":
        return config.export
    return None


def write_run_config(config: RunConfig) -> Path:
    """DIR/run_config.json: the resolved config, so the run can be read and repeated."""
    from arbscore import __version__

    path = config.workdir / "run_config.json"
    record = {
        "arbscore_version": __version__,
        "started_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": config.command
        or reproduce_command(config.workdir, config.data, config.families),
        "config": jsonable(config),
    }
    path.write_text(json.dumps(record, indent=1))
    return path


def reproduce_command(
    workdir: Path, data: str, families: tuple[str, ...], config_file: Path | None = None
) -> str:
    """The exact `arbscore run` line that repeats a run (shown in the report)."""
    parts = ["arbscore", "run", "--workdir", str(workdir), "--data", str(data)]
    if tuple(families) != DEFAULT_FAMILIES:
        parts += ["--families", ",".join(families)]
    if config_file is not None:
        parts += ["--config", str(config_file)]
    return " ".join(shlex.quote(p) for p in parts)


def clear_stages(workdir: Path) -> None:
    """Forget every stage marker (the next run recomputes everything)."""
    shutil.rmtree(Path(workdir) / ".stages", ignore_errors=True)


# --- the stages ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfiguredFamily:
    """A family class with its config: the factory the harness and train_final call."""

    name: str
    cls: Any
    config: Any

    def __call__(self) -> Any:
        return self.cls(config=self.config)


def family_args(config: RunConfig) -> list[Any]:
    """Family names, or ConfiguredFamily factories where the run gives a family config."""
    from arbscore.registry import get_family

    configs = dict(config.family_configs)
    return [
        ConfiguredFamily(n, get_family(n), configs[n]) if n in configs else n
        for n in config.families
    ]


def stage_outputs(workdir: Path, stage: str) -> list[Path]:
    """The files whose presence (with a matching marker) means the stage is finished."""
    return {
        "data": [workdir / "training_data.parquet", workdir / "market.json"],
        "evaluate": [workdir / "metrics.json"],
        "train": [workdir / "models"],
        "export": [workdir / "bundle" / "manifest.json"],
        "report": [workdir / "report" / "report.html", workdir / "report" / "report.md"],
    }[stage]


def _relay(forward: Callable[..., None]) -> Callable[..., None]:
    """Adapt the stages' own progress callbacks (message, i, n) / (i, n) / (message) to ours."""

    def callback(*args: Any, **_: Any) -> None:
        words = [str(a) for a in args if isinstance(a, str)]
        nums = [float(a) for a in args if isinstance(a, (int, float)) and not isinstance(a, bool)]
        forward(" ".join(words), nums[0] if nums else None, nums[1] if len(nums) > 1 else None)

    return callback


def _stage_data(config: RunConfig, forward: Callable[..., None]) -> str:
    import pandas as pd

    workdir = config.workdir
    if config.data_is_file:
        load = need("arbscore.data_tools.dataset_files", "load_training_data", "data")
        forward(f"reading {config.data}")
        frame = load(Path(config.data))
        marks = fees = None
        kinds = set(frame["data_source"].astype(str)) if "data_source" in frame else set()
        market = {
            "source": f"training data file {config.data}",
            "synthetic": ("synthetic" in kinds) if kinds else None,
            "details": {},
        }
    else:
        embedded = None
        if config.data == "embedded":
            load = need("arbscore.data_tools.sources.embedded", "load_embedded_market", "data")
            cfg_cls = need("arbscore.data_tools.sources.embedded", "EmbeddedDataConfig", "data")
            forward("loading the embedded market data")
            embedded = config.embedded or cfg_cls()
            md = load(embedded, progress=_relay(forward))
        else:
            gen = need("arbscore.data_tools.sources.synthetic", "generate_synthetic_market", "data")
            cfg_cls = need("arbscore.data_tools.sources.synthetic", "SyntheticMarketConfig", "data")
            forward("generating the synthetic market")
            md = gen(config.synthetic or cfg_cls())
        build = need("arbscore.data_tools.training_set", "build_training_set", "data")
        ts_cls = need("arbscore.data_tools.training_set", "TrainingSetConfig", "data")
        ts_config = config.training_set or ts_cls()
        stride = getattr(embedded, "entry_stride_minutes", None)
        if config.training_set is None and stride:  # the embedded market's default, sized to budget
            opp = dataclasses.replace(ts_config.opportunities, entry_stride_minutes=stride)
            ts_config = dataclasses.replace(ts_config, opportunities=opp)
        stride = ts_config.opportunities.entry_stride_minutes
        forward(f"building the training set from {md.source} (entry stride {stride} min)")
        frame, marks = _build_set(config, md, ts_config, build, forward)
        fees = ts_config.simulation.costs.fees.to_dict()
        market = {
            "source": md.source,
            "synthetic": bool(md.synthetic),
            "entry_stride_minutes": stride,
            "details": jsonable(md.details),
            **_market_ranges(md),
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
    return f"{len(frame):,} rows, {n_opp:,} opportunities ({kind}{span}{sampling})"


def _build_set(config: RunConfig, md: Any, ts_config: Any, build: Any, forward: Any) -> Any:
    """The set in this process, or partition by partition on the run's cluster."""
    from arbscore.scale.cluster import open_cluster

    with open_cluster(config.cluster) as cluster:
        if cluster.spec is None:
            return build(md, ts_config, progress=_relay(forward), marks=True)
        from arbscore.data_tools.partitioned import build_via_partitions

        forward(f"building the set partition by partition on {cluster.spec.describe()}")
        parts = config.workdir / "training_set.parts"
        return build_via_partitions(md, ts_config, parts, mapper=cluster.map)


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


def _stage_evaluate(config: RunConfig, forward: Callable[..., None]) -> str:
    evaluate = need("arbscore.evaluation", "evaluate", "evaluate")
    cfg_cls = need("arbscore.evaluation", "EvaluationConfig", "evaluate")
    frame = _read_training_set(config)
    marks = _read_marks(config.workdir)
    forward(f"walk-forward evaluation of {', '.join(config.families)}")
    from arbscore.scale.cluster import open_cluster

    with open_cluster(config.cluster) as cluster:
        result = evaluate(
            frame,
            family_args(config),
            config.evaluation or cfg_cls(),
            progress=_relay(forward),
            marks=marks,
            mapper=cluster.map,
        )
    write = getattr(result, "write", None)
    if write is None:
        raise PipelineError("stage 'evaluate': EvaluationResult has no write(dir) method")
    write(config.workdir)
    metrics = json.loads((config.workdir / "metrics.json").read_text())
    winners = metrics.get("winner", {})
    return "winners: " + ", ".join(f"{h} {f}" for h, f in winners.items())


def _stage_train(config: RunConfig, forward: Callable[..., None]) -> str:
    train_final = need("arbscore.final_fit", "train_final", "train")
    frame = _read_training_set(config)
    forward(f"fitting {', '.join(config.families)} on all {len(frame):,} rows")
    train_final(frame, family_args(config), config.workdir, progress=_relay(forward))
    return f"models in {config.workdir / 'models'}"


def _stage_export(config: RunConfig, forward: Callable[..., None]) -> str:
    export_bundle = need("arbscore.export.bundle", "export_bundle", "export")
    cfg_cls = need("arbscore.export.bundle", "ExportConfig", "export")
    out = config.workdir / "bundle"
    forward("exporting the winners to ONNX")
    manifest = export_bundle(
        config.workdir, out, config.export or cfg_cls(), progress=_relay(forward)
    )
    heads = manifest.get("heads", {}) if isinstance(manifest, dict) else {}
    return f"bundle {out} ({', '.join(heads) or 'heads'})"


def _stage_report(config: RunConfig, forward: Callable[..., None]) -> str:
    from arbscore.report import build_report

    forward("writing the report")
    html_path, _ = build_report(config.workdir)
    return str(html_path)


_STAGE_FUNCTIONS: dict[str, Callable[[RunConfig, Callable[..., None]], str]] = {
    "data": _stage_data,
    "evaluate": _stage_evaluate,
    "train": _stage_train,
    "export": _stage_export,
    "report": _stage_report,
}
