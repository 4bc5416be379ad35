"""``arbscore run``: market data -> training set -> evaluation -> final models -> bundle -> report.

One short function (:func:`run_pipeline`) chains the stages each module owns (see
docs/architecture.md, "Agreed entry points"). A finished stage leaves a marker in
``DIR/.stages/<stage>.json`` holding the hash of everything it depended on (its config, the
hashes of the stages it reads, the input file's bytes); a re-run reuses the stage when the hash
and the outputs are still there, so editing one setting only re-runs what it affects. ``force``
ignores the markers. The report is always rebuilt (seconds), so it picks up new benchmarks.

- :mod:`.config`: :class:`RunConfig` and what a run returns and reports;
- :mod:`.markers`: stage hashes, ``DIR/.stages`` markers, ``run_config.json``;
- :mod:`.stages`: one function per stage, each calling the entry point its module owns;
- :mod:`.run`: :func:`run_pipeline`, the chain.
"""

from __future__ import annotations

from arbscore.pipeline.config import (
    DATA_CHOICES,
    DEPENDS_ON,
    STAGES,
    ConfiguredFamily,
    PipelineError,
    RunConfig,
    RunResult,
    StageEvent,
    StageResult,
    family_args,
)
from arbscore.pipeline.markers import (
    clear_stages,
    jsonable,
    reproduce_command,
    stage_outputs,
    write_run_config,
)
from arbscore.pipeline.run import run_pipeline

__all__ = [
    "DATA_CHOICES",
    "DEPENDS_ON",
    "STAGES",
    "ConfiguredFamily",
    "PipelineError",
    "RunConfig",
    "RunResult",
    "StageEvent",
    "StageResult",
    "clear_stages",
    "family_args",
    "jsonable",
    "reproduce_command",
    "run_pipeline",
    "stage_outputs",
    "write_run_config",
]
