"""``arbscore import`` on files with nothing in them: exit 2, naming the file, saying what was
stored (nothing); a header-only file beside a good one is stored as nothing, with a warning."""

from __future__ import annotations

from typer.testing import CliRunner

from arbscore.cli import app
from arbscore.data_tools.store import FUNDING, open_store

runner = CliRunner()
HEADER = "exchange,symbol,funding_time,rate,interval_hours\n"


def _flat(text: str) -> str:
    return " ".join(text.split())  # rich wraps lines at the terminal width


def _import(db, *paths):
    return runner.invoke(app, ["import", *map(str, paths), "--db", str(db)])


def test_header_only_empty_and_binary_files(tmp_path):
    db = tmp_path / "m.duckdb"
    header = tmp_path / "header.csv"
    header.write_text(HEADER)
    res = _import(db, header)
    assert res.exit_code == 2
    assert f"stored nothing: {header} has a header but no data rows" in _flat(res.output)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    res = _import(db, empty)
    assert res.exit_code == 2 and f"PATH: {empty} is empty (0 bytes)" in _flat(res.output)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(128, 256)) * 8)
    res = _import(db, binary)
    assert res.exit_code == 2 and f"PATH: {binary} is not UTF-8 text" in _flat(res.output)
    assert "codec" not in res.output and "No columns" not in res.output
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "binance,BTCUSDT,2025-01-01T00:00:00Z,0.0001,8\n")
    res = _import(db, good, header)
    assert res.exit_code == 0, res.output
    text = _flat(res.output)
    assert f"warning: {header} has a header but no data rows: stored nothing from it" in text
    with open_store(db) as store:
        assert len(store.read(FUNDING)) == 1
