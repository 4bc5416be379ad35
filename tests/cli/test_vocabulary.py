"""One CLI vocabulary: --out for every output, --family everywhere, lists taken the same way,
old names as hidden aliases that still work (with a note), help readable at 80 columns."""

from __future__ import annotations

import click
import pytest
import typer
from typer.testing import CliRunner

from arbscore.cli import app
from arbscore.cli.data_cmds import _names

runner = CliRunner()


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, cmd in group.commands.items():
        yield (*prefix, name), cmd
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*prefix, name))


COMMANDS = list(_commands(typer.main.get_command(app)))


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=" ".join)
def test_help_fits_80_columns_and_shows_flags_as_flags(path):
    res = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80"})
    assert res.exit_code == 0, res.output
    assert "<bool>" not in res.output and "…" not in res.output, res.output
    assert max(len(line) for line in res.output.splitlines()) <= 80, res.output


def test_old_option_names_are_hidden():
    for path, cmd in COMMANDS:
        shown = {o for p in cmd.params if not getattr(p, "hidden", False) for o in p.opts}
        assert not shown & {"--workdir", "--output", "--json", "--families"}, path


def test_old_output_name_still_works_with_a_note(tmp_path):
    res = runner.invoke(app, ["snapshots", "--output", str(tmp_path / "x.txt")])
    assert res.exit_code == 2
    assert "--output is now --out" in res.output  # the note, then the check on the value
    assert "--out x.txt: expected a .parquet file" in res.output


def test_old_and_new_name_together_is_an_error(tmp_path):
    a, b = str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet")
    res = runner.invoke(app, ["snapshots", "--out", a, "--output", b])
    assert res.exit_code == 2 and "not both" in res.output


def test_families_alias_and_family_name_reach_the_same_check(tmp_path):
    for flag in ("--family", "--families"):
        res = runner.invoke(
            app,
            ["evaluate", "--data", str(tmp_path / "x.csv"), "--out", str(tmp_path), flag, "nope"],
        )
        assert res.exit_code == 2 and "--family: unknown family" in res.output, res.output
        assert ("is now --family" in res.output) == (flag == "--families")


def test_list_options_take_repeats_and_commas():
    assert _names(["binance,bybit", "OKX", "bybit"]) == ("binance", "bybit", "okx")
    assert _names(None, "binance,bybit,okx") == ("binance", "bybit", "okx")
    res = runner.invoke(
        app,
        [
            "backfill",
            "--exchange",
            ",",
            "--symbols",
            "BTCUSDT",
            "--start",
            "2025-01-01",
            "--end",
            "2025-01-02",
        ],
    )
    assert res.exit_code == 2 and "no exchange named" in res.output


def test_train_leaves_a_servable_bundle_by_default(tmp_path):
    from pathlib import Path

    from arbscore.serve.scorer import Scorer

    guide = Path(__file__).parents[1] / "features" / "data" / "guide_training_data.csv"
    out = tmp_path / "run"
    res = runner.invoke(
        app, ["train", "--data", str(guide), "--out", str(out), "--family", "lightgbm"]
    )
    assert res.exit_code == 0, res.output
    assert "arbscore serve --bundle" in res.output
    answer = Scorer(out / "bundle").predict_records(
        [{"symbol": "BTCUSDT", "fundProfit8h": 0.02, "fundApr": 21.9}]
    )
    assert answer[0]["decision"] in ("enter", "skip")
    skipped = runner.invoke(
        app,
        [
            "train",
            "--data",
            str(guide),
            "--out",
            str(tmp_path / "r2"),
            "--family",
            "lightgbm",
            "--no-export",
        ],
    )
    assert skipped.exit_code == 0 and not (tmp_path / "r2" / "bundle").exists()
