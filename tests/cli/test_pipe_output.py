"""Outside a terminal (a pipe, a CI log) the CLI prints a line per step and cuts no line.

The real command runs with stdout and stderr to pipes and ``COLUMNS=80`` as a CI runner sets
it: rich would lay tables out for 80 columns and cut cells with an ellipsis, and a live progress
bar shows nothing until it ends."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

STEP = re.compile(r"^\d\d:\d\d:\d\d .+: \d+/\d+ \(\d+ %\), \d+:\d\d:\d\d elapsed")


def arbscore(cwd, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "80", "ARBSCORE_NO_BLAS_PRELOAD": "1", "TERM": "dumb"}
    result = subprocess.run(
        [sys.executable, "-m", "arbscore", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=cwd,
    )
    assert result.returncode == 0, (result.stdout, result.stderr)
    return result


def assert_nothing_cut(result: subprocess.CompletedProcess) -> None:
    for line in (result.stdout + result.stderr).splitlines():
        assert "…" not in line and "..." not in line.rstrip()[-3:], line


@pytest.fixture(scope="module")
def small_set(tmp_path_factory):
    where = tmp_path_factory.mktemp("pipe")
    result = arbscore(
        where,
        *("simulate", "--data", "synthetic", "--days", "20", "--holds", "1,8,24"),
        *("--symbols", "BTCUSDT,ETHUSDT", "--out", "set.parquet"),
    )
    return where, result


def test_simulate_prints_step_lines_and_whole_tables(small_set):
    _, result = small_set
    assert_nothing_cut(result)
    steps = [line for line in result.stdout.splitlines() if STEP.match(line)]
    assert any(line.split(" ", 1)[1].startswith("simulate") for line in steps), result.stdout


def test_evaluate_prints_a_line_per_fold_and_no_cut_line(small_set):
    where, _ = small_set
    result = arbscore(
        where, "evaluate", "--data", "set.parquet", "--out", "ev", "--family", "xgboost",
        "--folds", "2",
    )  # fmt: skip
    assert_nothing_cut(result)
    steps = [line for line in result.stdout.splitlines() if STEP.match(line)]
    folds = {m.group(0) for line in steps for m in [re.search(r"fold \d/2", line)] if m}
    assert folds == {"fold 1/2", "fold 2/2"}, result.stdout
    assert any("ETA" in line for line in steps), steps
    # the summary's long lines come out whole
    assert re.search(r"^\d[\d,]* rows from set\.parquet$", result.stdout, re.M), result.stdout
    assert "wrote ev/metrics.json and ev/evaluation/" in result.stdout


def test_run_prints_its_stages_and_whole_summary_tables(small_set):
    where, _ = small_set
    (where / "two_folds.toml").write_text("[evaluation]\nn_folds = 2\n")
    result = arbscore(
        where, "run", "--data", "set.parquet", "--family", "xgboost", "--config",
        "two_folds.toml", "--out", "run",
    )  # fmt: skip
    assert_nothing_cut(result)
    out = result.stdout
    for stage in ("data", "evaluate", "train", "export", "report"):
        assert re.search(rf"^\d\d:\d\d:\d\d {stage}: done: ", out, re.M), (stage, out)
    assert re.search(r"evaluate fold 2/2: .*elapsed", out), out
    assert "arbscore serve --bundle run/bundle --port 5250" in out
