"""Optional MLflow tracking of ``arbscore run``, ``evaluate`` and ``retrain`` (``--mlflow URI``).

The CLI calls one function here *after* its stage has finished, with what the stage wrote (the
run directory, ``metrics.json``, the report, the bundle), so no stage knows about MLflow, and
without ``--mlflow`` nothing imports it (the ``mlflow`` extra: ``pip install 'arbscore[mlflow]'``).

One MLflow run per command, in the experiment ``MLFLOW_EXPERIMENT_NAME`` (default ``arbscore``):

- params: the resolved config, flattened to dotted keys (lists as JSON);
- metrics, from ``metrics.json``: ``<family>.<head>.<metric>`` (the fold mean, as metrics.json
  gives it) and ``<family>.<head>.<metric>_folds`` (one value per fold, ``step`` = fold index);
  the baselines as ``baseline.<name>...``; the pooled backtest as ``pooled.<name>.<metric>``;
  the folds' sizes as ``fold.<train_rows|test_rows|...>`` (step = fold);
- artifacts: ``metrics.json`` and what sits beside it (``evaluation/``, ``report/``,
  ``run_config.json``) and the bundle under ``bundle/``;
- ``retrain``: a promoted challenger's bundle is registered as a version of the registered model
  ``arbscore`` and gets the alias ``champion``; a kept champion leaves the registry as it is.

``URI`` is any MLflow tracking URI; ``env`` reads ``MLFLOW_TRACKING_URI``. The model registry
needs a database-backed store (``sqlite:///PATH/mlflow.db`` or a tracking server); for a
``sqlite:`` URI the artifacts go to ``mlartifacts/`` beside the database file.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

EXPERIMENT = "arbscore"
MODEL_NAME = "arbscore"
CHAMPION_ALIAS = "champion"
_MAX_PARAM = 6000  # MLflow's limit on a param value's length
_MAX_KEY = 250
_BAD_KEY = re.compile(r"[^A-Za-z0-9_\-. :/]")


def resolve_uri(value: str) -> str:
    """``--mlflow`` as given, or ``MLFLOW_TRACKING_URI`` for ``env``."""
    if value == "env":
        uri = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
        if not uri:
            raise ValueError("--mlflow env: MLFLOW_TRACKING_URI is not set")
        return uri
    if not value.strip():
        raise ValueError("--mlflow: give a tracking URI (or env)")
    return value


def _key(text: str) -> str:
    return _BAD_KEY.sub("_", text)[:_MAX_KEY]


def flatten_params(values: Any, prefix: str = "") -> dict[str, str]:
    """Nested dicts -> ``{"a.b.c": "value"}``; lists and scalars as JSON text (strings as is)."""
    out: dict[str, str] = {}
    if isinstance(values, Mapping):
        for k, v in values.items():
            out.update(flatten_params(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    text = values if isinstance(values, str) else json.dumps(values, default=str)
    out[_key(prefix or "value")] = text[:_MAX_PARAM]
    return out


def _finite(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _walk(block: Any, key: str, rows: list[tuple[str, float, int]], series: bool = False) -> None:
    if isinstance(block, Mapping):
        for k, v in block.items():
            _walk(v, f"{key}.{k}", rows, series or str(k).endswith("_folds"))
    elif isinstance(block, list):
        if (series or key.endswith("_folds")) and all(_finite(v) or v is None for v in block):
            rows.extend((_key(key), float(v), i) for i, v in enumerate(block) if _finite(v))
    elif _finite(block):
        rows.append((_key(key), float(block), 0))


def metric_rows(metrics: Mapping) -> list[tuple[str, float, int]]:
    """(key, value, step) of every number worth a chart in a ``metrics.json`` (see module doc)."""
    rows: list[tuple[str, float, int]] = []
    for name, block in (metrics.get("families") or {}).items():
        _walk(block, str(name), rows)
    for name, block in (metrics.get("baselines") or {}).items():
        _walk(block, f"baseline.{name}", rows)
    for name, block in ((metrics.get("backtest") or {}).get("pooled") or {}).items():
        _walk(block, f"pooled.{name}", rows)
    for i, fold in enumerate(metrics.get("folds") or []):
        rows.extend((f"fold.{k}", float(v), i) for k, v in fold.items() if _finite(v))
    return rows


def _artifact_location(uri: str) -> str | None:
    """``mlartifacts/`` beside a ``sqlite:`` database (else the store's own default)."""
    if not uri.startswith("sqlite:///"):
        return None
    db = Path(uri[len("sqlite:///") :]).resolve()
    return (db.parent / "mlartifacts").as_uri()


@contextmanager
def _mlflow_run(uri: str, name: str, tags: Mapping[str, str]) -> Iterator[tuple[Any, str]]:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment_name = os.environ.get("MLFLOW_EXPERIMENT_NAME") or EXPERIMENT
    experiment = client.get_experiment_by_name(experiment_name)
    experiment_id = (
        experiment.experiment_id
        if experiment is not None
        else client.create_experiment(experiment_name, _artifact_location(uri))
    )
    run = client.create_run(experiment_id, run_name=name, tags=dict(tags))
    run_id = run.info.run_id
    try:
        yield client, run_id
    except BaseException:
        client.set_terminated(run_id, "FAILED")
        raise
    client.set_terminated(run_id)


def _log_values(client: Any, run_id: str, params: Mapping[str, str], metrics: Mapping) -> None:
    from mlflow.entities import Metric, Param

    items = [Param(k, v) for k, v in params.items()]
    for i in range(0, len(items), 100):
        client.log_batch(run_id, params=items[i : i + 100])
    now = 0  # one timestamp for the whole run's numbers: they describe one finished stage
    rows = [Metric(k, v, now, step) for k, v, step in metric_rows(metrics)]
    for i in range(0, len(rows), 1000):
        client.log_batch(run_id, metrics=rows[i : i + 1000])


def _log_paths(client: Any, run_id: str, paths: Mapping[str, Path]) -> None:
    """Files and directories that exist, each under its artifact name."""
    for name, path in paths.items():
        path = Path(path)
        if path.is_dir():
            client.log_artifacts(run_id, str(path), name)
        elif path.is_file():
            client.log_artifact(run_id, str(path), os.path.dirname(name) or None)


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _winner_params(metrics: Mapping) -> dict[str, str]:
    return {f"winner.{h}": str(w) for h, w in (metrics.get("winner") or {}).items()}


def log_run(uri: str, workdir: Path) -> str:
    """``arbscore run``: ``run_config.json`` as params, ``metrics.json``, the report and the
    bundle of ``workdir``. Returns the MLflow run id."""
    workdir = Path(workdir)
    metrics = _read_json(workdir / "metrics.json")
    record = _read_json(workdir / "run_config.json")
    params = flatten_params(record.get("config", {}))
    params.update(flatten_params(metrics.get("config", {}), "evaluation_resolved"))
    params.update(_winner_params(metrics))
    tags = {"arbscore.command": "run", "arbscore.workdir": str(workdir)}
    with _mlflow_run(resolve_uri(uri), f"run {workdir.name}", tags) as (client, run_id):
        _log_values(client, run_id, params, metrics)
        _log_paths(
            client,
            run_id,
            {
                "metrics.json": workdir / "metrics.json",
                "run_config.json": workdir / "run_config.json",
                "report": workdir / "report",
                "evaluation": workdir / "evaluation",
                "bundle": workdir / "bundle",
            },
        )
    return run_id


def log_evaluation(uri: str, out: Path, data: Path, families: tuple[str, ...]) -> str:
    """``arbscore evaluate``: the evaluation config, the metrics and ``OUT/evaluation/``."""
    out = Path(out)
    metrics = _read_json(out / "metrics.json")
    params = flatten_params(metrics.get("config", {}), "evaluation")
    params.update({"data": str(data), "families": ",".join(families)})
    params.update(_winner_params(metrics))
    tags = {"arbscore.command": "evaluate", "arbscore.out": str(out)}
    with _mlflow_run(resolve_uri(uri), f"evaluate {out.name}", tags) as (client, run_id):
        _log_values(client, run_id, params, metrics)
        paths = {"metrics.json": out / "metrics.json", "evaluation": out / "evaluation"}
        _log_paths(client, run_id, paths)
    return run_id


def log_retrain(uri: str, result: Any, settings: Mapping[str, Any]) -> str:
    """``arbscore retrain``: its settings, the challenger's metrics and run directory, the
    decision; on a promotion the bundle is registered and aliased ``champion``."""
    run_dir = Path(result.run_dir) if result.run_dir is not None else None
    metrics = _read_json(run_dir / "metrics.json") if run_dir is not None else {}
    params = flatten_params(dict(settings), "retrain")
    params.update(flatten_params(metrics.get("config", {}), "evaluation"))
    params.update(_winner_params(metrics))
    tags = {
        "arbscore.command": "retrain",
        "arbscore.promoted": str(bool(result.promoted)).lower(),
        "arbscore.reason": str(result.reason)[:5000],
        "arbscore.champion_version": str(result.champion_version),
        "arbscore.challenger_version": str(result.challenger_version),
    }
    name = f"retrain {run_dir.name if run_dir is not None else ''}".strip()
    with _mlflow_run(resolve_uri(uri), name, tags) as (client, run_id):
        _log_values(client, run_id, params, metrics)
        bundle = run_dir / "bundle" if run_dir is not None else None
        if run_dir is not None:
            paths = {
                "metrics.json": run_dir / "metrics.json",
                "evaluation": run_dir / "evaluation",
                "bundle": bundle,
            }
            _log_paths(client, run_id, paths)
        comparison = json.dumps(result.comparison, indent=1, default=str)
        client.log_text(run_id, comparison, "comparison.json")
        if result.promoted and bundle is not None and bundle.is_dir():
            _register_champion(client, run_id, result.challenger_version)
    return run_id


def _register_champion(client: Any, run_id: str, version_label: str | None) -> None:
    from mlflow.exceptions import MlflowException

    try:
        client.create_registered_model(MODEL_NAME)
    except MlflowException as exc:  # already there: add a version to it
        if "RESOURCE_ALREADY_EXISTS" not in str(exc.error_code):
            raise
    source = f"{client.get_run(run_id).info.artifact_uri}/bundle"
    tags = {"arbscore.model_version": str(version_label)}
    version = client.create_model_version(MODEL_NAME, source, run_id=run_id, tags=tags)
    client.set_registered_model_alias(MODEL_NAME, CHAMPION_ALIAS, version.version)
