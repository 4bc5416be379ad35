"""``--mlflow`` with a tracking server nobody answers on: the command finishes its work, warns
within seconds (bounded retries) and exits 0 with its results on disk; no traceback. The real
CLI as a process, against a closed 127.0.0.1 port."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

pytest.importorskip("mlflow")

from tests.serve.serve_helpers import arbscore_cmd  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
GUIDE_CSV = REPO / "tests" / "features" / "data" / "guide_training_data.csv"
MEAN_FAMILY = "tests.evaluation.arb_eval_kit:MeanFamily"


def test_an_unreachable_tracking_server_is_a_warning_not_a_hang(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "eval"
    cmd = [*arbscore_cmd(), "evaluate", "--data", str(GUIDE_CSV), "--out", str(out)]
    cmd += ["--folds", "2", "--family", MEAN_FAMILY, "--mlflow", f"http://127.0.0.1:{port}"]
    started = time.monotonic()
    path = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}  # the test family lives under tests/
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=REPO, env=env)
    took = time.monotonic() - started
    assert r.returncode == 0, r.stdout + r.stderr
    assert "warning: mlflow: nothing logged" in " ".join(r.stderr.split())
    assert "Traceback" not in r.stderr
    assert (out / "metrics.json").is_file()
    assert took < 60, took  # MLflow's own retries took ~4.5 min
