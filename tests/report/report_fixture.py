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
BASELINES = (
    "carry_rule",
    "fund_apr_rank",
    "persistence",
    "hindsight_oracle",
    "always_on",
    "cash",
)
RULES = BASELINES[:3]
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
    "annual_return_pct": (-5, 12),
    "sharpe": (-1, 3),
    "win_rate": (0.3, 0.7),
    "max_drawdown_pct": (-20, -1),
    "trades": (10, 200),
}


def _pooled(rng) -> dict:
    """One strategy's ``backtest.pooled`` block (the harness's keys, seeded values)."""
    ann = float(rng.uniform(-4, 9))
    width = float(rng.uniform(1, 6))
    sharpe = float(rng.uniform(-1, 3))
    funding, fees, slip = (float(x) for x in rng.uniform([2, 0.5, 0.1], [12, 3, 1]))
    return {
        "annual_return_pct": ann,
        "annual_return_ci95": [ann - width, ann + width * 0.8],
        "sharpe": sharpe,
        "sharpe_ci95": [sharpe - 1.7, sharpe + 1.5],
        "sortino": sharpe * 1.3,
        "volatility_pct": float(rng.uniform(1, 8)),
        "max_drawdown_pct": float(rng.uniform(-12, -0.5)),
        "calmar": float(rng.uniform(-2, 4)),
        "total_return_pct": ann / 4,
        "days": 92,
        "trades": int(rng.integers(5, 300)),
        "win_rate": float(rng.uniform(0.3, 0.7)),
        "avg_hold_hours": float(rng.uniform(24, 400)),
        "liquidations": int(rng.integers(0, 3)),
        "turnover_per_year": float(rng.uniform(1, 40)),
        "funding_pct": funding,
        "fees_pct": fees,
        "slippage_pct": slip,
        "basis_pct": ann - funding + fees + slip,
        "capital_in_use_pct": float(rng.uniform(5, 40)),
        "annual_return_on_deployed_pct": ann * 4,
        "bootstrap_block_days": float(rng.uniform(1, 6)),
    }


#: each fixture position's fees (USD): 0.3 % of a 10,000 USD leg, a taker round trip
FEES_USD = 30.0


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
        success.update(_head(rng, {"naive_brier": (0.2, 0.3), "brier_skill": (-0.1, 0.2)}))
        success["ece"] = float(rng.uniform(0.01, 0.12))
        success["worst_bin_gap"] = float(rng.uniform(0.05, 0.4))
        success["calibration"] = [
            {
                "mean_predicted": float(p),
                "fraction_positive": float(np.clip(p + rng.normal(0, 0.05), 0, 1)),
                "count": int(rng.integers(10, 100)),
            }
            for p in pred
        ]
        families[fam] = {
            "profit": _head(
                rng,
                {
                    "mae": (0.1, 0.5),
                    "rmse": (0.2, 0.8),
                    "r2": (-0.1, 0.5),
                    "naive_mae": (0.3, 0.6),
                    "mae_skill": (-0.2, 0.4),
                },
            ),
            "success": success,
            "duration": _head(
                rng,
                {
                    "mae_hours": (10, 60),
                    "naive_mae_hours": (30, 90),
                    "mae_hours_skill": (-0.1, 0.5),
                },
            ),
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
    pooled = {s: _pooled(rng) for s in FAMILIES + BASELINES}
    rule = max(RULES, key=lambda r: pooled[r]["annual_return_pct"])
    recommended = max(FAMILIES, key=lambda f: pooled[f]["annual_return_pct"])
    versus = {}
    for fam in FAMILIES:
        versus[fam] = {}
        for against in (rule, "always_on", "cash"):
            diff = pooled[fam]["annual_return_pct"] - pooled[against]["annual_return_pct"]
            ci = [diff - float(rng.uniform(1, 5)), diff + float(rng.uniform(1, 5))]
            few = pooled[fam]["trades"] < 30
            verdict = "edge" if ci[0] > 0 else "worse" if ci[1] < 0 else None
            versus[fam][against] = {
                "against": against,
                "diff_annual_return_pct": diff,
                "diff_ci95": ci,
                "trades": pooled[fam]["trades"],
                "min_trades": 30,
                "verdict": "not enough evidence" if few or verdict is None else verdict,
            }
    backtest = {
        "universe": {
            "opportunities": 1200,
            "headline_opportunities": 1100,
            "left_out": {"a leg is priced by another venue's series (estimate)": 100},
            "source": "price_estimated column",
            "estimated_pairs": [
                {
                    "symbol": "XRPUSDT",
                    "strategy": "perp_perp",
                    "long_exchange": "binance",
                    "short_exchange": "hyperliquid",
                    "opportunities": 100,
                }
            ],
        },
        "pooled": pooled,
        "rule": rule,
        "versus": versus,
        "vs_rule": {f: {"rule": rule, **v[rule]} for f, v in versus.items()},
        "min_trades": 30,
        "idle_rate_pct": 0.0,
        "marks": {"given": True, "rows": 500, "matched_rows": 500, "matched_fraction": 1.0},
        "continuation": {"enabled": True, "boundary_hours": 720.0},
        "recommended_family": recommended,
        "span": {
            "start": folds[0]["test_start"],
            "end": folds[-1]["test_end"],
            "days": 92,
            "test_end": folds[-1]["test_end"],
            "tail_hours": 720.0,
        },
        "bootstrap": {
            "method": "circular block bootstrap of daily marked-to-market returns",
            "block_days": 7,
            "samples": 2000,
            "seed": 0,
        },
        "splits": {
            s: {
                "by_kind": {
                    k: {
                        "trades": int(rng.integers(1, 50)),
                        "pnl_pct": float(rng.normal(0, 2)),
                        "win_rate": 0.5,
                    }
                    for k in ("spot_perp", "perp_perp")
                },
                "by_symbol": {
                    k: {
                        "trades": int(rng.integers(1, 50)),
                        "pnl_pct": float(rng.normal(0, 2)),
                        "win_rate": 0.5,
                    }
                    for k in ("BTCUSDT", "ETHUSDT")
                },
            }
            for s in FAMILIES + BASELINES
        },
    }
    metrics = {
        "scheme": "walk_forward",
        "purge_hours": 168,
        "embargo_hours": 168,
        "folds": folds,
        "families": families,
        "baselines": baselines,
        "winner": winner,
        "backtest": backtest,
        "recommended_family": {
            "family": recommended,
            "by": "backtest.pooled.<family>.annual_return_pct (higher is better)",
            "differs_from_head_winners": sorted(h for h, w in winner.items() if w != recommended),
        },
        "calibration_check": {
            "metric": "ece",
            "flag_above": 0.05,
            "bin_gap_flag_above": 0.2,
            "bin_gap_min_rows": 20,
            "flagged": [
                f
                for f in FAMILIES
                if families[f]["success"]["ece"] > 0.05
                or families[f]["success"]["worst_bin_gap"] > 0.2
            ],
        },
        "config": {"capital_usd": 100000.0, "position_usd": 10000.0, "top_k": 3},
        "git_commit": "0123456789abcdef0123456789abcdef01234567",
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
    rows, trades = [], []
    days = pd.date_range(folds[0]["test_start"], folds[-1]["test_end"], freq="D")
    fold_of = np.searchsorted(
        pd.to_datetime([f["test_start"] for f in folds]).to_numpy(), days.to_numpy(), "right"
    )
    for s in FAMILIES + BASELINES:
        eq = np.cumprod(1 + rng.normal(0.0003, 0.003, len(days)))
        eq = eq / eq[0]
        dd = (eq / np.maximum.accumulate(eq) - 1) * 100
        rows.append(
            pd.DataFrame(
                {"strategy": s, "fold": fold_of - 1, "time": days, "equity": eq, "drawdown_pct": dd}
            )
        )
        n_tr = 30
        entry = days[0] + pd.to_timedelta(rng.integers(0, 24 * 20, n_tr), unit="h")
        hold = rng.choice([24.0, 72.0, 168.0], n_tr)
        pct = rng.normal(0.1, 0.6, n_tr)
        trades.append(
            pd.DataFrame(
                {
                    "strategy": s,
                    "fold": 0,
                    "opportunity_id": np.arange(n_tr),
                    "entry_time": entry,
                    "exit_time": entry + pd.to_timedelta(hold, unit="h"),
                    "symbol": rng.choice(["BTCUSDT", "ETHUSDT"], n_tr),
                    "kind": rng.choice(["spot_perp", "perp_perp"], n_tr),
                    "long_exchange": "binance",
                    "short_exchange": "bybit",
                    "exit_hours": hold,
                    "exit_rule": "hold",
                    "realised_pct": pct,
                    "pnl_usd": pct * 100.0,
                    "fees_usd": FEES_USD,
                    "capital_usd": 15_000.0,
                    "return_on_capital_pct": pct * 100.0 / 150.0,
                    "liquidated": False,
                }
            )
        )
    pd.concat(rows).to_parquet(ev / "backtest_equity.parquet")
    pd.concat(trades).to_parquet(ev / "backtest_trades.parquet")
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
        json.dumps({"command": f"arbscore run --out {path} --data synthetic"})
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
