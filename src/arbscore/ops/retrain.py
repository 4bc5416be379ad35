"""Champion / challenger retraining with an atomic bundle swap.

Layout under ``root`` (what ``arbscore serve --bundle ROOT/current`` serves)::

    ROOT/current -> versions/<id>/bundle     symlink, swapped atomically (os.replace)
    ROOT/versions/<id>/                      run dir of each challenger (metrics, models, bundle)
    ROOT/retrain_log.jsonl                   one JSON line per retrain, promoted or not

``retrain`` trains challengers on the latest data and evaluates them *with the harness, in the
same walk-forward run* as the serving champion: the champion enters ``evaluate`` as a family
whose ``fit`` does nothing and whose ``predict`` is the bundle's ONNX graphs, so both are scored
on exactly the same recent test folds by the same metrics. The challenger (best family per head)
is promoted only if it wins at least ``required_wins`` heads on the harness's declared metric and
regresses on none by more than ``max_regression``. Promotion = export into a fresh directory,
point a temporary symlink at it, ``os.replace`` it over ``current`` (atomic on POSIX), then
``POST /reload``; if the server refuses the new bundle the symlink is put back. Any failure before
the swap leaves ``current`` untouched: a failed retrain never touches the champion.

Honest folds: the champion's manifest says where its training rows end (``training_data.end``,
entry time of its last row); their labels read the market up to the largest hold after that.
When the data reaches far enough, the test folds are placed after ``end + embargo_hours`` (the
evaluation's embargo, the largest hold), so both are scored on rows, and label windows, the
champion never saw (``champion_unseen_folds: true``). When it does not (a weekly retrain whose
new rows are younger than the largest hold), or the manifest does not say, the configured folds
are used and the comparison says so: ``champion_unseen_folds: false`` and a ``folds_note``
(printed by the CLI, kept in the log) naming the overlap; that favours the champion, so
promotion then errs on the side of keeping it. ``champion_unseen_folds`` is null without a
champion (the first run promotes: "promoted (no champion yet)").

Every run's log line records the challenger (``challenger``: the family per head, the run
directory, the fold-mean metric per head, and its model version when it was exported), whether
it was promoted or not.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from arbscore.evaluation.config import EvaluationConfig
from arbscore.evaluation.metrics import json_safe
from arbscore.evaluation.winner import resolve_metric
from arbscore.families import HeadOutputs
from arbscore.ops.retrain_folds import fold_provenance, fresh_folds
from arbscore.progress import Progress, no_progress
from arbscore.schema import HEADS

CHAMPION = "champion"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetrainConfig:
    """Where bundles live, what to train, how to judge, whom to tell."""

    root: Path
    families: tuple[str, ...] = ("xgboost", "lightgbm")
    evaluation: EvaluationConfig = field(default_factory=lambda: EvaluationConfig(n_folds=2))
    required_wins: int = 2
    max_regression: float = 0.05
    server_url: str | None = None
    reload_timeout_s: float = 60.0
    keep_versions: int = 5

    def __post_init__(self) -> None:
        if not 1 <= self.required_wins <= len(HEADS):
            raise ValueError(f"required_wins={self.required_wins}: must be 1..{len(HEADS)}")
        if self.max_regression < 0:
            raise ValueError(f"max_regression={self.max_regression}: must be >= 0")
        if not self.families:
            raise ValueError("families: give at least one challenger family")
        if CHAMPION in self.families:
            raise ValueError(f"families: {CHAMPION!r} is reserved for the serving bundle")
        if self.keep_versions < 1:
            raise ValueError("keep_versions must be >= 1")


@dataclass(frozen=True)
class RetrainResult:
    """The decision, both versions, the per-head comparison (with the folds' provenance) and
    the challenger's record (families per head, run, metrics; see the module docstring)."""

    promoted: bool
    reason: str
    champion_version: str | None
    challenger_version: str | None
    comparison: dict[str, Any]
    run_dir: Path | None
    challenger: dict[str, Any] = field(default_factory=dict)


def training_frame_from_store(
    store: Any, days: float, config: Any = None, progress: Progress | None = None
) -> pd.DataFrame:
    """The labelled training set of the last ``days`` of market history in ``store`` (counted
    back from the newest funding event, not the wall clock: a store that stopped updating still
    trains on its own latest data). ``config``: a ``TrainingSetConfig`` (default settings)."""
    from arbscore.data_tools.store import FUNDING
    from arbscore.data_tools.training_set import TrainingSetConfig, build_training_set

    if not days > 0:
        raise ValueError(f"--days {days}: must be > 0")
    newest = store.read(FUNDING, "funding_time >= (SELECT MAX(funding_time) FROM funding_events)")
    if newest.empty:
        raise ValueError("--db: the store has no funding history; run `arbscore backfill` first")
    end = pd.to_datetime(newest["funding_time"], utc=True).max() + pd.Timedelta(seconds=1)
    market = store.load_market(start=end - pd.Timedelta(days=days), end=end)
    return build_training_set(market, config or TrainingSetConfig(), progress)


def champion_family(bundle_dir: Path) -> type:
    """A harness family serving ``bundle_dir``: ``fit`` is a no-op, ``predict`` runs the
    bundle's graphs at each row's own hold (like the harness's native families)."""
    from arbscore.serve.scorer import Scorer

    scorer = Scorer(Path(bundle_dir))

    class Champion:
        name = CHAMPION

        def fit(self, X, targets, feature_names):  # noqa: ARG002 - a fixed model
            self.names_ = list(feature_names)
            return self

        def predict(self, X: np.ndarray) -> HeadOutputs:
            # the fold's feature spec may order or name columns differently: map by name,
            # filling what the champion knows but the fold lacks with the bundle's fill values
            fills = dict(scorer.spec.fill_values)
            col = {n: i for i, n in enumerate(self.names_)}
            Xc = np.empty((X.shape[0], scorer.n_features), np.float32)
            for j, name in enumerate(scorer.spec.feature_names):
                Xc[:, j] = X[:, col[name]] if name in col else fills.get(name, 0.0)
            p = scorer.predict_matrix(Xc, Xc[:, scorer.hold_col].astype(np.float64))
            return HeadOutputs(p.profit_pct, p.success_probability, p.hold_hours)

        def save(self, path: Path) -> None:
            raise ValueError("the champion is a bundle; it is not saved as a family")

    Champion.__name__ = "Champion"
    return Champion


def compare(metrics: dict[str, Any], config: RetrainConfig) -> dict[str, Any]:
    """Per head: champion's and best challenger's fold-mean metric, winner, relative change."""
    fams = metrics["families"]
    heads: dict[str, Any] = {}
    wins = regressions = 0
    for head in HEADS:
        key, higher_better, _ = resolve_metric(fams, head)
        sign = -1.0 if higher_better else 1.0
        champ = fams.get(CHAMPION, {}).get(head, {}).get(key, float("nan"))
        best_name, best = None, float("nan")
        for name in config.families:
            v = fams.get(name, {}).get(head, {}).get(key, float("nan"))
            if np.isfinite(v) and (best_name is None or sign * v < sign * best):
                best_name, best = name, v
        rel = (sign * (best - champ) / max(abs(champ), 1e-12)) if np.isfinite(champ) else -np.inf
        won = bool(np.isfinite(best) and (not np.isfinite(champ) or rel < 0))
        worse = bool(np.isfinite(rel) and rel > config.max_regression)
        wins += won
        regressions += worse
        heads[head] = {
            "metric": key,
            "champion": champ,
            "challenger": best,
            "challenger_family": best_name,
            "relative_change": rel,
            "challenger_wins": won,
            "regression": worse,
        }
    promote = wins >= config.required_wins and regressions == 0
    return {"heads": heads, "wins": wins, "regressions": regressions, "promote": promote}


def _swap(current: Path, target: Path) -> Path | None:
    """Point ``current`` at ``target`` atomically; returns the previous target (or None)."""
    previous = Path(os.readlink(current)) if current.is_symlink() else None
    if current.exists() and not current.is_symlink():
        raise ValueError(f"{current} is a real directory; retrain manages it as a symlink")
    tmp = current.with_name(current.name + ".swap")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(os.path.relpath(target, current.parent), tmp)
    os.replace(tmp, current)
    return previous


def _reload(url: str, timeout: float) -> dict:
    import httpx

    # the server's reload token, when it has one (`arbscore serve --allow-reload`)
    token = os.environ.get("ARBSCORE_RELOAD_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    resp = httpx.post(url.rstrip("/") + "/reload", timeout=timeout, headers=headers)
    if resp.status_code != 200:
        raise ValueError(f"server refused the new bundle ({resp.status_code}): {resp.text[:300]}")
    return resp.json()


def retrain(
    frame: pd.DataFrame, config: RetrainConfig, progress: Progress | None = None
) -> RetrainResult:
    """Train, compare with the champion, promote if it wins (see module docstring)."""
    from arbscore.evaluation import evaluate
    from arbscore.export.bundle import export_bundle
    from arbscore.export.manifest import read_manifest
    from arbscore.final_fit import train_final

    say = progress or no_progress
    root = Path(config.root)
    current = root / "current"
    root.mkdir(parents=True, exist_ok=True)
    if current.exists() and not current.is_symlink():
        raise ValueError(
            f"--root: {current} is a real directory; move it to {root}/versions/<id>/bundle and "
            f"symlink it (ln -s versions/<id>/bundle {current})"
        )
    champion_dir = current.resolve() if current.exists() else None
    champion = read_manifest(champion_dir) if champion_dir else {}
    champion_version = champion.get("model_version")
    evaluation = fresh_folds(frame, champion, config.evaluation)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    run_dir = root / "versions" / f"{stamp}-{os.getpid()}"
    run_dir.mkdir(parents=True)
    try:
        families: list[Any] = list(config.families)
        if champion_dir:
            families.append(champion_family(champion_dir))
        say(f"evaluating {', '.join(config.families)} vs {champion_version or 'no champion'}")
        result = evaluate(frame, families, evaluation, progress, out_dir=run_dir)
        comparison = {
            **compare(result.metrics, config),
            **fold_provenance(result.metrics, champion, evaluation),
        }
        for head, c in comparison["heads"].items():
            log.debug("retrain head %s: %s", head, c)
        log.info(
            "retrain: challenger won %d/%d heads, %d regressions (needs %d wins, 0 regressions)",
            comparison["wins"],
            len(HEADS),
            comparison["regressions"],
            config.required_wins,
        )
        winners = {h: comparison["heads"][h]["challenger_family"] for h in HEADS}
        # a head no challenger could score (e.g. AUC with one class in every fold) takes the
        # family that won another head, else the first configured one
        fallback = next((f for f in winners.values() if f), config.families[0])
        winners = {h: f or fallback for h, f in winners.items()}
        challenger = {
            "families": winners,
            "run": run_dir.name,
            "metrics": {
                h: {"metric": c["metric"], "value": c["challenger"]}
                for h, c in comparison["heads"].items()
            },
            "model_version": None,  # set when the challenger is exported (promoted)
        }
        if champion_dir and not comparison["promote"]:
            reason = (
                f"challenger won {comparison['wins']}/{len(HEADS)} heads with "
                f"{comparison['regressions']} regressions; champion kept"
            )
            _prune(root, config.keep_versions, keep=run_dir, champion=champion_dir)
            return _log(
                root,
                RetrainResult(
                    False, reason, champion_version, None, comparison, run_dir, challenger
                ),
            )
        say("training the challenger on all rows")
        frame.to_parquet(run_dir / "training_data.parquet", index=False)
        train_final(frame, sorted(set(winners.values())), run_dir)
        # the run's metrics.json names the champion as winner where it won: export the challenger
        metrics = json.loads((run_dir / "metrics.json").read_text())
        metrics["winner"] = winners
        (run_dir / "metrics.json").write_text(json.dumps(json_safe(metrics), indent=2, default=str))
        from arbscore.export.bundle import ExportConfig

        say("exporting the challenger bundle")
        manifest = export_bundle(run_dir, run_dir / "bundle", ExportConfig(), progress=say)
    except Exception as exc:
        (run_dir / "FAILED").write_text(f"{type(exc).__name__}: {exc}\n")
        raise
    previous = _swap(current, run_dir / "bundle")
    if config.server_url:
        try:
            _reload(config.server_url, config.reload_timeout_s)
        except Exception as exc:
            if previous is not None:  # put the champion back; the server still serves it
                _swap(current, (current.parent / previous))
            log.warning("retrain: server reload failed, promotion rolled back: %s", exc)
            (run_dir / "FAILED").write_text(f"reload: {exc}\n")
            raise ValueError(f"promotion rolled back: {exc}") from exc
    _prune(root, config.keep_versions, keep=run_dir, champion=champion_dir)
    reason = (
        "promoted (no champion yet)"
        if not champion_dir
        else (f"challenger won {comparison['wins']}/{len(HEADS)} heads; promoted")
    )
    challenger["model_version"] = manifest["model_version"]
    return _log(
        root,
        RetrainResult(
            True,
            reason,
            champion_version,
            manifest["model_version"],
            comparison,
            run_dir,
            challenger,
        ),
    )


def _prune(root: Path, keep_n: int, keep: Path, champion: Path | None) -> None:
    """Delete old version dirs beyond ``keep_n`` (never the new one or the last champion)."""
    versions = sorted((root / "versions").iterdir(), key=lambda p: p.name)
    protected = {keep.resolve(), champion.parent.resolve() if champion else None}
    for old in versions[:-keep_n]:
        if old.resolve() not in protected:
            shutil.rmtree(old, ignore_errors=True)


def _log(root: Path, result: RetrainResult) -> RetrainResult:
    log.info(
        "retrain decision: %s (champion %s, challenger %s, run %s)",
        result.reason,
        result.champion_version,
        result.challenger_version,
        result.run_dir,
    )
    entry = {
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "promoted": result.promoted,
        "reason": result.reason,
        "champion": result.champion_version,
        "challenger": result.challenger,
        "comparison": result.comparison,
        "run_dir": str(result.run_dir) if result.run_dir else None,
    }
    with open(root / "retrain_log.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(json_safe(entry), default=str) + "\n")
    return result


__all__: Sequence[str] = (
    "RetrainConfig",
    "RetrainResult",
    "champion_family",
    "compare",
    "retrain",
    "training_frame_from_store",
)
