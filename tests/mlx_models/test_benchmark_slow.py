"""The BLAS benchmark end to end (slow: two fresh processes train a net)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from arbscore.mlx_models.blas import find_openblas

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.skipif(
    sys.platform != "linux" or find_openblas() is None, reason="needs Linux with OpenBLAS"
)
def test_mlx_blas_benchmark_runs_and_openblas_is_faster() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "mlx_blas.py"), "--rows", "40000"],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["openblas"]["device"]["blas"] == "openblas (preloaded)"
    assert result["bundled"]["device"]["blas"] == "bundled"
    assert result["openblas"]["steps"] == result["bundled"]["steps"]
    assert min(result["prediction_correlation"]) > 0.98
    assert result["cpu_speedup"] > 1.0
