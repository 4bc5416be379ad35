"""/dashboard served by ``arbscore serve --ops-db`` and rendered by headless Chromium: what a
person sees (sections, live rows, equity curves, the significance statement, drift levels)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pandas as pd
import pytest
from ops_helpers import free_port, start_server, stop

from arbscore.data_tools.store import open_store
from arbscore.ops.live_opps import live_opportunities, records
from arbscore.ops.tracking import PREDICTIONS, prediction_rows, register

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
]


class _Text(HTMLParser):
    """Visible text per section id, table rows per section, svg polylines per section."""

    def __init__(self) -> None:
        super().__init__()
        self.section: str | None = None
        self.text: dict[str, list[str]] = {}
        self.rows: dict[str, int] = {}
        self.lines: dict[str, int] = {}
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self.section = a.get("id")
            self.text.setdefault(self.section, [])
        if tag in ("script", "style"):
            self._skip += 1
        if self.section and tag == "tr":
            self.rows[self.section] = self.rows.get(self.section, 0) + 1
        if self.section and tag == "polyline":
            self.lines[self.section] = self.lines.get(self.section, 0) + 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if self.section and not self._skip and data.strip():
            self.text[self.section].append(data.strip())


def _chromium(args: list[str], tmp: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp / 'chrome'}", *args],
        capture_output=True,
        timeout=120,
        check=False,
    )


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")
def test_dashboard_in_headless_chromium(live_copy, live_frame, ops_bundle, tmp_path):
    opp = live_opportunities(live_frame)
    early = opp[opp["timestamp"] <= opp["timestamp"].min() + pd.Timedelta(hours=6)]
    early = early.reset_index(drop=True)
    recs = records(early)
    preds = [
        {
            "predicted_profit_pct": -0.2,
            "success_probability": 0.3,
            "predicted_hold_hours": 4.0,
            "composite_score": 0.0,
        }
        for _ in recs
    ]
    raw = [
        {
            "timestamp": r.timestamp.isoformat(),
            "long_exchange": r.long_exchange,
            "long_market": r.long_market,
            "short_exchange": r.short_exchange,
            "short_market": r.short_market,
        }
        for r in early.itertuples()
    ]
    with open_store(live_copy) as store:  # earlier tracked predictions: accuracy has data
        register(store).upsert(PREDICTIONS, prediction_rows("earlier-model", recs, preds, raw))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(
        [
            "--bundle",
            str(ops_bundle),
            "--port",
            str(port),
            "--ops-db",
            str(live_copy),
            "--ops-interval",
            "3600",
        ],
        tmp_path / "s.log",
        url,
    )
    try:
        batch = records(opp.tail(80))
        assert httpx.post(url + "/predict/batch", json=batch, timeout=30).status_code == 200
        for _ in range(240):  # the first ops round (scan, outcomes) runs at start-up
            summary = httpx.get(url + "/ops/summary", timeout=120).json()
            if summary["jobs"]["rounds"]:
                break
            time.sleep(0.5)
        assert summary["live"]["rows"] and summary["paper"] and summary["accuracy"], summary["jobs"]
        assert summary["drift"]["rows"] >= 80
        dom = _chromium(["--dump-dom", url + "/dashboard"], tmp_path)
        assert dom.returncode == 0, dom.stderr.decode()[-2000:]
        html = dom.stdout.decode()
        shot = tmp_path / "dashboard.png"
        _chromium([f"--screenshot={shot}", "--window-size=1400,2000", url + "/dashboard"], tmp_path)
        if os.environ.get("ARBSCORE_ARTIFACTS"):  # keep the screenshot for a person to look at
            keep = Path(os.environ["ARBSCORE_ARTIFACTS"])
            keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, keep / "dashboard.png")
    finally:
        stop(server)
    page = _Text()
    page.feed(html)
    text = {k: " ".join(v) for k, v in page.text.items()}
    assert set(text) >= {"live", "paper", "accuracy", "drift"}
    # live opportunities: the candidates of the newest slot, scored by the served model
    assert "Live opportunities" in text["live"] and "BTCUSDT" in text["live"]
    assert page.rows["live"] == 1 + summary["live"]["count"]  # header + one row each
    assert re.search(r"(spot_perp|perp_perp)", text["live"])
    # A/B: two equity curves, both strategies' metrics and the significance statement
    assert "ML scorer" in text["paper"] and "rule-based" in text["paper"]
    assert page.lines["paper"] >= 2
    assert re.search(r"interval \[[-+0-9.%, ]+\] (includes|excludes) 0", text["paper"])
    # fractions in percent with their base, like the report (win rate 88.9, not 0.889)
    assert "win rate %" in text["paper"] and "net return, % of capital" in text["paper"]
    # accuracy over time from the earlier model's realised predictions
    # (duration needs 168 h of live data after entry: not yet, and the page says so)
    assert "earlier-model" in text["accuracy"] and page.lines["accuracy"] == 2
    assert "duration MAE no data yet" in text["accuracy"]
    # drift: a status badge and PSI per feature (demo-trained bundle vs replay market: drifted)
    assert re.search(r"Drift (ok|warn|alert)", text["drift"])
    assert "fund_apr" in text["drift"] and "alert" in text["drift"]
    assert shot.stat().st_size > 20_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
