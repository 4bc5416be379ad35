"""The console summary of `run`/`evaluate`: the same numbers as metrics.json, within 80 columns."""

from __future__ import annotations

import json

from arb_eval_kit import MeanFamily, TreeFamily, make_training_frame
from rich.console import Console

from arbscore.cli.summary_tables import summary_tables, verdict_lines, winners_table
from arbscore.evaluation import EvaluationConfig, evaluate
from arbscore.evaluation.metrics import json_safe
from arbscore.report.document import fmt_ci, fmt_pct


def test_tables_fit_80_columns_and_show_metrics_json_numbers():
    frame = make_training_frame(days=30, step_minutes=180)
    result = evaluate(frame, [MeanFamily, TreeFamily], EvaluationConfig(n_folds=2))
    metrics = json.loads(json.dumps(json_safe(result.metrics)))
    console = Console(width=80, record=True, color_system=None)
    for table in (*summary_tables(metrics), winners_table(metrics)):
        console.print(table)
    out = console.export_text()
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "…" not in out  # nothing truncated
    pooled = out[out.index("Backtest, pooled") : out.index("Each family against")]
    for name, p in metrics["backtest"]["pooled"].items():
        line = next(ln for ln in pooled.splitlines() if ln.startswith(name + " "))
        assert fmt_pct(p["annual_return_pct"], unit=False) in line
        assert fmt_ci(p["annual_return_ci95"], unit=False) in line
        assert f" {p['liquidations']} " in line + " "
    for block in metrics["backtest"]["versus"].values():
        assert set(block) == {metrics["backtest"]["rule"], "always_on", "cash"}
        for vs in block.values():
            assert vs["verdict"] in out and fmt_ci(vs["diff_ci95"], unit=False) in out
    # one verdict sentence per family, from the function the report uses too
    lines = verdict_lines(metrics)
    # two families and, their heads' winners differing, the booked mix of them
    assert len(lines) == len(metrics["backtest"]["versus"]) == 3
    assert all("against cash" in ln for ln in lines)
    # the success winner is starred on the declared metric (AUC), not on Brier
    assert metrics["winner_metrics"]["success"]["name"] == "auc"
    winner = metrics["winner"]["success"]
    row = next(ln for ln in out.splitlines() if ln.strip().startswith(winner + " "))
    auc = [c for c in row.split() if c.endswith("*")]
    assert auc, row
