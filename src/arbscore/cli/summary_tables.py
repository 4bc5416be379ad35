"""The console summary of an evaluation: heads, the pooled backtest and each family against the
rule, as rich tables that fit 80 columns. Figures come from metrics.json and are formatted by
the report's one formatter, so the console and the report show the same numbers."""

from __future__ import annotations

from pathlib import Path

from rich import box
from rich.table import Table

from arbscore.report.document import fmt, fmt_ci, fmt_pct


def _table(title: str, columns: list[str]) -> Table:
    t = Table(
        title=title,
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        pad_edge=False,
        show_edge=False,
        title_justify="left",
    )
    for i, col in enumerate(columns):
        t.add_column(col, justify="left" if i == 0 else "right", no_wrap=True)
    return t


def heads_table(metrics: dict) -> Table:
    """Per family: each head's error, its skill against the naive guess, AUC and ECE; * marks
    the head's winner on its declared metric (profit MAE, success AUC, duration MAE hours)."""
    winners = metrics.get("winner", {})
    declared = metrics.get("winner_metrics", {})
    n_folds = len(metrics.get("folds", []))
    decl = {h: (declared.get(h) or {}).get("name") for h in ("profit", "success", "duration")}
    t = _table(
        f"Heads out of sample ({n_folds} folds, mean); * = winner by "
        f"{decl['profit'] or 'mae'}/{decl['success'] or 'auc'}/{decl['duration'] or 'mae_hours'}",
        ["family", "MAE %", "skill", "AUC", "BSS", "ECE", "dur h", "skill"],
    )

    def star(block: dict, head: str, metric: str, name: str, shown: str | None = None) -> str:
        won = winners.get(head) == name and decl[head] == metric
        return (shown if shown is not None else fmt(block.get(metric))) + ("*" if won else "")

    for name, b in metrics.get("families", {}).items():
        p, s, d = b.get("profit", {}), b.get("success", {}), b.get("duration", {})
        t.add_row(
            name,
            star(p, "profit", "mae", name),
            fmt(p.get("mae_skill")),
            star(s, "success", "auc", name),
            # the Brier skill score carries the star when the success head fell back to Brier
            star(s, "success", "brier", name, fmt(s.get("brier_skill"))),
            fmt(s.get("ece")),
            star(d, "duration", "mae_hours", name),
            fmt(d.get("mae_hours_skill")),
        )
    return t


def winners_table(metrics: dict) -> Table:
    """The winner of each head on its declared metric, the runner-up and why it won."""
    from arbscore.report.inputs import parse_metrics
    from arbscore.report.sections import winner_note

    t = _table(
        "Winner per head (out of sample, mean of the walk-forward folds)",
        ["head", "winner", "metric", "value", "runner-up", "note"],
    )
    for w in parse_metrics(metrics).winners:
        t.add_row(
            w.head, w.family, w.metric, fmt(w.value), w.runner_up or "-", winner_note(w, True)
        )
    return t


def pooled_table(metrics: dict) -> Table:
    """``backtest.pooled``: annual return on the book with its 95 % CI, on deployed capital,
    capital in use, trades, liquidations (Sharpe and drawdowns are in the report)."""
    bt = metrics.get("backtest") or {}
    span = bt.get("span") or {}
    t = _table(
        f"Backtest, pooled out of sample ({span.get('days', '?')} days, % of the book; dep = "
        "%/yr on deployed capital, use = capital in use %)",
        ["strategy", "%/yr", "95 % CI", "dep", "use", "trades", "liq"],
    )
    families = metrics.get("families", {})
    for name, p in (bt.get("pooled") or {}).items():
        t.add_row(
            name if name in families else f"[dim]{name}[/]",
            fmt_pct(p.get("annual_return_pct"), unit=False),
            fmt_ci(p.get("annual_return_ci95"), unit=False),
            fmt_pct(p.get("annual_return_on_deployed_pct"), unit=False),
            fmt_pct(p.get("capital_in_use_pct"), signed=False, unit=False),
            fmt(p.get("trades")),
            fmt(p.get("liquidations")),
        )
    return t


def vs_rule_table(metrics: dict) -> Table:
    """``backtest.versus``: each family minus the best rule, always_on and cash, paired 95 %
    CI, verdict."""
    bt = metrics.get("backtest") or {}
    rec = bt.get("recommended_family")
    t = _table(
        f"Each family against the best rule ({bt.get('rule')}), always_on and cash; "
        f"recommended: {rec}",
        ["family", "against", "diff %/yr", "95 % CI", "verdict"],
    )
    # a per-head mix's name ("a+b+c") is long: it folds, the numbers and verdict never do
    t.columns[0].no_wrap, t.columns[0].overflow = False, "fold"
    for fam, block in (bt.get("versus") or {}).items():
        for against, v in block.items():
            t.add_row(
                fam,
                against,
                fmt_pct(v.get("diff_annual_return_pct"), unit=False),
                fmt_ci(v.get("diff_ci95"), unit=False),
                v.get("verdict", "-"),
            )
    return t


def verdict_lines(metrics: dict) -> list[str]:
    """Each family's verdict sentence (``evaluation.verdict.verdict_sentence``), the same words
    the report prints."""
    from arbscore.evaluation.verdict import verdict_sentence  # not at import: serve's CLI

    bt = metrics.get("backtest") or {}
    lines = [verdict_sentence(bt, fam) for fam in (bt.get("versus") or {})]
    return [line for line in lines if line]


def _times_100(v: object) -> float | None:
    return v * 100.0 if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def summary_tables(metrics: dict) -> tuple[Table, ...]:
    """Heads, pooled backtest, families against the rule."""
    return heads_table(metrics), pooled_table(metrics), vs_rule_table(metrics)


def shipped_sentence(bundle_dir: Path) -> str:
    """What the run ships and whether its backtest supports trading it (the console's line
    before the serve command): "not enough evidence" replaces "serve the winners" unless the
    shipped strategy's interval against the best rule lies above 0."""
    import json

    from arbscore.evaluation.performance import VERDICT_EDGE

    manifest = json.loads((Path(bundle_dir) / "manifest.json").read_text(encoding="utf-8"))
    strategy = manifest.get("strategy") or {}
    name = strategy.get("name") or "+".join(
        sorted({str(e.get("family")) for e in (manifest.get("heads") or {}).values()})
    )
    verdict = strategy.get("verdict")
    if verdict == VERDICT_EDGE:
        rule = strategy.get("rule")
        return f"Shipped {name} (backtest verdict: {verdict} over {rule}). Serve it with:"
    why = verdict or "never backtested as one strategy"
    return (
        f"Shipped {name}: not enough evidence to trade it (backtest verdict: {why}). "
        "Serve it to evaluate, not to trade:"
    )


def dropped_line(dropped: dict | None) -> str | None:
    """The console's sentence about entries the data's end left unlabelled (None: none)."""
    if not dropped or not dropped.get("entries"):
        return None
    return (
        f"dropped {dropped['entries']:,} of {dropped['detected']:,} entries from "
        f"{dropped['after']}: {dropped['reason']}"
    )
