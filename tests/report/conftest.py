"""Fixtures of the report tests (helpers live in report_fixture.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_fixture import make_run_dir


@pytest.fixture
def run_dir(tmp_path: Path) -> tuple[Path, dict]:
    d = tmp_path / "run"
    return d, make_run_dir(d)
