"""Schemathesis over the served OpenAPI document, against a real ``arbscore serve``: every
check (server errors, status codes and bodies the document declares, schema-valid data
accepted, schema-violating data rejected, methods, auth), a bounded run with a fixed seed.

The reload endpoint is enabled and behind a token (sent by schemathesis), so it is exercised
too; hooks: ``schemathesis_hooks.py``; config: ``schemathesis.toml``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from serve_helpers import copy_bundle, start_serve, stop_serve

HERE = Path(__file__).parent
TOKEN = "schemathesis-token-0123456789"
MAX_EXAMPLES = 10  # per operation and phase; a few hundred cases in all (asserted below)


def _st() -> list[str]:
    script = Path(sys.executable).parent / "st"
    if script.exists():
        return [str(script)]
    found = shutil.which("st")
    if found is None:
        pytest.skip("schemathesis is not installed (pip install -e '.[dev]')")
    return [found]


def test_schemathesis_finds_no_failure(tmp_path):
    bundle = copy_bundle(tmp_path / "root" / "bundle")
    server = start_serve(
        tmp_path,
        bundle,
        ["--allow-reload", "--max-batch", "50"],
        env={"ARBSCORE_RELOAD_TOKEN": TOKEN},
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
        "SCHEMATHESIS_HOOKS": "schemathesis_hooks",
        "NO_COLOR": "1",
    }
    cmd = [
        *_st(),
        "--config-file",
        str(HERE / "schemathesis.toml"),
        "run",
        f"{server.url}/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        "20261202",
        "--header",
        f"Authorization: Bearer {TOKEN}",
        "--request-timeout",
        "30",
        "--workers",
        "1",
    ]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    finally:
        stop_serve(server)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-6000:]
    assert "8 selected / 8 total" in out, out[-3000:]
    generated = re.search(r"(\d+) generated", out)
    assert generated and int(generated.group(1)) >= 200, out[-3000:]
    print(out[out.find("SUMMARY") :])  # shown with -s / -rA: the phases and the case count
