"""``arbscore import`` refuses times and intervals it would otherwise store wrongly or crash on:
an epoch in another unit than the rest of its file (a seconds value among milliseconds was
stored as 1970-01-21), epoch 0, negative and far-future times, and kline intervals that are
not whole minutes in range. Exit 2 naming the file and line; nothing stored."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from arbscore.cli import app
from arbscore.data_tools.store import FUNDING, KLINES, open_store

runner = CliRunner()
FUNDING_HEADER = "exchange,symbol,funding_time,rate,interval_hours\n"
KLINE_HEADER = "exchange,symbol,market,open_time,interval_minutes,open,high,low,close\n"


def _flat(text: str) -> str:
    return " ".join(text.split())


def _import(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    db = tmp_path / "m.duckdb"
    res = runner.invoke(app, ["import", str(path), "--db", str(db)])
    return res, path, db


@pytest.mark.parametrize(
    ("times", "bad_line", "says"),
    [
        (["1735689600000", "1735718400", "1735747200000"], 3, "another unit"),  # s among ms
        (["0", "0", "0"], 2, "outside 2010-01-01"),
        (["-86400", "1735689600", "1735718400"], 2, "outside 2010-01-01"),
        (["2025-01-01T00:00:00Z", "9999-12-31T00:00:00Z", "2025-01-01T08:00:00Z"], 3, "outside"),
    ],
    ids=["seconds-among-ms", "epoch-0", "negative", "year-9999"],
)
def test_bad_funding_times_are_refused_naming_the_line(tmp_path, times, bad_line, says):
    rows = "".join(f"binance,BTCUSDT,{t},0.0001,8\n" for t in times)
    res, path, db = _import(tmp_path, "f.csv", FUNDING_HEADER + rows)
    assert res.exit_code == 2, res.output
    text = _flat(res.output)
    assert f"{path}:line {bad_line}:" in text and says in text, text
    assert "Traceback" not in res.output
    with open_store(db) as store:
        assert store.read(FUNDING).empty


@pytest.mark.parametrize("minutes", ["0.5", "1e30", "0", "-5"])
def test_kline_intervals_must_be_whole_minutes_in_range(tmp_path, minutes):
    row = f"binance,BTCUSDT,perp,2025-01-01T00:00:00Z,{minutes},100,101,99,100.5\n"
    res, path, db = _import(tmp_path, "k.csv", KLINE_HEADER + row)
    assert res.exit_code == 2, res.output
    assert "interval_minutes must be a whole number" in _flat(res.output)
    assert "Traceback" not in res.output
    with open_store(db) as store:
        assert store.read(KLINES).empty


def test_good_rows_still_import(tmp_path):
    rows = "binance,BTCUSDT,1735689600000,0.0001,8\nbinance,BTCUSDT,1735718400000,0.0001,8\n"
    res, _, db = _import(tmp_path, "f.csv", FUNDING_HEADER + rows)
    assert res.exit_code == 0, res.output
    with open_store(db) as store:
        times = store.read(FUNDING)["funding_time"]
    assert [str(t.date()) for t in times] == ["2025-01-01", "2025-01-01"]
