"""The command's entry points: ``arbscore --version`` and ``python -m arbscore``."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from arbscore import __version__
from arbscore.cli import app


def test_version_flag_prints_the_package_version():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"arbscore {__version__}"


def test_python_dash_m_runs_the_same_command():
    out = subprocess.run(
        [sys.executable, "-m", "arbscore", "--version"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"arbscore {__version__}"
