"""``--log-level`` / ``ARBSCORE_LOG_LEVEL``: library diagnostics (stdlib logging) on stderr."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from arbscore.cli import app

BUNDLE = Path(__file__).parents[1] / "export" / "golden" / "bundle"
STORE_LINE = "arbscore.data_tools.store.repository: opened DuckDB store"


@pytest.fixture(autouse=True)
def _restore_logging():
    root, ours = logging.getLogger(), logging.getLogger("arbscore")
    handlers, levels = list(root.handlers), (root.level, ours.level)
    yield
    root.handlers[:] = handlers
    root.setLevel(levels[0])
    ours.setLevel(levels[1])


def _store(tmp_path) -> str:
    """An (empty) store: ``data status`` refuses a missing one."""
    from arbscore.data_tools.store import open_store

    db = tmp_path / "m.duckdb"
    if not db.exists():
        open_store(db).close()
    return str(db)


def _status(tmp_path, *options: str, env: dict | None = None):
    args = [*options, "data", "status", "--db", _store(tmp_path)]
    return CliRunner().invoke(app, args, env=env)


def test_debug_shows_library_log_lines_on_stderr(tmp_path):
    res = _status(tmp_path, "--log-level", "DEBUG")
    assert res.exit_code == 0, res.output
    assert STORE_LINE in res.stderr and "INFO" in res.stderr
    assert STORE_LINE not in res.stdout  # diagnostics never mix with the command's output


def test_default_level_shows_no_library_info(tmp_path):
    res = _status(tmp_path, env={"ARBSCORE_LOG_LEVEL": None})
    assert res.exit_code == 0, res.output
    assert "opened DuckDB store" not in res.stderr + res.stdout


def test_env_var_and_bad_level(tmp_path):
    res = _status(tmp_path, env={"ARBSCORE_LOG_LEVEL": "info"})
    assert res.exit_code == 0 and STORE_LINE in res.stderr
    res = _status(tmp_path, "--log-level", "LOUD")
    assert res.exit_code == 2 and "DEBUG, INFO, WARNING, ERROR" in res.output


def test_real_process_stderr(tmp_path):
    db = _store(tmp_path)
    cmd = [sys.executable, "-m", "arbscore", "--log-level", "DEBUG", "data", "status", "--db", db]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert STORE_LINE in out.stderr and STORE_LINE not in out.stdout


def test_scorer_and_reload_log_through_their_module_loggers(caplog):
    import asyncio

    from arbscore.composite import CompositeConfig
    from arbscore.serve.provider import ModelProvider

    with caplog.at_level(logging.INFO, logger="arbscore"):
        provider = ModelProvider(BUNDLE, CompositeConfig())
        asyncio.run(provider.reload())
    names = {r.name for r in caplog.records}
    assert {"arbscore.serve.scorer", "arbscore.serve.provider"} <= names
    assert any("loaded bundle" in r.getMessage() for r in caplog.records)
    assert any("reloaded" in r.getMessage() for r in caplog.records)


def test_a_library_logging_info_on_its_own_stays_quiet(capsys):
    from arbscore.cli.logs import configure_logging

    configure_logging("DEBUG")
    chatty = logging.getLogger("distributed.scheduler")
    chatty.setLevel(logging.INFO)  # as Dask's own logging config does
    chatty.info("Receive client connection")
    chatty.warning("a real warning")
    logging.getLogger("arbscore.test").debug("ours")
    err = capsys.readouterr().err
    assert "Receive client connection" not in err
    assert "a real warning" in err and "ours" in err
    configure_logging("WARNING")
