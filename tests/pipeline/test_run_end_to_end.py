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


def test_run_synthetic_end_to_end_then_reuse(tmp_path, tiny_config):
    workdir = tmp_path / "run"
    args = ("--out", str(workdir), "--data", "synthetic", "--config", str(tiny_config))
    res = _run(*args)
    for rel in RUN_OUTPUTS:
        assert (workdir / rel).exists(), rel
    assert set(_statuses(res.output).values()) == {"ran"}
    assert f"arbscore serve --bundle {workdir / 'bundle'} --port 5250" in res.output
    metrics = _check_report_matches_metrics(workdir)
    manifest = json.loads((workdir / "bundle" / "manifest.json").read_text())
    for head in ("profit", "success", "duration"):
        assert metrics["winner"][head] in res.output
    # it ships what it backtested: the recommended family's three heads, named with its verdict
    shipped = metrics["recommended_family"]["family"]
    assert {e["family"] for e in manifest["heads"].values()} == {shipped}
    strategy = manifest["strategy"]
    assert strategy["name"] == shipped and strategy["backtested"]
    assert strategy["verdict"] == metrics["backtest"]["vs_rule"][shipped]["verdict"]
    assert f"Shipped {shipped}" in " ".join(res.output.split())
    assert manifest["hold_grid_hours"] == [1, 4, 8, 12, 24, 48, 72, 120, 168]
    page_md = (workdir / "report" / "report.md").read_text()
    # the first screen names the shipped strategy and its verdict; what it ships comes next
    first, second = page_md.split("## ", 3)[1:3]
    assert first.startswith(f"The verdict on {shipped}") and f"\n{shipped} (" in first
    assert second.startswith("What this run ships") and f"ships {shipped}" in second
    from fastapi.testclient import TestClient

    from arbscore.serve.app import create_app

    health = TestClient(create_app(workdir / "bundle")).get("/health").json()
    assert health["strategy"] == shipped and health["strategy_verdict"] == strategy["verdict"]
    market = json.loads((workdir / "market.json").read_text())
    assert market["synthetic"] is True and market["symbols"] == ["BTCUSDT", "ETHUSDT"]
    page = (workdir / "report" / "report.html").read_text()
    assert "SYNTHETIC DATA" in page
    frame = pd.read_parquet(workdir / "training_data.parquet")
    assert len(frame) == metrics["data"]["rows"] and set(frame["data_source"]) == {"synthetic"}
    # the backtest's daily marks beside the set; the bundle carries the labels' fee schedule
    marks = pd.read_parquet(workdir / "training_marks.parquet")
    assert set(marks["opportunity_id"]) == set(frame["opportunity_id"])
    fees = json.loads((workdir / "fees.json").read_text())
    assert manifest["fees"] == fees and manifest["fees_source"] == "training run"
    record = json.loads((workdir / "run_config.json").read_text())
    assert record["command"] == (
        f"arbscore run --out {workdir} --data synthetic --config {workdir / 'config.json'}"
    )
    assert record["config"]["synthetic"]["days"] == 30
    assert record["command"] in page

    # the same command again reuses every finished stage; the report is rebuilt
    before = (workdir / "metrics.json").stat().st_mtime_ns
    res = _run(*args)
    assert _statuses(res.output) == {
        "data": "reused",
        "evaluate": "reused",
        "train": "reused",
        "export": "reused",
        "report": "ran",
    }
    assert (workdir / "metrics.json").stat().st_mtime_ns == before


@pytest.mark.slow
def test_run_on_a_training_file(tmp_path, tiny_config):
    """--data PATH (the guide's CSV layout) skips the market stages."""
    workdir = tmp_path / "run"
    res = _run("--out", str(workdir), "--data", str(GUIDE_CSV), "--config", str(tiny_config))
    for rel in RUN_OUTPUTS:
        assert (workdir / rel).exists(), rel
    _check_report_matches_metrics(workdir)
    assert len(pd.read_parquet(workdir / "training_data.parquet")) == len(pd.read_csv(GUIDE_CSV))
    market = json.loads((workdir / "market.json").read_text())
    assert market["source"] == f"training data file {GUIDE_CSV}"
    assert "arbscore serve --bundle" in res.output


@pytest.mark.slow
def test_changed_setting_reruns_only_what_depends_on_it(tmp_path, tiny_config):
    workdir = tmp_path / "run"
    args = ["--out", str(workdir), "--data", str(GUIDE_CSV), "--family", "xgboost,lightgbm"]
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
