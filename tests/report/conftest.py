"""Fixtures of the report tests (helpers live in report_fixture.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_fixture import make_run_dir


@pytest.fixture
def run_dir(tmp_path: Path) -> tuple[Path, dict]:
    d = tmp_path / "run"
    return d, make_run_dir(d)


@pytest.fixture(scope="session")
def built_report(tmp_path_factory) -> tuple[Path, dict, Path, Path]:
    """One fixture run directory with its report, shared by the read-only tests."""
    from arbscore.report import build_report

    d = tmp_path_factory.mktemp("report") / "run"
    metrics = make_run_dir(d)
    html_path, md_path = build_report(d)
    return d, metrics, html_path, md_path
