"""What ``arbscore run`` is told (:class:`RunConfig`) and what it reports back."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arbscore.registry import DEFAULT_FAMILIES, get_family

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
    configs = dict(config.family_configs)
    return [
        ConfiguredFamily(n, get_family(n), configs[n]) if n in configs else n
        for n in config.families
    ]
