"""The report's figures: matplotlib (Agg, no pyplot state) rendered to PNG bytes.

Each function takes already-parsed inputs and returns PNG bytes, so the HTML can inline them
as base64 and the Markdown can link the same files.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from arbscore.report.inputs import FamilyMetrics, Metrics, Stat

BASELINE_STYLE = {
    "carry_rule": ":",
    "fund_apr_rank": (0, (3, 1, 1, 1)),
    "persistence": "-.",
    "hindsight_oracle": "--",
    "always_on": (0, (5, 2)),
    "cash": (0, (1, 3)),
}
#: baselines drawn in their own colour (the rest in grey): the references a family must beat
COLOURED_BASELINES = ("hindsight_oracle", "always_on")
_DPI = 110


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI)
    return buf.getvalue()


def metric_bars(metrics: Metrics, panels: list[tuple[str, str]]) -> bytes:
    """One panel per (head, metric): mean per family, whiskers = fold min..max, dots = folds."""
    fig = Figure(figsize=(4.2 * len(panels), 3.4))
    names = list(metrics.families)
    for i, (head, metric) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        for j, fam in enumerate(names):
            stat = metrics.families[fam].heads.get(head, {}).get(metric)
            if stat is None:
                continue
            ax.bar(j, stat.mean, color=f"C{j}", alpha=0.8)
            folds = [v for v in stat.folds if np.isfinite(v)]
            if folds:
                ax.errorbar(
                    j,
                    stat.mean,
                    yerr=[[stat.mean - min(folds)], [max(folds) - stat.mean]],
                    color="black",
                    capsize=4,
                    lw=1,
                )
                ax.scatter([j] * len(folds), folds, color="black", s=10, zorder=3)
        ax.set_xticks(range(len(names)), names, rotation=20)
        ax.set_title(f"{head}: {metric}")
        ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def curve(equity: pd.DataFrame, strategy: str) -> pd.DataFrame:
    """One strategy's daily rows (time, equity as a multiple of capital), in time order."""
    return equity[equity["strategy"] == strategy].sort_values("time")


def merge_identical(equity: pd.DataFrame, names: list[str]) -> list[list[str]]:
    """``names`` (those with a curve) grouped by identical daily equity, in the given order:
    ``[["xgboost"], ["carry_rule", "fund_apr_rank"], ...]``."""
    groups: list[tuple[np.ndarray, list[str]]] = []
    for name in names:
        eq = curve(equity, name)["equity"].to_numpy(float)
        if not len(eq):
            continue
        for values, members in groups:
            if len(values) == len(eq) and np.array_equal(values, eq):
                members.append(name)
                break
        else:
            groups.append((eq, [name]))
    return [members for _, members in groups]


def equity_drawdown(equity: pd.DataFrame, families: list[str]) -> bytes:
    """Daily marked-to-market equity (cumulative return, % of capital) of every strategy over
    the pooled out-of-sample span, and below it each one's drawdown from its running peak."""
    fig = Figure(figsize=(10, 5.6))
    top = fig.add_subplot(2, 1, 1)
    bottom = fig.add_subplot(2, 1, 2, sharex=top)
    order = [s for s in families if s in set(equity["strategy"])]
    order += [s for s in equity["strategy"].unique() if s not in order]
    groups = merge_identical(equity, order)  # identical curves: one line, a joint label
    for k, members in enumerate(groups):
        strategy = members[0]
        c = curve(equity, strategy)
        eq = c["equity"].to_numpy(float)
        if "drawdown_pct" in c.columns:
            dd = c["drawdown_pct"].to_numpy(float)
        else:
            dd = (eq / np.maximum.accumulate(eq) - 1.0) * 100.0
        is_base = strategy not in families
        style = BASELINE_STYLE.get(strategy, "-") if is_base else "-"
        color = "grey" if is_base and strategy not in COLOURED_BASELINES else f"C{k}"
        y = (eq - 1.0) * 100.0
        label = " = ".join(members)
        top.plot(c["time"], y, linestyle=style, label=label, color=color, lw=1.4)
        bottom.plot(c["time"], dd, linestyle=style, color=color, lw=1.1)
    if "fold" in equity.columns:
        first = equity[equity["strategy"] == order[0]] if order else equity
        starts = first.groupby("fold")["time"].min().sort_index()
        for t in starts.iloc[1:]:
            top.axvline(t, color="black", alpha=0.15, lw=0.8)
            bottom.axvline(t, color="black", alpha=0.15, lw=0.8)
    for ax in (top, bottom):
        ax.ticklabel_format(axis="y", useOffset=False, style="plain")
        ax.grid(alpha=0.3)
    top.set_ylabel("return, % of capital")
    top.set_title("Daily marked-to-market equity, pooled out of sample (grey lines: fold starts)")
    top.legend(loc="upper left", fontsize=8, ncol=3)
    bottom.set_ylabel("drawdown %")
    fig.autofmt_xdate()
    return _png(fig)


def calibration(families: dict[str, FamilyMetrics]) -> bytes:
    """Reliability diagram of the success head: observed rate vs mean predicted probability."""
    fig = Figure(figsize=(5.2, 4.6))
    ax = fig.add_subplot(1, 1, 1)
    ax.plot([0, 1], [0, 1], "--", color="grey", lw=1, label="perfect")
    for k, (fam, m) in enumerate(families.items()):
        if m.calibration is None:
            continue
        cal = m.calibration
        ax.plot(cal.predicted, cal.observed, "-", color=f"C{k}", label=fam, lw=1.2)
        total = max(sum(cal.count), 1)
        sizes = [12 + 400 * c / total for c in cal.count]  # marker area ~ share of rows
        ax.scatter(cal.predicted, cal.observed, s=sizes, color=f"C{k}", alpha=0.6)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("mean predicted P(profit > 0)")
    ax.set_ylabel("observed share profitable")
    ax.set_title("Calibration of the success head (marker area ~ rows)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _png(fig)


def feature_importance(importance: dict[str, dict[str, dict[str, float]]], top: int = 10) -> bytes:
    """Top features per family (columns) and head (rows), normalised to sum to 1."""
    fams = list(importance)
    heads = sorted(
        {h for f in fams for h in importance[f]},
        key=lambda h: (
            ("profit", "success", "duration").index(h)
            if h in ("profit", "success", "duration")
            else 9
        ),
    )
    fig = Figure(figsize=(4.0 * len(fams), 2.9 * len(heads)))
    for r, head in enumerate(heads):
        for c, fam in enumerate(fams):
            ax = fig.add_subplot(len(heads), len(fams), r * len(fams) + c + 1)
            values = importance[fam].get(head) or {}
            total = sum(abs(v) for v in values.values()) or 1.0
            items = sorted(values.items(), key=lambda kv: -abs(kv[1]))[:top][::-1]
            ax.barh([k for k, _ in items], [abs(v) / total for _, v in items], color=f"C{c}")
            ax.set_title(f"{fam} / {head}", fontsize=9)
            ax.tick_params(labelsize=7)
            ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def timing_bars(
    rows: list[tuple[str, Stat | None, Stat | None]], train_label: str, latency_label: str
) -> bytes:
    """Training time and inference latency per family (bars: mean, whiskers: fold range)."""
    fig = Figure(figsize=(9, 3.2))
    for i, (idx, label) in enumerate(((1, train_label), (2, latency_label))):
        ax = fig.add_subplot(1, 2, i + 1)
        for k, row in enumerate(rows):
            stat = row[idx]
            if stat is None:
                continue
            ax.bar(k, stat.mean, color=f"C{k}")
            folds = [v for v in stat.folds if np.isfinite(v)]
            if folds:
                ax.errorbar(
                    k,
                    stat.mean,
                    color="black",
                    capsize=4,
                    lw=1,
                    yerr=[[stat.mean - min(folds)], [max(folds) - stat.mean]],
                )
        ax.set_xticks(range(len(rows)), [r[0] for r in rows])
        ax.set_title(label)
        ax.grid(axis="y", alpha=0.3)
    return _png(fig)
