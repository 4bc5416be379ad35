"""The OpenBLAS re-exec decision, and a real re-exec in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from arbscore.mlx_models.blas import (
    GUARD_ENV,
    OPT_OUT_ENV,
    describe_device,
    find_openblas,
    reexec_command,
)

ARGV = ["/venv/bin/python", "/venv/bin/arbscore", "train", "--family", "mlx"]
needs_openblas = pytest.mark.skipif(
    sys.platform != "linux" or find_openblas() is None,
    reason="needs Linux with OpenBLAS (apt install libopenblas0-pthread)",
)


@needs_openblas
def test_reexec_plan_preloads_openblas_once() -> None:
    plan = reexec_command({"PATH": "/bin"}, ARGV, "Linux")
    assert plan is not None
    argv, env = plan
    assert argv == [sys.executable, *ARGV[1:]]
    assert env["LD_PRELOAD"] == str(find_openblas())
    assert env[GUARD_ENV] == "1" and env["PATH"] == "/bin"
    # the re-executed process must not re-exec again
    assert reexec_command(env, ARGV, "Linux") is None
    kept = reexec_command({"LD_PRELOAD": "/x/libfoo.so"}, ARGV, "Linux")
    assert kept is not None and kept[1]["LD_PRELOAD"].endswith(":/x/libfoo.so")


@needs_openblas
def test_python_dash_m_arbscore_counts_as_the_cli() -> None:
    assert reexec_command({}, ["python", "-m", "arbscore.cli", "train"], "Linux") is not None


@pytest.mark.parametrize(
    ("env", "argv", "system"),
    [
        ({}, ARGV, "Darwin"),  # macOS: Accelerate, nothing to do
        ({OPT_OUT_ENV: "1"}, ARGV, "Linux"),
        ({GUARD_ENV: "1"}, ARGV, "Linux"),
        ({"LD_PRELOAD": "/usr/lib/libopenblas.so.0"}, ARGV, "Linux"),
        ({}, ["python", "-m", "pytest", "tests"], "Linux"),  # never re-exec a test run
        ({}, ["python", "-c", "import arbscore"], "Linux"),
    ],
)
def test_no_reexec(env: dict[str, str], argv: list[str], system: str) -> None:
    assert reexec_command(env, argv, system) is None


def _run_blas_module(extra_env: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", GUARD_ENV, OPT_OUT_ENV)}
    env.update(extra_env)
    out = subprocess.run(
        [sys.executable, "-m", "arbscore.mlx_models.blas"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@needs_openblas
def test_real_reexec_loads_openblas_and_opt_out_keeps_bundled() -> None:
    assert _run_blas_module({})["blas"] == "openblas (preloaded)"
    assert _run_blas_module({OPT_OUT_ENV: "1"})["blas"] == "bundled"


def test_describe_device_names_device_and_blas() -> None:
    info = describe_device()
    assert info["device"] in ("cpu", "gpu")
    assert info["blas"] in ("openblas (preloaded)", "openblas", "bundled", "accelerate")
