"""A hand-written run directory following issue 4's metrics.json schema.

Values are drawn from a seeded generator so that the tests compare the report against whatever
the file says rather than against numbers typed into the test.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

FAMILIES = ("xgboost", "lightgbm", "mlx")
BASELINES = ("rule_based", "persistence", "oracle")
N_FOLDS = 3


def _metric(rng, lo, hi):
    folds = [float(x) for x in rng.uniform(lo, hi, N_FOLDS)]
    return float(np.mean(folds)), folds


def _head(rng, spec):
    """The harness's layout: {name: mean, name_folds: [...], "std": {name: spread}}."""
    out: dict = {"std": {}}
    for name, (lo, hi) in spec.items():
        mean, folds = _metric(rng, lo, hi)
        out[name] = mean
        out[f"{name}_folds"] = folds
        out["std"][name] = float(np.std(folds, ddof=1))
    return out


BACKTEST = {
    "net_return": (-0.05, 0.2),
    "sharpe": (-1, 3),
    "win_rate": (0.3, 0.7),
    "max_drawdown": (-0.2, -0.01),
    "trades": (10, 200),
}


def make_run_dir(path: Path, *, synthetic: bool = True, seed: int = 7) -> dict:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2025-01-01", tz="UTC")
    folds = [
        {
            "fold": i,
            "train_end": str(start + pd.Timedelta(days=30 + 10 * i)),
            "test_start": str(start + pd.Timedelta(days=37 + 10 * i)),
            "test_end": str(start + pd.Timedelta(days=47 + 10 * i)),
            "train_rows": int(rng.integers(1000, 5000)),
            "test_rows": int(rng.integers(200, 900)),
        }
        for i in range(N_FOLDS)
    ]
    families = {}
    for fam in FAMILIES:
        success = _head(
            rng,
            {
                "auc": (0.5, 0.8),
                "accuracy": (0.5, 0.8),
                "precision": (0.3, 0.7),
                "recall": (0.3, 0.7),
                "f1": (0.3, 0.7),
                "brier": (0.15, 0.25),
            },
        )
        pred = np.linspace(0.05, 0.95, 10)
        success["calibration"] = [
            {
                "mean_predicted": float(p),
                "fraction_positive": float(np.clip(p + rng.normal(0, 0.05), 0, 1)),
                "count": int(rng.integers(10, 100)),
            }
            for p in pred
        ]
        families[fam] = {
            "profit": _head(rng, {"mae": (0.1, 0.5), "rmse": (0.2, 0.8), "r2": (-0.1, 0.5)}),
            "success": success,
            "duration": _head(rng, {"mae_hours": (10, 60)}),
            "backtest": _head(rng, BACKTEST),
        }
        timing = _head(rng, {"train_seconds": (1, 60), "predict_us_per_row": (0.5, 20)})
        families[fam]["timing"] = {k: timing[k] for k in ("train_seconds", "predict_us_per_row")}
        families[fam]["timing_folds"] = {
            k: timing[f"{k}_folds"] for k in ("train_seconds", "predict_us_per_row")
        }
    baselines = {b: _head(rng, BACKTEST) for b in BASELINES}
    winner = {
        h: min(FAMILIES, key=lambda f, h=h, k=k: s * families[f][h][k])
        for h, k, s in (("profit", "mae", 1), ("success", "auc", -1), ("duration", "mae_hours", 1))
    }
    metrics = {
        "scheme": "walk_forward",
        "purge_hours": 168,
        "embargo_hours": 168,
        "folds": folds,
        "families": families,
        "baselines": baselines,
        "winner": winner,
    }
    path.mkdir(parents=True, exist_ok=True)
    (path / "metrics.json").write_text(json.dumps(metrics, indent=1))

    n = 600
    ts = start + pd.to_timedelta(np.sort(rng.integers(0, 60 * 24 * 12, n)) * 5, unit="min")
    pd.DataFrame(
        {
            "opportunity_id": np.arange(n) // 3,
            "timestamp": ts,
            "strategy": rng.choice(["spot_perp", "perp_perp"], n),
            "symbol": rng.choice(["BTCUSDT", "ETHUSDT", "SOLUSDT"], n),
            "long_exchange": rng.choice(["binance", "bybit"], n),
            "long_market": "spot",
            "short_exchange": rng.choice(["binance", "okx"], n),
            "short_market": "perp",
            "hold_hours": rng.choice([1, 8, 24], n),
            "was_profitable": rng.integers(0, 2, n).astype(bool),
            "data_source": "synthetic" if synthetic else "real",
        }
    ).to_parquet(path / "training_data.parquet")

    ev = path / "evaluation"
    ev.mkdir(exist_ok=True)
    rows = []
    for i, f in enumerate(folds):
        times = pd.date_range(f["test_start"], f["test_end"], freq="6h")
        for s in FAMILIES + BASELINES:
            eq = np.cumprod(1 + rng.normal(0.001, 0.01, len(times)))
            rows.append(
                pd.DataFrame({"strategy": s, "fold": i, "time": times, "equity": eq / eq[0]})
            )
    pd.concat(rows).to_parquet(ev / "backtest_equity.parquet")
    feats = [f"feature_{k}" for k in range(15)]
    (ev / "feature_importance.json").write_text(
        json.dumps(
            {
                fam: {
                    h: {f: float(rng.uniform(0, 1)) for f in feats}
                    for h in ("profit", "success", "duration")
                }
                for fam in FAMILIES
            }
        )
    )
    (path / "market.json").write_text(
        json.dumps({"source": "hand-written test fixture", "synthetic": synthetic})
    )
    (path / "run_config.json").write_text(
        json.dumps({"command": f"arbscore run --workdir {path} --data synthetic"})
    )
    return metrics


def chromium_binary() -> str | None:
    import shutil

    return shutil.which("chromium") or shutil.which("chromium-browser")


def run_chromium(args: list[str], tmp: Path) -> str:
    """Headless Chromium with the flags that work as root in a container; returns stdout."""
    import subprocess

    exe = chromium_binary()
    if exe is None:
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    cmd = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={tmp / 'chromium-profile'}",
        *args,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout
