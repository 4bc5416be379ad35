"""An option whose optional extra is not installed exits 2 with one line naming the extra.

The real command runs in a fresh interpreter in which the extra's modules cannot be imported
(a ``sitecustomize`` hides them from the import system), so what a user without the extra sees
is what the test sees."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

BLOCKER = textwrap.dedent(
    """
    import os, sys
    from importlib.abc import MetaPathFinder

    HIDDEN = set(os.environ["ARBSCORE_TEST_HIDE"].split(","))

    class Hide(MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in HIDDEN:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Hide())
    """
)


def run_without(tmp_path, hidden: str, *args: str) -> subprocess.CompletedProcess:
    (tmp_path / "sitecustomize.py").write_text(BLOCKER)
    env = {
        **os.environ,
        "ARBSCORE_TEST_HIDE": hidden,
        "ARBSCORE_NO_BLAS_PRELOAD": "1",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path]),
        "COLUMNS": "60",  # a narrow terminal must not cut the message either
    }
    env.pop("ARBSCORE_DASK_SCHEDULER", None)
    return subprocess.run(
        [sys.executable, "-m", "arbscore", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )


def one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.parametrize(
    ("hidden", "args", "extra"),
    [
        ("dask,distributed", ("simulate", "--data", "synthetic", "--cluster", "local:2"), "dask"),
        ("mlflow", ("evaluate", "--data", "x.parquet", "--out", "ev", "--mlflow", "env"), "mlflow"),
        ("coremltools", ("export", "--from", "run", "--out", "b", "--coreml"), "train"),
    ],
)
def test_a_missing_extra_exits_2_naming_it(tmp_path, hidden, args, extra):
    line = one_error_line(run_without(tmp_path, hidden, *args))
    assert f"pip install 'arbscore[{extra}]'" in line
    assert hidden.split(",")[0] in line


def test_the_scheduler_variable_is_named_when_it_asks_for_dask(tmp_path, monkeypatch):
    monkeypatch.setenv("ARBSCORE_DASK_SCHEDULER", "tcp://127.0.0.1:1")
    (tmp_path / "sitecustomize.py").write_text(BLOCKER)
    env = {
        **os.environ,
        "ARBSCORE_TEST_HIDE": "dask,distributed",
        "ARBSCORE_NO_BLAS_PRELOAD": "1",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path]),
    }
    result = subprocess.run(
        [sys.executable, "-m", "arbscore", "simulate", "--data", "synthetic"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )
    line = one_error_line(result)
    assert "ARBSCORE_DASK_SCHEDULER" in line and "arbscore[dask]" in line
