"""The chain: every stage in order, reused when its inputs did not change."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

from arbscore.pipeline.config import (
    DEPENDS_ON,
    STAGES,
    PipelineError,
    RunConfig,
    RunResult,
    StageEvent,
    StageResult,
)
from arbscore.pipeline.markers import (
    input_key,
    is_done,
    mark_done,
    marker_path,
    stage_config,
    stage_hash,
    stage_outputs,
    write_run_config,
)
from arbscore.pipeline.stages import STAGE_FUNCTIONS

#: what ``run_pipeline`` reports to: each stage's start, done and reuse, and (kind ``update``)
#: every call the stage makes to its :class:`arbscore.progress.Progress`
StageListener = Callable[[StageEvent], None]

log = logging.getLogger(__name__)


def run_pipeline(config: RunConfig, progress: StageListener | None = None) -> RunResult:
    """Run (or reuse) every stage into ``config.workdir``; returns what ran and where it is."""
    emit = progress or (lambda event: None)
    workdir = config.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    write_run_config(config)
    results: list[StageResult] = []
    keys = {"input": input_key(config)}
    for stage in STAGES:
        key = stage_hash(stage, [keys[d] for d in DEPENDS_ON[stage]], stage_config(config, stage))
        keys[stage] = key
        outputs = stage_outputs(workdir, stage)
        if stage != "report" and not config.force and is_done(workdir, stage, key, outputs):
            log.info("stage %s: reused (inputs unchanged, key %s)", stage, key)
            emit(StageEvent(stage, "reused", "reused (inputs unchanged)"))
            record = json.loads(marker_path(workdir, stage).read_text())
            results.append(StageResult(stage, "reused", 0.0, record.get("detail", "")))
            continue
        emit(StageEvent(stage, "start"))
        started = time.perf_counter()
        marker_path(workdir, stage).unlink(missing_ok=True)  # a failure leaves no stale marker

        def forward(
            message: str, completed: int | None = None, total: int | None = None, _stage=stage
        ) -> None:
            emit(StageEvent(_stage, "update", message, completed, total))

        try:
            detail = STAGE_FUNCTIONS[stage](config, forward)
        except ValueError as exc:  # bad data or settings: say which stage met it
            raise ValueError(f"stage '{stage}': {exc}") from exc
        except ImportError as exc:  # a piece the stage needs is missing or broken
            raise PipelineError(f"stage '{stage}' could not import what it needs: {exc}") from exc
        seconds = time.perf_counter() - started
        mark_done(workdir, stage, key, seconds, detail)
        log.info("stage %s: %.1f s (%s)", stage, seconds, detail)
        emit(StageEvent(stage, "done", detail))
        results.append(StageResult(stage, "ran", seconds, detail))
    metrics = json.loads((workdir / "metrics.json").read_text())
    report = workdir / "report"
    return RunResult(
        workdir, results, report / "report.html", report / "report.md", workdir / "bundle", metrics
    )
