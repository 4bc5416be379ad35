"""Every command in README.md and docs/*.md runs as written (see ``doc_commands.py``)."""

from __future__ import annotations

import pytest
from doc_commands import (
    SHELLS,
    arbscore_commands,
    blocks,
    option_problems,
    run_block,
    workspace,
)


def test_every_shell_block_says_what_the_doc_test_does_with_it():
    unmarked = [b.where for b in blocks() if b.language in SHELLS and b.mode is None]
    assert not unmarked, f"shell blocks without a <!-- doc-test: ... --> marker: {unmarked}"
    skipped = [b.where for b in blocks() if b.mode == "skip" and not b.reason]
    assert not skipped, f"a skipped block must say why: {skipped}"
    modes = {b.mode for b in blocks()}
    assert {"run", "slow"} <= modes  # the docs do have commands the tests run


def test_every_arbscore_command_names_real_verbs_and_visible_options():
    commands = arbscore_commands()
    assert len(commands) > 50  # fenced, unit files, cron lines and inline code
    problems = {
        f"{where}: {command}": found
        for where, command in commands
        if (found := option_problems(command))
    }
    assert not problems, problems


def test_the_architecture_config_example_builds_a_training_set(tmp_path):
    from arbscore.cli.run_cmds import load_stage_configs
    from arbscore.data_tools.sources.synthetic import generate_synthetic_market
    from arbscore.data_tools.training_set import build_training_set

    configs = [b for b in blocks() if b.mode == "config"]
    assert configs, "no <!-- doc-test: config FILE --> block in the docs"
    for block in configs:
        path = tmp_path / block.reason
        path.write_text(block.text)
        stages = load_stage_configs(path)
        frame = build_training_set(
            generate_synthetic_market(stages["synthetic"]), stages["training_set"]
        )
        assert len(frame) > 0, f"{block.where}: the example gives an empty training set"
        assert frame["hold_hours"].max() <= stages["training_set"].simulation.horizon_hours


def run_blocks(mode: str, where, timeout_s: float) -> None:
    env = workspace(where)
    for block in blocks():
        if block.mode == "config":
            (where / block.reason).write_text(block.text)
        elif block.mode == mode:
            run_block(block, where, env, timeout_s)


def test_the_fast_doc_commands_run_as_written(tmp_path):
    run_blocks("run", tmp_path, timeout_s=120)
    assert (tmp_path / "training_data.parquet").exists()


@pytest.mark.slow
@pytest.mark.timeout(5400)
def test_the_slow_doc_commands_run_as_written_after_command_1(tmp_path):
    """README command 1 (the real data's run, minutes), then every slow block in the docs'
    order: export and serve with curl, the benchmarks, the other exports, the config example."""
    run_blocks("slow", tmp_path, timeout_s=3600)
    assert (tmp_path / "runs" / "default" / "benchmarks.json").exists()
    assert (tmp_path / "runs" / "synthetic" / "bundle" / "manifest.json").exists()
