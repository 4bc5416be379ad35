"""onnxruntime-node reproduces the golden predictions from the bundle's ONNX files.

Opt-in: needs node and ``ONNXRUNTIME_NODE_INSTALL=skip npm install`` in tests/node (its
node_modules is not committed). Run: ``pytest -m node tests/node``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).parent

pytestmark = [
    pytest.mark.node,
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
    pytest.mark.skipif(
        not (HERE / "node_modules" / "onnxruntime-node").is_dir(),
        reason="run `cd tests/node && ONNXRUNTIME_NODE_INSTALL=skip npm install` first",
    ),
]


def test_node_reproduces_golden_predictions():
    out = subprocess.run(
        ["node", str(HERE / "golden.js")], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert (
        result["ok"]
        and result["rows"] == 12
        and result["raw_rows"] == 16
        and result["max_rel_error"] <= 1e-4
    )
