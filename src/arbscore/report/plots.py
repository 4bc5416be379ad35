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

BASELINE_STYLE = {"rule_based": ":", "persistence": "-.", "oracle": "--"}
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


def chain_folds(equity: pd.DataFrame) -> pd.DataFrame:
    """One curve per strategy over all folds: each fold's realised steps, in time order.

    The harness writes per-fold curves that start at 1.0 (equity = 1 + realised PnL / capital);
    folds overlap in time where a trade entered in one fold exits after the next fold starts,
    so the folds' increments are merged by time rather than laid end to end.
    """
    pieces = []
    for strategy, group in equity.groupby("strategy", sort=False):
        steps = []
        for _, fold in group.groupby("fold", sort=True):
            fold = fold.sort_values("time")
            eq = fold["equity"].to_numpy(dtype=float)
            base = 1.0 if abs(eq[0] - 1.0) < abs(eq[0]) else 0.0  # multiple of capital or return
            steps.append(
                pd.DataFrame({"time": fold["time"].to_numpy(), "step": np.diff(eq, prepend=base)})
            )
        merged = pd.concat(steps, ignore_index=True).sort_values("time", kind="mergesort")
        pieces.append(
            pd.DataFrame(
                {
                    "strategy": strategy,
                    "time": merged["time"].to_numpy(),
                    "equity": 1.0 + np.cumsum(merged["step"].to_numpy()),
                }
            )
        )
    return pd.concat(pieces, ignore_index=True) if pieces else equity


def equity_curves(
    equity: pd.DataFrame, families: list[str], baselines: list[str], end: object = None
) -> bytes:
    """Cumulative realised return of each family against the baselines, all folds.

    ``end`` (the last fold's test end) extends every curve flat to the end of the evaluation.
    """
    curves = chain_folds(equity)
    fig = Figure(figsize=(10, 4.2))
    ax = fig.add_subplot(1, 1, 1)
    order = [s for s in families + baselines if s in set(curves["strategy"])]
    order += [s for s in curves["strategy"].unique() if s not in order]
    last = curves["time"].max()
    end = max(pd.Timestamp(end), last) if end is not None else last
    for k, strategy in enumerate(order):
        c = curves[curves["strategy"] == strategy]
        if len(c) and c["time"].iloc[-1] < end:  # flat after its last trade, to the end
            c = pd.concat([c, c.iloc[[-1]].assign(time=end)], ignore_index=True)
        style = BASELINE_STYLE.get(strategy, "-")
        color = "grey" if strategy in baselines and strategy != "oracle" else f"C{k}"
        ax.plot(
            c["time"],
            (c["equity"] - 1.0) * 100.0,
            style,
            label=strategy,
            color=color,
            lw=1.4,
            drawstyle="steps-post",
        )
    for t in equity.groupby("fold")["time"].min().iloc[1:]:
        ax.axvline(t, color="black", alpha=0.15, lw=0.8)
    ax.ticklabel_format(axis="y", useOffset=False, style="plain")
    ax.set_ylabel("cumulative net return, % of capital")
    ax.set_title("Trading backtest, out-of-sample folds (grey lines: fold starts)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8, ncol=2)
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
