"""The serving path never imports pandas, training libraries or the training code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

GOLDEN = Path(__file__).parents[1] / "export" / "golden" / "bundle"
FORBIDDEN = (
    "pandas",
    "xgboost",
    "lightgbm",
    "mlx",
    "sklearn",
    "onnxmltools",
    "coremltools",
    "torch",
    "duckdb",
    "ccxt",
    "optuna",
    "arbscore.gbdt",
    "arbscore.mlx_models",
    "arbscore.registry",
    "arbscore.data_tools.dataset_files",
    "arbscore.data_tools.dataset_checks",
    "arbscore.final_fit",
    "arbscore.export.bundle",
    "arbscore.evaluation",
)


def _loaded_after(code: str) -> list[str]:
    script = code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    mods = json.loads(out.stdout.strip().splitlines()[-1])
    return [m for m in mods if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]


def test_server_and_scorer_import_no_training_modules():
    code = (
        f"from arbscore.serve.app import create_app\n"
        f"from arbscore.serve.scorer import Scorer\n"
        f"app = create_app({str(GOLDEN)!r})\n"
        f"Scorer({str(GOLDEN)!r}).predict_records([{{'symbol': 'X', 'fund_profit_8h': 0.01,"
        f" 'fund_apr': 10.0}}])\n"
        f"import arbscore.serve; arbscore.serve.size"
    )
    assert _loaded_after(code) == []


def test_cli_entry_point_imports_no_training_modules():
    # `arbscore serve` runs through the CLI module: in the serving install (no pandas, no
    # training libraries) it must still import
    assert _loaded_after("import arbscore.cli") == []
