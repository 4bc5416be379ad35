"""`arbscore run` end to end through the real stages (tiny configs), and stage reuse."""

from __future__ import annotations

import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from conftest import GUIDE_CSV
from typer.testing import CliRunner

from arbscore.cli import app

runner = CliRunner()
RUN_OUTPUTS = (
    "training_data.parquet",
    "metrics.json",
    "bundle/manifest.json",
    "report/report.html",
    "report/report.md",
    "run_config.json",
    "market.json",
)


class _Values(HTMLParser):
    """(strategy, head, metric) -> data-value of the report's metric cells."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[tuple[str, str, str], float] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "td" and "data-metric" in a and "data-value" in a:
            self.values[(a["data-strategy"], a["data-head"], a["data-metric"])] = float(
                a["data-value"]
            )


def _run(*args: str):
    res = runner.invoke(app, ["run", *args], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output + repr(res.exception)
    return res


def _statuses(output: str) -> dict[str, str]:
    return dict(re.findall(r"│ (data|evaluate|train|export|report)\s+│ (ran|reused)", output))


def _check_report_matches_metrics(workdir: Path) -> dict:
    metrics = json.loads((workdir / "metrics.json").read_text())
    parser = _Values()
    parser.feed((workdir / "report" / "report.html").read_text())
    checked = 0
    for fam, block in metrics["families"].items():
        for head in ("profit", "success", "duration", "backtest"):
            for name, value in block[head].items():
                if isinstance(value, (int, float)):
                    assert math.isclose(parser.values[(fam, head, name)], value, rel_tol=1e-12)
                    checked += 1
    assert checked >= 3 * 10
    return metrics


def test_run_on_a_training_file_then_reuse(tmp_path, tiny_config):
    workdir = tmp_path / "run"
    res = _run("--workdir", str(workdir), "--data", str(GUIDE_CSV), "--config", str(tiny_config))
    for rel in RUN_OUTPUTS:
        assert (workdir / rel).exists(), rel
    assert set(_statuses(res.output).values()) == {"ran"}
    assert f"arbscore serve --bundle {workdir / 'bundle'} --port 5250" in res.output
    metrics = _check_report_matches_metrics(workdir)
    manifest = json.loads((workdir / "bundle" / "manifest.json").read_text())
    assert json.dumps(manifest)  # the bundle's manifest is JSON and names the winners
    for head in ("profit", "success", "duration"):
        assert metrics["winner"][head] in json.dumps(manifest)
        assert metrics["winner"][head] in res.output
    frame = pd.read_parquet(workdir / "training_data.parquet")
    assert len(frame) == len(pd.read_csv(GUIDE_CSV))
    record = json.loads((workdir / "run_config.json").read_text())
    assert record["command"] == (
        f"arbscore run --workdir {workdir} --data {GUIDE_CSV} --config {workdir / 'config.json'}"
    )
    assert record["config"]["evaluation"]["n_folds"] == 2
    assert record["command"] in (workdir / "report" / "report.html").read_text()

    # the same command again reuses every finished stage; the report is rebuilt
    before = (workdir / "metrics.json").stat().st_mtime_ns
    res = _run("--workdir", str(workdir), "--data", str(GUIDE_CSV), "--config", str(tiny_config))
    assert _statuses(res.output) == {
        "data": "reused",
        "evaluate": "reused",
        "train": "reused",
        "export": "reused",
        "report": "ran",
    }
    assert (workdir / "metrics.json").stat().st_mtime_ns == before


@pytest.mark.slow
def test_changed_setting_reruns_only_what_depends_on_it(tmp_path, tiny_config):
    workdir = tmp_path / "run"
    args = ["--workdir", str(workdir), "--data", str(GUIDE_CSV), "--families", "xgboost,lightgbm"]
    _run(*args, "--config", str(tiny_config))
    cfg = json.loads(tiny_config.read_text())
    cfg["families"].pop("mlx")
    cfg["evaluation"]["top_k"] = 1  # evaluation only: models and data stay
    tiny_config.write_text(json.dumps(cfg))
    res = _run(*args, "--config", str(tiny_config))
    assert _statuses(res.output) == {
        "data": "reused",
        "evaluate": "ran",
        "train": "reused",
        "export": "ran",
        "report": "ran",
    }
    res = _run(*args, "--config", str(tiny_config), "--force")
    assert set(_statuses(res.output).values()) == {"ran"}
