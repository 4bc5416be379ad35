"""Train every registered model family on 500,000 synthetic rows and time it.

    .venv/bin/python benchmarks/train.py                          # 500k rows, all families
    .venv/bin/python benchmarks/train.py --rows 100000 --families xgboost,lightgbm
    .venv/bin/python benchmarks/train.py --data matrix            # skip the market pipeline

Data (``--data auto``, the default): the real pipeline when it is importable, i.e.
``generate_synthetic_market`` -> ``build_training_set`` -> ``arbscore.data_tools.features``
(the rows every family sees in ``arbscore train``); the market is grown until it yields
``--rows`` rows and the earliest ``--rows`` rows (in time order) are kept. Without the
pipeline (or ``--data matrix``) it uses
``arbscore.data_tools.synthetic_matrix.make_synthetic_matrix``,
whose generator is documented there. The JSON says which one ran.

Each family is built with its default hyperparameters (as ``arbscore train`` does), fitted
once, then checked before its time is reported: finite predictions, success in [0, 1],
duration > 0, and a save -> load round trip that reproduces the predictions exactly.
Wall and process-CPU seconds are both reported: on a shared machine the wall time depends on
the load (``load_average_1m``). The MLX family reports its device and BLAS; as in the CLI,
OpenBLAS is preloaded on Linux when present (``ARBSCORE_NO_BLAS_PRELOAD=1`` opts out).
The MLX family also reports its gradient steps and the time per step, and every family
whether its wall time kept within ``--budget-seconds`` (60 by default: the target for 500k rows
on two CPU cores; a loaded machine can miss it, which ``load_average_1m`` shows).
The last line printed is JSON: {"rows": N, "<family>_seconds": S, ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def preload_openblas() -> None:
    """Re-exec this script with the system OpenBLAS preloaded for MLX (as the CLI does)."""
    from arbscore.mlx_models.blas import GUARD_ENV, OPT_OUT_ENV, find_openblas

    env = os.environ
    if platform.system() != "Linux" or env.get(OPT_OUT_ENV, "") not in ("", "0"):
        return
    if env.get(GUARD_ENV) or "openblas" in env.get("LD_PRELOAD", ""):
        return
    lib = find_openblas()
    if lib is None:
        return
    new_env = dict(env)
    new_env["LD_PRELOAD"] = ":".join(p for p in (str(lib), env.get("LD_PRELOAD", "")) if p)
    new_env[GUARD_ENV] = "1"
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, *sys.argv], new_env)


def pipeline_data(rows: int, days: float, seed: int, log) -> tuple:
    """(X, targets, feature_names, description) from the synthetic market pipeline."""
    from arbscore.data_tools.dataset_files import (
        feature_columns,
        normalise_training_frame,
        targets_from_frame,
    )
    from arbscore.data_tools.features import build_matrix, fit_feature_spec
    from arbscore.data_tools.sources.synthetic import (
        SyntheticMarketConfig,
        generate_synthetic_market,
    )
    from arbscore.data_tools.training_set import TrainingSetConfig, build_training_set

    for _ in range(4):
        t0 = time.perf_counter()
        market = generate_synthetic_market(SyntheticMarketConfig(seed=seed, days=days))
        frame = build_training_set(market, TrainingSetConfig())
        log(
            f"pipeline: {days:.0f} market days -> {len(frame):,} rows "
            f"({time.perf_counter() - t0:.0f} s)"
        )
        if len(frame) >= rows:
            break
        days = days * 1.15 * rows / max(len(frame), 1)
    else:
        raise SystemExit(f"the pipeline gave only {len(frame):,} rows; raise --days")
    df = normalise_training_frame(frame).iloc[:rows].reset_index(drop=True)
    columns = feature_columns(df)
    spec = fit_feature_spec(columns)
    X = build_matrix(columns, spec, strict=True)
    desc = {
        "data": "synthetic market -> build_training_set -> features",
        "market_days": round(days, 1),
        "opportunities": int(df["opportunity_id"].nunique()),
    }
    return X, targets_from_frame(df), list(spec.feature_names), desc


def matrix_data(rows: int, seed: int) -> tuple:
    """(X, targets, feature_names, description) from the documented plain generator."""
    from arbscore.data_tools.synthetic_matrix import make_synthetic_matrix
    from arbscore.data_tools.targets import Targets
    from arbscore.schema import HOLD_GRID_HOURS

    n_opp = -(-rows // len(HOLD_GRID_HOURS))
    X, t, names = make_synthetic_matrix(n_opp, seed=seed, days=max(30.0, n_opp / 200))
    cut = Targets(*(np.asarray(getattr(t, f))[:rows] for f in Targets.__dataclass_fields__))
    desc = {
        "data": "plain matrix (arbscore.data_tools.synthetic_matrix.make_synthetic_matrix)",
        "opportunities": n_opp,
    }
    return X[:rows], cut, names, desc


def check_and_time(name: str, X, targets, names, log, budget: float = 60.0) -> dict:
    """Fit ``name`` with default hyperparameters; verify it; return its figures (a failed
    check is reported as ``<family>_check`` instead of stopping the other families)."""
    from arbscore.registry import get_family

    cls = get_family(name)
    model = cls()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    model.fit(X, targets, names)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    sample = X[:: max(1, len(X) // 20_000)]
    pred = model.predict(sample)
    problems = []
    for head, values in zip(("profit", "success", "duration"), pred, strict=True):
        if not np.isfinite(np.asarray(values)).all():
            problems.append(f"non-finite {head}")
    if not ((pred.success >= 0) & (pred.success <= 1)).all():
        problems.append("success outside [0, 1]")
    if not (np.asarray(pred.duration) > 0).all():
        problems.append(f"duration <= 0 on {int((np.asarray(pred.duration) <= 0).sum())} rows")
    with tempfile.TemporaryDirectory() as tmp:
        model.save(Path(tmp) / name)
        again = cls.load(Path(tmp) / name).predict(sample)
    if not all(np.array_equal(a, b) for a, b in zip(pred, again, strict=True)):
        problems.append("save -> load changed the predictions")
    out = {f"{name}_seconds": round(wall, 1), f"{name}_cpu_seconds": round(cpu, 1)}
    out[f"{name}_check"] = "; ".join(problems) or "ok"
    if hasattr(model, "n_trees_"):
        out[f"{name}_trees"] = model.n_trees_
    if hasattr(model, "device_"):
        out[f"{name}_device"] = model.device_
    report = getattr(model, "fit_report_", {})
    if report.get("steps"):
        out[f"{name}_steps"] = report["steps"]
        out[f"{name}_ms_per_step"] = round(1000 * report["seconds"] / report["steps"], 1)
    out[f"{name}_within_budget"] = wall <= budget
    log(f"{name}: {wall:.1f} s wall, {cpu:.1f} s CPU, checks: {out[f'{name}_check']}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--families", default="", help="comma-separated; default: all registered")
    parser.add_argument("--data", choices=("auto", "pipeline", "matrix"), default="auto")
    parser.add_argument("--days", type=float, default=150.0, help="first market span to try")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget-seconds", type=float, default=60.0)
    args = parser.parse_args()
    if args.rows < 1000:
        parser.error(f"--rows must be >= 1000, got {args.rows}")

    from arbscore.registry import family_names

    families = [f.strip() for f in args.families.split(",") if f.strip()] or list(family_names())
    if "mlx" in families:
        preload_openblas()

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    use_pipeline = args.data == "pipeline"
    if args.data == "auto":
        try:
            import arbscore.data_tools.training_set  # noqa: F401

            use_pipeline = True
        except ImportError:
            log("build_training_set is not available: using the plain synthetic matrix")
    if use_pipeline:
        X, targets, names, desc = pipeline_data(args.rows, args.days, args.seed, log)
    else:
        X, targets, names, desc = matrix_data(args.rows, args.seed)
    result = {
        "rows": int(len(X)),
        "features": int(X.shape[1]),
        **desc,
        "data_seconds": round(time.perf_counter() - t0, 1),
    }
    for name in families:
        result.update(check_and_time(name, X, targets, names, log, args.budget_seconds))
    result["cpu_count"] = os.cpu_count()
    result["load_average_1m"] = round(os.getloadavg()[0], 2)
    result["machine"] = f"{platform.system()} {platform.machine()}"
    print(json.dumps(result))
    if any(v != "ok" for k, v in result.items() if k.endswith("_check")):
        sys.exit(1)


if __name__ == "__main__":
    main()
