"""``evaluate``: every family through the same walk-forward folds, metrics, backtest, winner.

The harness is the one place that decides what is true about a model: it alone splits data (by
time, purged and embargoed), fits each family on each fold's training rows (feature encodings
fitted on those rows too), predicts the fold's test rows, and scores them beside the baselines.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from arbscore import __version__
from arbscore.data_tools.dataset_files import (
    feature_columns,
    normalise_training_frame,
    targets_from_frame,
)
from arbscore.data_tools.features import build_matrix, fit_feature_spec
from arbscore.data_tools.market import to_epoch_ms
from arbscore.evaluation.baselines import BASELINES, baseline_candidates, model_candidates
from arbscore.evaluation.config import EvaluationConfig
from arbscore.evaluation.explain import SHAP_FILE
from arbscore.evaluation.fits import FitTask, run_fit_task
from arbscore.evaluation.metrics import (
    calibration_table,
    duration_metrics,
    json_safe,
    profit_metrics,
    success_metrics,
    summarise_folds,
)
from arbscore.evaluation.mix import head_winner_mix, recommendation
from arbscore.evaluation.out_of_time import out_of_time
from arbscore.evaluation.skill import (
    duration_skill,
    expected_calibration_error,
    profit_skill,
    success_skill,
    worst_bin_gap,
)
from arbscore.evaluation.splits import Fold, walk_forward_folds
from arbscore.evaluation.trading import pooled_backtest
from arbscore.evaluation.winner import pick_winners
from arbscore.families import HeadOutputs, ModelFamily
from arbscore.progress import Progress
from arbscore.registry import get_family
from arbscore.schema import HOLD_COLUMN

Mapper = Callable[[Callable, Iterable], Iterable]
FamilyArg = str | Callable[[], ModelFamily]


@dataclass
class EvaluationResult:
    """What ``evaluate`` found; ``write(dir)`` lays it out as the run directory expects."""

    metrics: dict
    predictions: pd.DataFrame  # out-of-sample predictions: family, fold, row keys, heads
    equity: pd.DataFrame  # strategy, fold, time, equity (x capital), drawdown_pct: daily MTM
    feature_importance: dict  # family -> head -> {feature: importance}
    trades: pd.DataFrame | None = None  # every strategy's booked positions
    explanations: dict | None = None  # family -> evaluation.explain's attributions

    def write(self, out_dir: Path) -> Path:
        """Write metrics.json and evaluation/*; returns the metrics.json path."""
        out = Path(out_dir)
        (out / "evaluation").mkdir(parents=True, exist_ok=True)
        path = out / "metrics.json"
        path.write_text(json.dumps(json_safe(self.metrics), indent=2) + "\n", encoding="utf-8")
        self.predictions.to_parquet(out / "evaluation" / "predictions.parquet", index=False)
        self.equity.to_parquet(out / "evaluation" / "backtest_equity.parquet", index=False)
        if self.trades is not None:
            trades = self.trades.drop(columns=["entry_ms", "exit_ms"], errors="ignore")
            trades.to_parquet(out / "evaluation" / "backtest_trades.parquet", index=False)
        importance = json.dumps(json_safe(self.feature_importance), indent=2) + "\n"
        (out / "evaluation" / "feature_importance.json").write_text(importance, encoding="utf-8")
        if self.explanations:
            shap = json.dumps(json_safe(self.explanations)) + "\n"
            (out / "evaluation" / SHAP_FILE).write_text(shap, encoding="utf-8")
        return path


def resolve_families(families: Sequence[FamilyArg]) -> list[tuple[str, Callable]]:
    """(name, factory) for registry names, ``module:Class`` names or family classes."""
    out: list[tuple[str, Callable]] = []
    for fam in families:
        if isinstance(fam, str):
            cls = get_family(fam)
            name = fam if ":" not in fam else getattr(cls, "name", cls.__name__)
        else:
            cls, name = fam, getattr(fam, "name", None) or getattr(fam, "__name__", str(fam))
        if name in (n for n, _ in out):
            raise ValueError(f"family {name!r} given twice")
        out.append((str(name), cls))
    if not out:
        raise ValueError("no model family to evaluate")
    return out


def _prediction_frame(name: str, fold: int, test: pd.DataFrame, pred: HeadOutputs):
    keys = ["opportunity_id", "timestamp", "symbol", "strategy", HOLD_COLUMN]
    keys += [c for c in ("opportunity_key",) if c in test.columns]
    out = test[keys + ["actual_profit_pct", "was_profitable", "optimal_hold_hours"]].copy()
    out.insert(0, "fold", fold)
    out.insert(0, "family", name)
    out["profit"], out["success"], out["duration"] = pred.profit, pred.success, pred.duration
    return out.reset_index(drop=True)


def _git_commit() -> str | None:
    """The commit of the checkout arbscore runs from (None outside a git checkout)."""
    import subprocess

    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip() if out.returncode == 0 else ""
    if not commit:
        return None
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=Path(__file__).resolve().parent,
        capture_output=True,
        text=True,
        timeout=5,
    )
    return commit + ("+dirty" if status.stdout.strip() else "")


def _mean_importance(per_fold: list[dict]) -> dict:
    heads: dict[str, dict[str, list[float]]] = {}
    for imp in per_fold:
        for head, values in imp.items():
            for feat, v in values.items():
                heads.setdefault(head, {}).setdefault(feat, []).append(float(v))
    return {h: {f: float(np.mean(v)) for f, v in feats.items()} for h, feats in heads.items()}


def evaluate(
    frame: pd.DataFrame,
    families: Sequence[FamilyArg],
    config: EvaluationConfig | None = None,
    progress: Progress | None = None,
    *,
    out_dir: Path | None = None,
    marks: pd.DataFrame | None = None,
    mapper: Mapper = map,
) -> EvaluationResult:
    """Walk-forward evaluation of ``families`` on a training set (see module docstring).

    ``families``: registry names (``xgboost``), ``module:Class`` names or family classes.
    ``marks``: the set's daily marks (``training_marks.parquet``, columns
    ``positions.MARK_COLUMNS``); without them the backtest marks open positions by linear
    interpolation between their hold rows. When ``out_dir`` is given the result is also
    written there (metrics.json, evaluation/). ``mapper(fn, tasks)`` runs the (fold, family)
    fits: the builtin ``map`` (default: lazily, one after another, one fold's matrices in
    memory at a time) or a cluster's map (``arbscore.scale.cluster``); it must yield the
    results in the tasks' order.
    """
    config = config or EvaluationConfig()
    resolved = resolve_families(families)
    df = normalise_training_frame(frame)
    df["timestamp_ms"] = to_epoch_ms(df["timestamp"]).to_numpy(np.int64)
    folds = walk_forward_folds(df["timestamp_ms"].to_numpy(), df[HOLD_COLUMN].to_numpy(), config)
    total = len(folds) * (len(resolved) + 1)
    done = 0
    per_fam = {n: {"profit": [], "success": [], "duration": [], "timing": []} for n, _ in resolved}
    calib = {n: ([], []) for n, _ in resolved}
    importances: dict[str, list[dict]] = {n: [] for n, _ in resolved}
    explanations: dict[str, dict] = {}
    cands: dict[str, list[pd.DataFrame]] = {n: [] for n, _ in resolved}
    cands.update({b: [] for b in BASELINES})
    preds = []
    prepared: dict[int, tuple[pd.DataFrame, pd.DataFrame]] = {}

    def fit_tasks():  # drawn lazily by ``map``: a fold's matrices are built when first needed
        for fold in folds:
            train, test = df.iloc[fold.train_idx], df.iloc[fold.test_idx]
            prepared[fold.index] = (train, test)
            spec = fit_feature_spec(feature_columns(train))
            X_tr = build_matrix(feature_columns(train), spec, strict=True)
            X_te = build_matrix(feature_columns(test), spec, strict=True)
            targets = targets_from_frame(train)
            for _, factory in resolved:
                yield FitTask(
                    factory,
                    X_tr,
                    targets,
                    tuple(spec.feature_names),
                    X_te,
                    config.latency_repeats,
                    explain=fold.index == folds[-1].index,  # the most recent model
                )

    fits = iter(mapper(run_fit_task, fit_tasks()))
    for fold in folds:
        for name, _ in resolved:
            if progress:
                progress(f"fold {fold.index + 1}/{len(folds)}: {name}", done, total)
            pred, timing, imp, explained = next(fits)
            if explained is not None:
                explanations[name] = explained | {"fold": fold.index}
            train, test = prepared[fold.index]
            block = per_fam[name]
            y_profit = test["actual_profit_pct"].to_numpy()
            block["profit"].append(
                profit_metrics(y_profit, pred.profit)
                | profit_skill(train["actual_profit_pct"].to_numpy(), y_profit, pred.profit)
            )
            y = test["was_profitable"].to_numpy(float)
            block["success"].append(
                success_metrics(y, pred.success, config.min_success_probability)
                | success_skill(train["was_profitable"].to_numpy(float), y, pred.success)
            )
            calib[name][0].append(y)
            calib[name][1].append(pred.success)
            block["duration"].append(
                duration_metrics(
                    test["optimal_hold_hours"].to_numpy(),
                    pred.duration,
                    test["opportunity_id"].to_numpy(),
                )
                | duration_skill(
                    train["optimal_hold_hours"].to_numpy(),
                    train["opportunity_id"].to_numpy(),
                    test["optimal_hold_hours"].to_numpy(),
                    test["opportunity_id"].to_numpy(),
                    pred.duration,
                )
            )
            cands[name].append(model_candidates(test, pred, config).assign(fold=fold.index))
            block["timing"].append(timing)
            preds.append(_prediction_frame(name, fold.index, test, pred))
            if imp:
                importances[name].append(imp)
            done += 1
        if progress:
            progress(f"fold {fold.index + 1}/{len(folds)}: baselines", done, total)
        for b in BASELINES:
            cands[b].append(baseline_candidates(b, test, config, train).assign(fold=fold.index))
        del prepared[fold.index]
        done += 1
    if progress:
        progress("backtest: pooled portfolio and bootstrap", done, total)
    test_rows = df.iloc[np.concatenate([f.test_idx for f in folds])]
    windows = [(f.test_start_ms, f.test_end_ms) for f in folds]
    strategies = [n for n, _ in resolved]
    tests = {f.index: df.iloc[f.test_idx] for f in folds}
    mix = head_winner_mix(per_fam, preds, tests, config)  # the heads' winners, booked together
    if mix is not None:
        cands[mix.name] = mix.candidates
        strategies.append(mix.name)
    trading = pooled_backtest(cands, windows, test_rows, marks, strategies, config)
    if progress:
        progress("done", total, total)
    fam_metrics = {}
    pred_frame = pd.concat(preds, ignore_index=True)
    starts = {f.index: f.test_start_ms for f in folds}
    for name, block in per_fam.items():
        oot_success, oot_profit = out_of_time(pred_frame[pred_frame.family == name], starts, config)
        success = summarise_folds(block["success"]) | oot_success
        y_all, p_all = (np.concatenate(x) for x in calib[name])
        success["calibration"] = calibration_table(y_all, p_all, config.calibration_bins)
        success["ece"] = expected_calibration_error(success["calibration"])
        success["worst_bin_gap"] = worst_bin_gap(success["calibration"], config.bin_gap_min_rows)
        timing = summarise_folds(block["timing"])
        fam_metrics[name] = {
            "profit": summarise_folds(block["profit"]) | oot_profit,
            "success": success,
            "duration": summarise_folds(block["duration"]),
            "backtest": summarise_folds(trading.folds[name]),
            "timing": {
                "train_seconds": timing["train_seconds"],
                "train_seconds_total": float(sum(timing["train_seconds_folds"])),
                "predict_us_per_row": timing["predict_us_per_row"],
                "predict_ms_single_row": timing["predict_ms_single_row"],
            },
            "timing_folds": {k: timing[f"{k}_folds"] for k in block["timing"][0]},
        }
    winners, rules = pick_winners(fam_metrics, config.tie_tolerance)
    metrics = {
        "scheme": "walk_forward",
        "purge_hours": float(df[HOLD_COLUMN].max()),
        "embargo_hours": config.embargo_for(df[HOLD_COLUMN].unique()),
        "purge_rule": "training rows with entry + hold_hours > test_start are dropped",
        "embargo_rule": "training rows with entry > test_start - embargo_hours are dropped",
        "folds": [f.describe() for f in folds],
        "families": fam_metrics,
        "baselines": {b: summarise_folds(trading.folds[b]) for b in BASELINES},
        "backtest": trading.section,
        "winner": winners,
        "winner_metrics": rules,
        "recommended_family": recommendation(trading.section, winners),
        "head_winner_mix": None if mix is None else {"name": mix.name, "heads": mix.heads},
        "calibration_check": {
            "metric": "ece",
            "flag_above": config.ece_flag,
            "bin_gap_flag_above": config.bin_gap_flag,
            "bin_gap_min_rows": config.bin_gap_min_rows,
            "flagged": [
                n
                for n, m in fam_metrics.items()
                if (m["success"]["ece"] or 0.0) > config.ece_flag
                or m["success"]["worst_bin_gap"] > config.bin_gap_flag
            ],
        },
        "git_commit": _git_commit(),
        "data": _data_summary(df),
        "config": config.to_dict(),
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "arbscore_version": __version__,
    }
    result = EvaluationResult(
        metrics=metrics,
        predictions=pred_frame,
        equity=trading.equity,
        feature_importance={n: _mean_importance(v) for n, v in importances.items() if v},
        trades=trading.trades,
        explanations=explanations,
    )
    if out_dir is not None:
        result.write(out_dir)
    return result


def _data_summary(df: pd.DataFrame) -> dict:
    sources = sorted(df["data_source"].astype(str).unique())
    return {
        "rows": int(len(df)),
        "opportunities": int(df["opportunity_id"].nunique()),
        "start": df["timestamp"].min().isoformat(),
        "end": df["timestamp"].max().isoformat(),
        "data_source": sources,
        "synthetic": sources == ["synthetic"],
        "profitable_share": float(df["was_profitable"].mean()),
    }


def fold_boundaries(folds: Sequence[Fold]) -> list[dict]:
    """The folds as metrics.json lists them (for callers that split without evaluating)."""
    return [f.describe() for f in folds]
