"""The report as a person sees it: rendered by headless Chromium, numbers checked against
metrics.json, plots present and non-blank."""

from __future__ import annotations

import base64
import io
import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from report_fixture import make_run_dir, run_chromium

from arbscore.report import build_report
from arbscore.report.inputs import load_inputs, parse_metrics
from arbscore.report.plots import chain_folds
from arbscore.report.sections import WINNER_HEADERS


class _Dom(HTMLParser):
    """Tables (by data-table) as rows of (attrs, text), images, and element ids."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[tuple[dict, str]]]] = {}
        self.imgs: list[dict] = []
        self.ids: set[str] = set()
        self._table: str | None = None
        self._cell: dict | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "table":
            self._table = a.get("data-table")
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell, self._text = a, []
        elif tag == "img":
            self.imgs.append(a)

    def handle_data(self, data):
        if self._cell is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[self._table][-1].append((self._cell, "".join(self._text)))
            self._cell = None
        elif tag == "table":
            self._table = None


def _render(html_path: Path, tmp: Path) -> _Dom:
    dom = _Dom()
    dom.feed(run_chromium(["--dump-dom", html_path.as_uri()], tmp))
    return dom


def _cells(dom: _Dom) -> dict[tuple[str, str, str], list[tuple[dict, str]]]:
    out: dict = {}
    for rows in dom.tables.values():
        for row in rows:
            for attrs, txt in row:
                if "data-metric" in attrs:
                    key = (attrs["data-strategy"], attrs["data-head"], attrs["data-metric"])
                    out.setdefault(key, []).append((attrs, txt))
    return out


def _shown_number(txt: str) -> float:
    return float(txt.split("±")[0].strip().replace(",", ""))


def test_rendered_report_has_plots_tables_and_matching_numbers(built_report, tmp_path):
    workdir, metrics, html_path, md_path = built_report
    assert html_path == workdir / "report" / "report.html" and md_path.exists()
    dom = _render(html_path, tmp_path)

    # plots: every figure inlined as a decodable, non-blank PNG (self-contained page)
    figs = {i["id"]: i for i in dom.imgs}
    assert {"fig-metrics", "fig-equity", "fig-calibration", "fig-importance", "fig-timing"} <= set(
        figs
    )
    for img in dom.imgs:
        assert img["src"].startswith("data:image/png;base64,")
        pixels = np.asarray(Image.open(io.BytesIO(base64.b64decode(img["src"].split(",", 1)[1]))))
        assert pixels.shape[0] > 200 and pixels.std() > 10, img["id"]

    for table in (
        "winners",
        "data",
        "folds",
        "metrics-profit",
        "metrics-success",
        "metrics-duration",
        "backtest",
        "timing",
        "calibration",
        "command",
    ):
        assert dom.tables.get(table), f"table {table} missing"
    assert "synthetic-banner" in dom.ids

    # every metric of every family and baseline in metrics.json is shown, with its value
    cells = _cells(dom)
    checked = 0
    strategies = {**metrics["families"], **metrics["baselines"]}
    for strategy, block in strategies.items():
        heads = block.items() if strategy in metrics["families"] else [("backtest", block)]
        for head, values in heads:
            for name, value in values.items():
                if name == "std" or not isinstance(value, (int, float)):
                    continue
                shown = cells.get((strategy, head, name))
                assert shown, f"{strategy}/{head}/{name} not in the report"
                for attrs, txt in shown:
                    assert float(attrs["data-value"]) == value
                    assert math.isclose(_shown_number(txt), value, rel_tol=2e-3, abs_tol=1e-6)
                    checked += 1
    assert checked > 60

    # winners and margins against metrics.json
    winners = {row[0][1]: row for row in dom.tables["winners"][1:]}
    for head, metric, higher in (
        ("profit", "mae", False),
        ("success", "auc", True),
        ("duration", "mae_hours", False),
    ):
        fam = metrics["winner"][head]
        row = winners[head]
        assert row[1][1] == fam
        others = sorted(
            (v[head][metric] for f, v in metrics["families"].items() if f != fam), reverse=higher
        )
        margin = (metrics["families"][fam][head][metric] - others[0]) * (1 if higher else -1)
        col = WINNER_HEADERS.index("margin")
        assert math.isclose(float(row[col][0]["data-value"]), margin, rel_tol=1e-9)

    # data section: symbols/exchanges from the training set
    data = {r[0][1]: r[1][1] for r in dom.tables["data"][1:]}
    frame = pd.read_parquet(workdir / "training_data.parquet")
    assert data["symbols"] == ", ".join(sorted(frame["symbol"].unique()))
    assert data["rows (opportunity x hold)"] == f"{len(frame):,}"
    assert "SYNTHETIC" in data["kind"]

    command = json.loads((workdir / "run_config.json").read_text())["command"]
    assert dom.tables["command"][1][0][1] == command


def test_screenshot_is_a_readable_page(built_report, tmp_path):
    html_path = built_report[2]
    shot = tmp_path / "report.png"
    run_chromium(["--window-size=1280,4000", f"--screenshot={shot}", html_path.as_uri()], tmp_path)
    img = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    # the red SYNTHETIC banner is near the top, and the page is not blank below it
    top = img[:400]
    red = (top[..., 0] > 150) & (top[..., 1] < 80) & (top[..., 2] < 80)
    assert red.sum() > 5000
    assert img[1000:].std() > 20


def test_real_data_has_no_synthetic_banner(tmp_path):
    workdir = tmp_path / "real"
    make_run_dir(workdir, synthetic=False, seed=3)
    html_path, md_path = build_report(workdir)
    page = html_path.read_text()
    assert "synthetic-banner" not in page and "SYNTHETIC DATA" not in md_path.read_text()
    assert "real exchange history" in page


def test_markdown_twin_has_the_same_tables_and_linked_figures(built_report):
    _, metrics, _, md_path = built_report
    md = md_path.read_text()
    assert md.startswith("# arbscore benchmark report")
    assert "> **SYNTHETIC DATA" in md
    for head in ("profit", "success", "duration"):
        assert f"| {head} | {metrics['winner'][head]} |" in md
    for link in ("metrics", "equity", "calibration", "importance", "timing"):
        assert f"(figures/{link}.png)" in md
        assert (md_path.parent / "figures" / f"{link}.png").stat().st_size > 1000


def test_missing_metrics_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="metrics.json"):
        build_report(tmp_path)
    with pytest.raises(ValueError, match="families"):
        parse_metrics({"scheme": "walk_forward"})


def test_optional_artefacts_missing_still_builds(run_dir):
    workdir, _ = run_dir
    for rel in (
        "evaluation/backtest_equity.parquet",
        "evaluation/feature_importance.json",
        "training_data.parquet",
    ):
        (workdir / rel).unlink()
    html_path, _ = build_report(workdir)
    page = html_path.read_text()
    assert "backtest_equity.parquet missing" in page
    assert "feature_importance.json missing" in page
    assert load_inputs(workdir).missing


@pytest.mark.parametrize(
    "block",
    [
        {"mae": 0.2, "mae_folds": [0.1, 0.3]},
        {"mae": {"mean": 0.2, "folds": [0.1, 0.3]}},
        {"mae": 0.2, "per_fold": [{"mae": 0.1}, {"mae": 0.3}]},
    ],
)
def test_per_fold_values_read_in_every_layout(block):
    m = parse_metrics({"families": {"x": {"profit": block}}})
    stat = m.families["x"].heads["profit"]["mae"]
    assert stat.mean == 0.2 and stat.folds == (0.1, 0.3)
    assert math.isclose(stat.std, np.std([0.1, 0.3], ddof=1))


def test_fold_curves_are_merged_in_time():
    t = pd.date_range("2025-01-01", periods=5, freq="h", tz="UTC")
    # fold 1's last trade exits (t[3]) after fold 2 started (t[2])
    eq = pd.DataFrame(
        {
            "strategy": "a",
            "fold": [0, 0, 1, 1, 0],
            "time": t[[0, 1, 2, 4, 3]],
            "equity": [1.0, 1.1, 1.0, 1.2, 1.15],
        }
    )
    out = chain_folds(eq)
    assert list(out["time"]) == sorted(out["time"])
    assert np.allclose(out["equity"], [1.0, 1.1, 1.1, 1.15, 1.35])


def test_page_is_self_contained(built_report):
    page = built_report[2].read_text()
    assert not re.search(r"""(src|href)=["']?(https?:|file:|//)""", page)
    assert "<script" not in page


def test_single_family_has_no_runner_up():
    raw = {"families": {"xgboost": {"profit": {"mae": 0.2}}}, "winner": {"profit": "xgboost"}}
    (w,) = parse_metrics(raw).winners
    assert w.family == "xgboost" and w.runner_up is None and w.margin is None and not w.tied
