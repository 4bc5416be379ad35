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

from arbscore.cli.summary_tables import verdict_lines
from arbscore.evaluation.verdict import verdict_sentence
from arbscore.report import build_report
from arbscore.report.inputs import load_inputs, parse_metrics
from arbscore.report.sections import WINNER_HEADERS


class _Dom(HTMLParser):
    """Tables (by data-table) as rows of (attrs, text), images, and element ids."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[tuple[dict, str]]]] = {}
        self.imgs: list[dict] = []
        self.ids: set[str] = set()
        self.paragraphs: dict[str, list[str]] = {}  # section id -> its paragraphs' text
        self._section: str | None = None
        self._para: list[str] | None = None
        self._table: str | None = None
        self._cell: dict | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "section":
            self._section = a.get("id")
        elif tag == "p" and self._section:
            self._para = []
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
        if self._para is not None:
            self._para.append(data)

    def handle_endtag(self, tag):
        if tag == "p" and self._para is not None:
            self.paragraphs.setdefault(self._section, []).append("".join(self._para))
            self._para = None
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
        "pooled",
        "vs-rule",
        "costs",
        "trades-winners",
        "trades-losers",
        "splits-by-kind",
        "splits-by-symbol",
        "skill",
        "ece",
        "timing",
        "calibration",
        "command",
        "config",
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
                    scale = float(attrs.get("data-scale", 1))  # a fraction shown as percent
                    assert math.isclose(
                        _shown_number(txt) / scale, value, rel_tol=2e-3, abs_tol=1e-6
                    )
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
    assert metrics["git_commit"] in " ".join(dom.paragraphs["reproduce"])

    # the pooled backtest: every figure of every strategy, as shown and as data-value
    pooled = metrics["backtest"]["pooled"]
    n = 0
    for strategy, block in pooled.items():
        for name, value in block.items():
            shown = cells.get((strategy, "pooled", name))
            if name in ("total_return_pct", "days"):
                continue
            assert shown, f"pooled {strategy}/{name} not in the report"
            for attrs, txt in shown:
                if isinstance(value, list):
                    lo, hi = (float(x) for x in txt.strip("[]").split(","))
                    assert _close_shown(lo, value[0], txt) and _close_shown(hi, value[1], txt)
                else:
                    assert float(attrs["data-value"]) == value
                    scale = float(attrs.get("data-scale", 1))  # a fraction shown as percent
                    shown_value = float(txt.replace(",", ""))
                    assert _close_shown(shown_value, value * scale, txt), (name, txt)
                n += 1
    assert n >= len(pooled) * 15
    for fam, vs in metrics["backtest"]["vs_rule"].items():
        ((attrs, _),) = cells[(fam, "pooled", "diff_annual_return_pct")]
        assert float(attrs["data-value"]) == vs["diff_annual_return_pct"]
        ((attrs, _),) = cells[(fam, "pooled", "diff_annual_return_pct:cash")]
        cash = metrics["backtest"]["versus"][fam]["cash"]
        assert float(attrs["data-value"]) == cash["diff_annual_return_pct"]
    shown = {(r[0][1], r[1][1]) for r in dom.tables["vs-rule"][1:]}
    assert shown == {(f, b) for f, v in metrics["backtest"]["versus"].items() for b in v}


def _close_shown(shown: float, value: float, txt: str) -> bool:
    """``shown`` is ``value`` rounded to the digits the text has."""
    digits = len(txt.split(".")[-1].rstrip(" %]")) if "." in txt else 0
    return abs(shown - value) <= 0.5 * 10**-digits + 1e-12


_NUM = r"([+-]?[\d,]+\.?\d*)"


def test_the_report_opens_with_the_answer_and_its_numbers_match_metrics(built_report, tmp_path):
    _, metrics, html_path, _ = built_report
    dom = _render(html_path, tmp_path)
    bt = metrics["backtest"]
    fam, rule = bt["recommended_family"], bt["rule"]
    sentence = dom.paragraphs["answer"][0]
    pattern = (
        rf"^{fam} made {_NUM} % a year on capital \(95 % CI \[{_NUM}, {_NUM}\] %\) out of "
        rf"sample from (\S+) to (\S+), against {_NUM} % \(95 % CI \[{_NUM}, {_NUM}\] %\) for "
        rf"{rule}, the best rule\.$"
    )
    m = re.match(pattern, sentence)
    assert m, sentence
    g = m.groups()
    p, r = bt["pooled"][fam], bt["pooled"][rule]
    expected = [
        (g[0], p["annual_return_pct"]),
        (g[1], p["annual_return_ci95"][0]),
        (g[2], p["annual_return_ci95"][1]),
        (g[5], r["annual_return_pct"]),
        (g[6], r["annual_return_ci95"][0]),
        (g[7], r["annual_return_ci95"][1]),
    ]
    for shown, value in expected:
        assert _close_shown(float(shown.replace(",", "")), value, shown), (shown, value)
    assert g[3] == bt["span"]["start"][:10] and g[4] == bt["span"]["end"][:10]
    # the verdicts: the console's sentences word for word (one function makes them), the
    # recommended family's first; each names the rule, always_on and cash with the interval
    said = dom.paragraphs["answer"][1 : 1 + len(bt["versus"])]
    assert said[0] == verdict_sentence(bt, fam)
    assert sorted(said) == sorted(verdict_lines(metrics))
    for f, block in bt["versus"].items():
        line = verdict_sentence(bt, f)
        for against, vs in block.items():
            lo, hi = (f"{x:+.2f}" for x in vs["diff_ci95"])
            assert f"against {against}" in line and f"[{lo}, {hi}]" in line
            if vs["verdict"] == "not enough evidence":
                assert "not enough evidence" in line
    # the estimated-price pairs in their own table
    pairs = dom.tables["estimated-pairs"]
    assert pairs[1][0][1] == "XRPUSDT" and pairs[1][-1][1] == "100"
    # the answer is the first section of the page
    assert html_path.read_text().index('id="answer"') < html_path.read_text().index('id="winners"')
    # the recommended family beside the per-head winners, and the disagreement said
    winners_text = " ".join(dom.paragraphs["winners"])
    assert f"Recommended for trading: {fam}" in winners_text
    differs = metrics["recommended_family"]["differs_from_head_winners"]
    assert ("differs from the per-head winner" in winners_text) == bool(differs)
    # calibration flags: every family over the threshold is named
    flags = " ".join(dom.paragraphs["calibration"])
    for f in metrics["calibration_check"]["flagged"]:
        assert f in flags and "FLAGGED" in flags
    ece_rows = {r[0][1]: r[3][1] for r in dom.tables["ece"][1:]}
    for f, block in metrics["families"].items():
        s = block["success"]
        bad = s["ece"] > 0.05 or s["worst_bin_gap"] > 0.2
        assert ece_rows[f] == ("MISCALIBRATED" if bad else "ok")


def test_trade_list_and_full_csv_beside_the_report(built_report, tmp_path):
    workdir, metrics, html_path, _ = built_report
    trades = pd.read_parquet(workdir / "evaluation" / "backtest_trades.parquet")
    csv = pd.read_csv(html_path.parent / "trades.csv")
    assert len(csv) == len(trades) and set(csv["strategy"]) == set(trades["strategy"])
    dom = _render(html_path, tmp_path)
    fam = metrics["backtest"]["recommended_family"]
    own = trades[trades["strategy"] == fam]
    top = dom.tables["trades-winners"][1]
    col = [h for _, h in dom.tables["trades-winners"][0]].index("pnl usd")
    assert float(top[col][0]["data-value"]) == pytest.approx(own["pnl_usd"].max())
    worst = dom.tables["trades-losers"][1]
    assert float(worst[col][0]["data-value"]) == pytest.approx(own["pnl_usd"].min())


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
    assert md.index("## The answer") < md.index("## Which family won each head")
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
        "evaluation/backtest_trades.parquet",
        "evaluation/feature_importance.json",
        "training_data.parquet",
    ):
        (workdir / rel).unlink()
    html_path, _ = build_report(workdir)
    page = html_path.read_text()
    assert "backtest_equity.parquet missing" in page
    assert "feature_importance.json missing" in page
    assert "backtest_trades.parquet missing" in page
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


def test_page_is_self_contained(built_report):
    page = built_report[2].read_text()
    assert not re.search(r"""(src|href)=["']?(https?:|file:|//)""", page)
    assert "<script" not in page


def test_single_family_has_no_runner_up():
    raw = {"families": {"xgboost": {"profit": {"mae": 0.2}}}, "winner": {"profit": "xgboost"}}
    (w,) = parse_metrics(raw).winners
    assert w.family == "xgboost" and w.runner_up is None and w.margin is None and not w.tied


def test_the_answer_says_whether_the_strategys_own_return_is_told_from_zero():
    from arbscore.report.sections_trading import absolute_note

    def bt(ci):
        return {"recommended_family": "f", "pooled": {"f": {"annual_return_ci95": ci}}}

    assert "not distinguishable from zero" in absolute_note(bt([-0.2, 0.6]))
    assert "above zero" in absolute_note(bt([0.1, 0.6]))
    assert "loses money" in absolute_note(bt([-0.9, -0.1]))
    assert absolute_note(bt(None)) is None
