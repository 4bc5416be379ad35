"""Shared by the raw-input tests: the standalone client, the tolerance, category spellings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hypothesis import strategies as st

from arbscore.export.onnx_raw import PREDICTIONS

HERE = Path(__file__).parent
BUNDLE = HERE / "golden" / "bundle"
CLIENT = HERE / "raw_client.py"
TOL = 1e-5


def spelling(word: str, draw) -> str:
    chars = [c.upper() if draw(st.booleans()) else c for c in word]
    pad = st.text(st.sampled_from(" \t\u00a0\u2003"), max_size=2)
    return draw(pad) + "".join(chars) + draw(pad)


def run_client(bundle: Path, records: list) -> dict:
    """The standalone client in a fresh interpreter; its parsed JSON answer."""
    out = subprocess.run(
        [sys.executable, "-I", str(CLIENT), str(bundle)],
        input=json.dumps(records),
        capture_output=True,
        text=True,
        timeout=120,
        cwd="/",
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def assert_close(got: list[dict], want: list[dict]) -> None:
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        for k in PREDICTIONS:
            err = abs(g[k] - w[k]) / max(1.0, abs(w[k]))
            assert err <= TOL, (i, k, g[k], w[k])
