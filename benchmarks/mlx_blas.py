"""Time one fixed MLX training run with OpenBLAS preloaded and with MLX's bundled BLAS.

    .venv/bin/python benchmarks/mlx_blas.py                  # 300k rows, 3 epochs, both BLAS
    .venv/bin/python benchmarks/mlx_blas.py --rows 50000 --epochs 2

Each run is a fresh subprocess (the BLAS is chosen when the process loads MLX): one with
``LD_PRELOAD`` = the system OpenBLAS, one with ``ARBSCORE_NO_BLAS_PRELOAD=1`` and no preload.
Both train the same net on the same synthetic (opportunity x hold) rows with a fixed number of
epochs (early stopping off) so the work is identical. Before reporting times it checks the two
runs learned the same function (different BLAS round differently, so close, not equal).
Wall and CPU seconds are both reported: on a shared machine the wall time depends on the load
(``load_average_1m``). The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HOLDS = np.array([1, 4, 8, 12, 24, 48, 72, 120, 168], dtype=np.float32)
N_FEATURES = 33  # as arbscore.data_tools.features.FEATURE_NAMES (hold_hours last)


def synthetic_rows(n_rows: int, seed: int = 0):
    """Deterministic (opportunity x hold) rows with a learnable structure."""
    from arbscore.data_tools.targets import Targets

    n_opp = max(n_rows // len(HOLDS), 10)
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(n_opp, N_FEATURES - 1)).astype(np.float32)
    x = np.column_stack([np.repeat(f, len(HOLDS), axis=0), np.tile(HOLDS, n_opp)])
    rate = np.repeat(0.01 + 0.02 * f[:, 0] + 0.005 * f[:, 1] * f[:, 2], len(HOLDS))
    profit = rate * x[:, -1] * 0.375 - 0.2 + rng.normal(scale=0.1, size=len(x))
    targets = Targets(
        profit=profit,
        success=(profit > 0).astype(np.float64),
        duration=np.repeat(np.clip(np.exp(2.0 + f[:, 3]), 0, 168), len(HOLDS)),
        opportunity_id=np.repeat(np.arange(n_opp), len(HOLDS)),
        timestamp_ms=np.repeat(np.arange(n_opp, dtype=np.int64) * 300_000, len(HOLDS)),
    )
    names = [f"f{i}" for i in range(N_FEATURES - 1)] + ["hold_hours"]
    return x.astype(np.float32), targets, names


def _cpu_seconds() -> float:
    """User + system CPU time of this process (all threads): robust to a busy machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(rows: int, epochs: int, out: Path) -> None:
    """One timed fit in this process; writes predictions to ``out`` and prints JSON."""
    from arbscore.mlx_models import MLXConfig, MLXFamily

    x, targets, names = synthetic_rows(rows)
    config = MLXConfig(max_epochs=epochs, patience=epochs + 1)
    t0, c0 = time.perf_counter(), _cpu_seconds()
    family = MLXFamily(config).fit(x, targets, names)
    seconds, cpu = time.perf_counter() - t0, _cpu_seconds() - c0
    pred = family.predict(x)
    np.save(out, np.column_stack(pred))
    rep = family.fit_report_
    print(
        json.dumps(
            {
                "fit_seconds": round(seconds, 2),
                "fit_cpu_seconds": round(cpu, 2),
                "train_seconds": round(rep["seconds"], 2),
                "steps": rep["steps"],
                "steps_per_second": round(rep["steps"] / rep["seconds"], 1),
                "epochs": rep["epochs_run"],
                "batch_size": rep["batch_size"],
                "rows": rep["rows"],
                "device": family.device_,
            }
        )
    )


def run_child(rows: int, epochs: int, out: Path, openblas: Path | None) -> dict:
    from arbscore.mlx_models.blas import GUARD_ENV, OPT_OUT_ENV

    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", GUARD_ENV)}
    if openblas is None:
        env[OPT_OUT_ENV] = "1"
    else:
        env["LD_PRELOAD"] = str(openblas)
    cmd = [sys.executable, __file__, "--child", "--rows", str(rows), "--epochs", str(epochs)]
    done = subprocess.run(
        [*cmd, "--out", str(out)], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.rows, args.epochs, args.out)
        return

    from arbscore.mlx_models.blas import find_openblas

    lib = find_openblas()
    if lib is None:
        raise SystemExit("no OpenBLAS found (apt install libopenblas0-pthread); nothing to compare")
    with tempfile.TemporaryDirectory() as tmp:
        fast = run_child(args.rows, args.epochs, Path(tmp) / "fast.npy", lib)
        slow = run_child(args.rows, args.epochs, Path(tmp) / "slow.npy", None)
        a, b = np.load(Path(tmp) / "fast.npy"), np.load(Path(tmp) / "slow.npy")
    assert fast["device"]["blas"] == "openblas (preloaded)", fast["device"]
    assert slow["device"]["blas"] == "bundled", slow["device"]
    # same function learned: profit/success/duration agree closely (rounding differs per BLAS)
    agree = [float(np.corrcoef(a[:, i], b[:, i])[0, 1]) for i in range(3)]
    assert min(agree) > 0.98, f"OpenBLAS and bundled runs disagree: correlations {agree}"
    result = {
        "benchmark": "mlx_blas",
        "rows": args.rows,
        "epochs": args.epochs,
        "openblas_library": str(lib),
        "cpu_count": os.cpu_count(),
        "openblas": fast,
        "bundled": slow,
        "speedup": round(slow["train_seconds"] / fast["train_seconds"], 1),
        "cpu_speedup": round(slow["fit_cpu_seconds"] / fast["fit_cpu_seconds"], 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "prediction_correlation": [round(c, 5) for c in agree],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
