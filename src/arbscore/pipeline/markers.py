"""Stage hashes and markers (``DIR/.stages/<stage>.json``) and the run's own record."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import shlex
import shutil
from pathlib import Path
from typing import Any

from arbscore.export.manifest import sha256_file
from arbscore.pipeline.config import RunConfig
from arbscore.registry import DEFAULT_FAMILIES


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


def stage_hash(*parts: Any) -> str:
    text = json.dumps([jsonable(p) for p in parts], sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def marker_path(workdir: Path, stage: str) -> Path:
    return workdir / ".stages" / f"{stage}.json"


def is_done(workdir: Path, stage: str, key: str, outputs: list[Path]) -> bool:
    path = marker_path(workdir, stage)
    if not path.exists() or not all(p.exists() for p in outputs):
        return False
    try:
        return json.loads(path.read_text()).get("key") == key
    except json.JSONDecodeError:
        return False


def mark_done(workdir: Path, stage: str, key: str, seconds: float, detail: str) -> None:
    path = marker_path(workdir, stage)
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    record = {"key": key, "finished_at": stamp, "seconds": seconds, "detail": detail}
    path.write_text(json.dumps(record, indent=1))


def input_key(config: RunConfig) -> str:
    """What the data stage reads: the file's bytes, or which market the embedded default finds
    (real data appearing or disappearing under ../shared/data must not reuse the old set)."""
    if config.data_is_file:
        return stage_hash(config.data, sha256_file(Path(config.data)))  # an edited file re-runs
    if config.data == "embedded":
        from arbscore.data_tools.sources.real import find_shared_data

        root_setting = getattr(config.embedded, "data_root", None)
        return stage_hash(config.data, str(find_shared_data(root_setting)))
    return stage_hash(config.data)


def stage_config(config: RunConfig, stage: str) -> Any:
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
    workdir: Path,
    data: str,
    families: tuple[str, ...],
    config_file: Path | None = None,
    flags: tuple[tuple[str, str | None], ...] = (),
) -> str:
    """The exact `arbscore run` line that repeats a run (shown in the report); ``flags``:
    further ``(--flag, value)`` pairs given (None values are left out)."""
    parts = ["arbscore", "run", "--out", str(workdir), "--data", str(data)]
    if tuple(families) != DEFAULT_FAMILIES:
        parts += ["--family", ",".join(families)]
    if config_file is not None:
        parts += ["--config", str(config_file)]
    for flag, value in flags:
        if value is not None:
            parts += [flag, str(value)]
    return " ".join(shlex.quote(p) for p in parts)


def clear_stages(workdir: Path) -> None:
    """Forget every stage marker (the next run recomputes everything)."""
    shutil.rmtree(Path(workdir) / ".stages", ignore_errors=True)


def stage_outputs(workdir: Path, stage: str) -> list[Path]:
    """The files whose presence (with a matching marker) means the stage is finished."""
    return {
        "data": [workdir / "training_data.parquet", workdir / "market.json"],
        "evaluate": [workdir / "metrics.json"],
        "train": [workdir / "models"],
        "export": [workdir / "bundle" / "manifest.json"],
        "report": [workdir / "report" / "report.html", workdir / "report" / "report.md"],
    }[stage]
