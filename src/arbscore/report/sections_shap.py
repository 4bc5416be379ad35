"""The report's "What the models learned" section: SHAP summary and dependence per head.

Reads ``evaluation/shap.json`` (written by ``evaluate``, ``evaluation.explain``): per family,
the method (exact TreeSHAP for the GBDTs, the occlusion approximation for the others), and
per head the mean |attribution| of the top features and the top feature's dependence sample.
"""

from __future__ import annotations

import json

from matplotlib.figure import Figure as MplFigure

from arbscore.evaluation.explain import HEADS, SHAP_FILE
from arbscore.report.document import Figure, Section, Table, text
from arbscore.report.inputs import ReportInputs
from arbscore.report.plots import _png

METHOD_TEXT = {
    "treeshap": "exact TreeSHAP of the head's raw margin (the library's native code)",
    "occlusion": (
        "an approximation, not SHAP: the prediction minus the prediction with that one feature "
        "set to the sample's median"
    ),
}
SUMMARY_BARS = 10


def _summary_plot(fam: str, block: dict) -> bytes:
    fig = MplFigure(figsize=(12.0, 3.2))
    for c, head in enumerate(HEADS):
        ax = fig.add_subplot(1, len(HEADS), c + 1)
        items = list(block["heads"][head]["mean_abs"].items())[:SUMMARY_BARS][::-1]
        ax.barh([k for k, _ in items], [v for _, v in items], color=f"C{c}")
        ax.set_title(f"{fam} / {head}: mean |attribution|", fontsize=9)
        ax.set_xlabel(block["heads"][head]["unit"], fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def _dependence_plot(fam: str, block: dict) -> bytes:
    fig = MplFigure(figsize=(12.0, 3.0))
    for c, head in enumerate(HEADS):
        dep = block["heads"][head]["dependence"]
        ax = fig.add_subplot(1, len(HEADS), c + 1)
        ax.scatter(dep["x"], dep["attribution"], s=4, alpha=0.4, color=f"C{c}")
        ax.set_title(f"{fam} / {head}", fontsize=9)
        ax.set_xlabel(dep["feature"], fontsize=8)
        ax.set_ylabel(f"attribution ({block['heads'][head]['unit']})", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    return _png(fig)


def _top_table(shap: dict) -> Table:
    rows = []
    for fam, block in shap.items():
        for head in HEADS:
            top = list(block["heads"][head]["mean_abs"].items())[:3]
            tops = ", ".join(f"{k} ({v:.4g})" for k, v in top)
            rows.append([text(fam), text(head), text(block["method"]), text(tops)])
    return Table(["family", "head", "method", "top 3 features (mean |attribution|)"], rows, "shap")


def shap_section(inp: ReportInputs) -> Section:
    """Per family: a summary bar chart per head, and the top feature's dependence plot."""
    sec = Section("What the models learned (SHAP)", "shap")
    path = inp.workdir / "evaluation" / SHAP_FILE
    if not path.exists():
        sec.blocks.append(f"No attributions (evaluation/{SHAP_FILE} missing).")
        return sec
    shap = json.loads(path.read_text(encoding="utf-8"))
    sec.blocks.append(
        "Attributions of the most recent fold's model on a random sample of its test rows: "
        "the mean |attribution| per feature (the summary) and, per head, the values of its "
        "top feature against their attributions (the dependence plot)."
    )
    for fam, block in shap.items():
        sec.blocks.append(
            f"{fam}: {METHOD_TEXT.get(block['method'], block['method'])}; "
            f"{block['rows']:,} rows of fold {block.get('fold', '?')}."
        )
        sec.blocks.append(Figure(_summary_plot(fam, block), f"shap-{fam}", f"{fam} SHAP summary"))
        sec.blocks.append(
            Figure(_dependence_plot(fam, block), f"shap-dep-{fam}", f"{fam} dependence plots")
        )
    sec.blocks.append(_top_table(shap))
    return sec
