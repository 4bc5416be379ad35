"""``--db`` naming something that is not a store is exit 2 with one line naming it, never a
traceback: a directory, a file that is not a DuckDB database, an unreachable PostgreSQL (no
password in the message)."""

from __future__ import annotations

import socket

import pytest
from typer.testing import CliRunner

from arbscore.cli import app


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


@pytest.mark.parametrize("kind", ["directory", "not-duckdb", "unreachable-postgres"])
@pytest.mark.parametrize("command", [["data", "status"], ["import"]])
def test_a_bad_db_is_exit_2_naming_it(tmp_path, kind, command):
    if kind == "directory":
        db = str(tmp_path)
    elif kind == "not-duckdb":
        db = str(tmp_path / "notes.db")
        (tmp_path / "notes.db").write_text("not a database\n" * 100)
    else:
        db = f"postgresql://arbscore:s3cret@127.0.0.1:{_closed_port()}/none"
    args = [*command, "--db", db]
    if command == ["import"]:
        csv = tmp_path / "f.csv"
        csv.write_text("exchange,symbol,funding_time,rate,interval_hours\n")
        csv.write_text(csv.read_text() + "binance,BTCUSDT,2025-01-01T00:00:00Z,0.0001,8\n")
        args.append(str(csv))
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert "--db" in text and "Traceback" not in text
    assert "s3cret" not in text
