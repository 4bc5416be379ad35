"""MLX ablations beside the GBDTs, through the shared harness on the same walk-forward folds.

    PYTHONPATH=src .venv/bin/python benchmarks/mlx_ablation.py --data training_data.parquet \\
        --configs default,plain --families xgboost,lightgbm --out /tmp/ablation
    PYTHONPATH=src .venv/bin/python benchmarks/mlx_ablation.py --out /tmp/ablation --summary

Each family (a GBDT by registry name, or an MLX preset from ``PRESETS`` below) is evaluated by
``arbscore.evaluation.evaluate`` on the same frame and ``EvaluationConfig`` (so the same folds)
and its metrics are written to ``OUT/<name>.json`` as soon as it finishes; a finished name is
skipped when the script is run again, so an interrupted run resumes. ``--opportunity-fraction``
keeps a seeded random share of the opportunities (every hold row of a kept one) to bound the
run on a busy machine; the summary says which fraction ran. The summary prints, per head, the
out-of-sample mean and the fold spread (std) of the declared winner metric of every family, and
MLX's gap to the best GBDT in percent.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

#: MLX presets: overrides of MLXConfig's defaults ("default" = the shipped defaults)
PRESETS: dict[str, dict] = {
    "default": {},
    "plain": dict(
        numeric_embedding="none",
        categorical_embedding_dim=0,
        ensemble_size=1,
        scaling="standard",
        smooth_clip=0.0,
        loss_balance="none",
    ),
    "ple": dict(numeric_embedding="ple"),
    "periodic": dict(numeric_embedding="periodic"),
    "noemb": dict(numeric_embedding="none"),
    "k1": dict(ensemble_size=1),
    "nobalance": dict(loss_balance="none"),
    "standard": dict(scaling="standard", smooth_clip=0.0),
    "ple_small": dict(n_bins=8, embedding_dim=4),
    # seed spread of the defaults, and the defaults before checkpoint="last" / duration 1.0
    "seed1": dict(seed=1),
    "seed2": dict(seed=2),
    "dw05": dict(duration_weight=0.5, max_steps=2000),
    "ms2000": dict(max_steps=2000),
    "old_best": dict(checkpoint="best", duration_weight=0.5, max_steps=2000),
    "old_best_seed1": dict(checkpoint="best", duration_weight=0.5, max_steps=2000, seed=1),
    "old_best_seed2": dict(checkpoint="best", duration_weight=0.5, max_steps=2000, seed=2),
}
HEADS = {"profit": ("mae", False), "success": ("auc", True), "duration": ("mae_hours", False)}


def preset_family(preset: str):
    """An MLXFamily subclass whose default config is the preset (the harness calls cls())."""
    from arbscore.mlx_models import MLXConfig, MLXFamily

    if preset not in PRESETS:
        raise SystemExit(f"unknown preset {preset!r}; known: {sorted(PRESETS)}")
    config = MLXConfig(**PRESETS[preset])

    class Preset(MLXFamily):
        name = f"mlx_{preset}"

        def __init__(self, config: MLXConfig | None = config) -> None:
            super().__init__(config)

    return Preset


def subsample(frame, fraction: float, seed: int):
    """Every row of a seeded random ``fraction`` of the opportunities."""
    if fraction >= 1:
        return frame
    ids = frame["opportunity_id"].unique()
    keep = np.random.default_rng(seed).choice(ids, int(round(len(ids) * fraction)), replace=False)
    return frame[frame["opportunity_id"].isin(set(keep))].reset_index(drop=True)


def run(args: argparse.Namespace, log) -> None:
    from arbscore.data_tools.dataset_files import load_training_data
    from arbscore.evaluation import EvaluationConfig, evaluate

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    frame = subsample(load_training_data(Path(args.data)), args.opportunity_fraction, args.seed)
    log(f"{len(frame):,} rows, {frame['opportunity_id'].nunique():,} opportunities")
    config = EvaluationConfig(n_folds=args.folds)
    names = [f for f in args.families.split(",") if f] + [
        f"mlx_{c}" for c in args.configs.split(",") if c
    ]
    for name in names:
        path = out / f"{name}.json"
        if path.exists():
            log(f"{name}: done before, skipped")
            continue
        family = preset_family(name[4:]) if name.startswith("mlx_") else name
        t0 = time.perf_counter()
        metrics = evaluate(frame, [family], config).metrics
        record = {
            "family": name,
            "metrics": metrics["families"][name],
            "folds": metrics["folds"],
            "rows": len(frame),
            "opportunity_fraction": args.opportunity_fraction,
            "data": str(args.data),
            "seconds": time.perf_counter() - t0,
        }
        path.write_text(json.dumps(record, default=float, indent=1))
        log(f"{name}: {record['seconds']:.0f} s")


def summary(out: Path) -> str:
    """Per head: mean and fold std of the winner metric per family, MLX vs best GBDT (%)."""
    records = {p.stem: json.loads(p.read_text()) for p in sorted(out.glob("*.json"))}
    if not records:
        return f"no results in {out}"
    lines = []
    first = next(iter(records.values()))
    lines.append(f"rows {first['rows']:,} (opportunity fraction {first['opportunity_fraction']})")
    gbdt = [n for n in records if not n.startswith("mlx")]
    for head, (metric, higher) in HEADS.items():
        lines.append(f"{head} {metric} ({'higher' if higher else 'lower'} is better)")
        values = {}
        for name, rec in records.items():
            block = rec["metrics"][head]
            folds = [
                v for v in block.get(f"{metric}_folds", []) if v is not None and np.isfinite(v)
            ]
            mean = block.get(metric)
            values[name] = mean
            std = float(np.std(folds)) if folds else float("nan")
            lines.append(f"  {name:18s} {mean:10.4f}  fold std {std:.4f}  folds {folds}")
        best = [values[n] for n in gbdt if values[n] is not None]
        if best:
            ref = max(best) if higher else min(best)
            for name in records:
                if name.startswith("mlx") and values[name] is not None:
                    gap = (ref - values[name]) / abs(ref) if higher else (values[name] - ref) / ref
                    lines.append(f"  {name:18s} worse than best GBDT by {100 * gap:+.1f} %")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="training_data.parquet")
    parser.add_argument("--out", required=True)
    parser.add_argument("--configs", default="default", help=f"MLX presets: {sorted(PRESETS)}")
    parser.add_argument("--families", default="xgboost,lightgbm")
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--opportunity-fraction", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--summary", action="store_true", help="only print the summary")
    args = parser.parse_args()
    if not 0 < args.opportunity_fraction <= 1:
        parser.error("--opportunity-fraction must be in (0, 1]")

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    if not args.summary:
        run(args, log)
    print(summary(Path(args.out)))


if __name__ == "__main__":
    main()
