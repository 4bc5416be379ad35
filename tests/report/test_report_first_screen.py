"""The report's first screen as a trader sees it in a 1400 x 1000 px window (headless
Chromium): the verdict sentence with its trade count, the low-trade warning, the equity chart
of the shipped strategy against always_on, cash and the best rule, the key figures, all
matching metrics.json; and no table wider than the window. Then the monthly returns, the
exposure and the fee scenarios against the book's own numbers."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from report_fixture import FEES_USD, make_run_dir, run_chromium

from arbscore.data_tools.costs import FeeSchedule
from arbscore.evaluation.fee_scenarios import fee_scenarios, round_trip_fee_fraction
from arbscore.evaluation.verdict import verdict_sentence
from arbscore.report import build_report
from arbscore.report.sections_first import capital_in_use_pct, monthly_returns

WINDOW = (1400, 1000)
#: measures the laid-out page and writes it into the DOM, for --dump-dom to return
LAYOUT_SCRIPT = """<script>
window.addEventListener("load", () => {
  const box = (el) => { const r = el.getBoundingClientRect(); return [r.top, r.bottom, r.right]; };
  const out = {page: document.documentElement.scrollWidth, tables: {}};
  for (const t of document.querySelectorAll("table")) {
    const box = t.parentElement;  // a scrolling wrapper would hide an overflow from the page
    const right = t.getBoundingClientRect().right;
    out.tables[t.dataset.table] = [right, box.scrollWidth > box.clientWidth];
  }
  for (const id of ["fig-shipped-equity", "low-trades"]) {
    const el = document.getElementById(id); if (el) out[id] = box(el);
  }
  out.sentence = box(document.querySelector("#verdict p"));
  out.first = document.querySelector("section").id;
  const pre = document.createElement("pre"); pre.id = "layout";
  pre.textContent = JSON.stringify(out); document.body.appendChild(pre);
});
</script>"""


def _laid_out(html_path, tmp) -> tuple[dict, str]:
    page = tmp / "measured.html"
    page.write_text(html_path.read_text().replace("</body>", LAYOUT_SCRIPT + "</body>"))
    dom = run_chromium([f"--window-size={WINDOW[0]},{WINDOW[1]}", "--dump-dom", page.as_uri()], tmp)
    found = re.search(r'<pre id="layout">(.*?)</pre>', dom)
    assert found, dom[-2000:]
    return json.loads(found.group(1).replace("&quot;", '"')), dom


def _ship(workdir, name: str) -> None:
    """A bundle manifest naming the shipped strategy (what `run` writes)."""
    (workdir / "bundle").mkdir(parents=True, exist_ok=True)
    manifest = {"strategy": {"name": name, "heads": dict.fromkeys(("profit", "success"), name)}}
    (workdir / "bundle" / "manifest.json").write_text(json.dumps(manifest))


@pytest.fixture(scope="module")
def shipped_report(tmp_path_factory):
    """A run whose bundle ships a family that traded fewer times than a verdict needs."""
    workdir = tmp_path_factory.mktemp("first") / "run"
    metrics = make_run_dir(workdir, synthetic=False, seed=11)
    bt = metrics["backtest"]
    few = [f for f in metrics["families"] if bt["pooled"][f]["trades"] < bt["min_trades"]]
    name = few[0] if few else next(iter(metrics["families"]))
    bt["pooled"][name]["trades"] = min(bt["pooled"][name]["trades"], bt["min_trades"] - 1)
    (workdir / "metrics.json").write_text(json.dumps(metrics))
    # fund_apr_rank took carry_rule's positions: the same curve, to be drawn once
    eq = pd.read_parquet(workdir / "evaluation" / "backtest_equity.parquet")
    same = eq[eq["strategy"] == "carry_rule"].assign(strategy="fund_apr_rank")
    eq = pd.concat([eq[eq["strategy"] != "fund_apr_rank"], same])
    eq.to_parquet(workdir / "evaluation" / "backtest_equity.parquet")
    _ship(workdir, name)
    html_path, _ = build_report(workdir)
    return workdir, metrics, name, html_path


def test_first_screen_shows_the_verdict_its_trade_count_and_the_chart(shipped_report, tmp_path):
    workdir, metrics, name, html_path = shipped_report
    bt = metrics["backtest"]
    layout, dom = _laid_out(html_path, tmp_path)
    assert layout["first"] == "verdict"
    # the sentence: the shipped strategy's verdict with its trade count, as metrics.json says
    sentence = re.search(r'<section id="verdict">.*?<p>(.*?)</p>', dom, re.S).group(1)
    assert sentence == verdict_sentence(bt, name).replace("&", "&amp;")
    assert sentence.startswith(f"{name} ({bt['pooled'][name]['trades']} trades")
    # the warning and the chart, both inside the first 1000 px
    assert f"Only {bt['pooled'][name]['trades']} trades" in dom
    top, bottom, _ = layout["fig-shipped-equity"]
    assert layout["sentence"][0] < layout["low-trades"][0] < top and bottom <= WINDOW[1]
    # the key figures: the shipped strategy, the best rule, always_on and cash
    rows = re.findall(r'data-strategy="([^"]+)" data-head="pooled" data-metric="trades"', dom)
    assert rows[:4] == [name, bt["rule"], "always_on", "cash"]
    trades = re.search(
        rf'data-value="([^"]+)" data-strategy="{re.escape(name)}" data-head="pooled" '
        r'data-metric="trades"',
        dom,
    )
    assert float(trades.group(1)) == bt["pooled"][name]["trades"]
    # identical curves are merged and said
    merged = "carry_rule = fund_apr_rank" if bt["rule"] == "carry_rule" else "= fund_apr_rank"
    assert merged in dom
    # win rate in percent: the fraction x 100, with a data-scale for the exact value
    win = re.search(
        rf'data-value="([^"]+)" data-strategy="{re.escape(name)}" data-head="pooled" '
        r'data-metric="win_rate" data-scale="100.0">([^<]+)<',
        dom,
    )
    assert float(win.group(2)) == pytest.approx(float(win.group(1)) * 100, abs=0.05)


def test_every_table_fits_a_1400_px_window(shipped_report, tmp_path):
    layout, _ = _laid_out(shipped_report[3], tmp_path)
    assert layout["page"] <= WINDOW[0]
    assert len(layout["tables"]) > 20
    wide = {t: w for t, w in layout["tables"].items() if w[0] > WINDOW[0] or w[1]}
    assert not wide, f"tables past the window's right edge or scrolling (right px): {wide}"


def test_no_warning_when_the_strategy_traded_enough(tmp_path):
    workdir = tmp_path / "run"
    metrics = make_run_dir(workdir, synthetic=False, seed=11)
    name = next(iter(metrics["families"]))
    metrics["backtest"]["pooled"][name]["trades"] = metrics["backtest"]["min_trades"]
    (workdir / "metrics.json").write_text(json.dumps(metrics))
    _ship(workdir, name)
    html_path, _ = build_report(workdir)
    page = html_path.read_text()
    assert 'id="verdict"' in page and 'id="low-trades"' not in page


def test_monthly_returns_add_up_to_the_span_and_exposure_is_the_books(shipped_report):
    workdir, metrics, name, _ = shipped_report
    eq = pd.read_parquet(workdir / "evaluation" / "backtest_equity.parquet")
    trades = pd.read_parquet(workdir / "evaluation" / "backtest_trades.parquet")
    monthly = monthly_returns(eq, [name, "cash"])
    own = eq[eq["strategy"] == name].sort_values("time")["equity"].to_numpy()
    assert monthly[name].sum() == pytest.approx((own[-1] - own[0]) * 100)
    assert len(monthly) == len(pd.to_datetime(eq["time"]).dt.strftime("%Y-%m").unique())
    capital = metrics["config"]["capital_usd"]
    times, used = capital_in_use_pct(eq, trades, name, capital)
    t = trades[trades["strategy"] == name]
    day = times.iloc[len(times) // 2]
    open_then = t[(t["entry_time"] <= day) & (t["exit_time"] > day)]
    assert used[len(times) // 2] == pytest.approx(open_then["capital_usd"].sum() / capital * 100)


def test_fee_scenarios_keep_the_booked_figures_and_scale_only_the_fees(shipped_report):
    workdir, metrics, name, _ = shipped_report
    eq = pd.read_parquet(workdir / "evaluation" / "backtest_equity.parquet")
    trades = pd.read_parquet(workdir / "evaluation" / "backtest_trades.parquet")
    capital = metrics["config"]["capital_usd"]
    got = fee_scenarios(eq, trades, [name], {}, capital).set_index("scenario")
    own = eq[eq["strategy"] == name].sort_values("time")["equity"].to_numpy()
    booked = np.mean(np.diff(own)) * 365 * 100
    assert got.at["as booked", "annual_return_pct"] == pytest.approx(booked)
    assert got.at["taker in, taker out", "annual_return_pct"] == pytest.approx(booked)
    # all maker: each position's fees x (maker round trip / taker round trip), saved once
    t = trades[trades["strategy"] == name]
    taker = round_trip_fee_fraction(t, FeeSchedule())
    maker = round_trip_fee_fraction(t, FeeSchedule(entry_order="maker", exit_order="maker"))
    assert (maker < taker).all()
    saving = (FEES_USD * (1 - maker / taker)).sum() / capital * 100
    years = (len(own) - 1) / 365
    assert got.at["maker in, maker out", "annual_return_pct"] == pytest.approx(
        booked + saving / years
    )
    fees = got.at["maker in, maker out", "fees_pct"] * years / 100 * capital
    assert fees == pytest.approx((FEES_USD * maker / taker).sum())


def test_report_builds_from_an_older_trades_file_without_fees(tmp_path):
    workdir = tmp_path / "run"
    make_run_dir(workdir, synthetic=False, seed=5)
    path = workdir / "evaluation" / "backtest_trades.parquet"
    pd.read_parquet(path).drop(columns=["fees_usd"]).to_parquet(path)
    html_path, _ = build_report(workdir)
    assert "No fee scenarios: the trades file has no fees_usd" in html_path.read_text()
    shutil.rmtree(workdir)
