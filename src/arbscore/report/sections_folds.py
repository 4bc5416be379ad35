"""Fold by fold: each family's skill, calibration and profit interval on every test window.

The means elsewhere in the report hide drift; this table shows each test fold on its own row
(``evaluation.out_of_time``): profit and success skill against the naive guess, AUC, the
success head's ECE and worst-bin gap, the calibration the rolling origin picked for that fold
(chosen on the folds before it) with its error there, and the split-conformal profit interval's
coverage and mean width, fitted on the previous fold.
"""

from __future__ import annotations

from arbscore.report.document import Cell, Section, Table, fmt, fmt_pct, text
from arbscore.report.inputs import ReportInputs

#: (header, head, path inside the head's block to a per-fold list, key of the data-value)
COLUMNS: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("profit skill", "profit", ("mae_skill_folds",), "mae_skill"),
    ("Brier skill", "success", ("brier_skill_folds",), "brier_skill"),
    ("AUC", "success", ("auc_folds",), "auc"),
    ("ECE", "success", ("ece_folds",), "ece"),
    ("worst-bin gap", "success", ("worst_bin_gap_folds",), "worst_bin_gap"),
    ("calibration used", "success", ("recalibration", "chosen_folds"), "chosen"),
    (
        "its error",
        "success",
        ("recalibration", "chosen_calibration_error_folds"),
        "chosen_calibration_error",
    ),
    ("interval coverage", "profit", ("interval", "coverage_folds"), "interval_coverage"),
    ("interval width", "profit", ("interval", "mean_width_pct_folds"), "interval_width_pct"),
)


def _dig(block: object, path: tuple[str, ...]) -> list:
    for key in path:
        block = block.get(key) if isinstance(block, dict) else None
    return block if isinstance(block, list) else []


def _cell(header: str, value: object, key: tuple[str, str, str]) -> Cell:
    if isinstance(value, str):
        return Cell(value, None, key)
    if header == "interval width":
        return Cell(fmt_pct(value, signed=False), value, key)
    return Cell(fmt(value), value, key)


def folds(inp: ReportInputs) -> Section | None:
    """None when metrics.json has no per-fold calibration (written before issue 26)."""
    fams = inp.metrics.raw.get("families") or {}
    if not any(_dig(b.get("success"), ("ece_folds",)) for b in fams.values()):
        return None
    sec = Section("Skill and calibration fold by fold", "folds")
    starts = [str(f.get("test_start", ""))[:10] for f in inp.metrics.folds]
    target = next(
        (
            b["profit"]["interval"].get("coverage_target")
            for b in fams.values()
            if _dig(b.get("profit"), ("interval", "coverage_folds"))
        ),
        None,
    )
    sec.blocks.append(
        "Each test fold on its own row, so drift shows. The calibration used at a fold is chosen "
        "on the folds before it (lowest max(ECE, worst-bin gap); 'family' is the family's own "
        "calibration) and fitted on the previous fold's predictions whose labels were known; "
        f"the profit interval targets {fmt_pct(100 * target, signed=False) if target else '–'} "
        "coverage, its half-widths fitted on the previous fold's residuals per hold (none on "
        "the first fold). Width in percentage points of profit."
    )
    rows = []
    for fam, block in fams.items():
        columns = [_dig(block.get(head), path) for _, head, path, _ in COLUMNS]
        for i, start in enumerate(starts):
            row = [text(fam), text(f"{i + 1} ({start})")]
            for (header, _, _, key), values in zip(COLUMNS, columns, strict=True):
                row.append(
                    _cell(header, values[i] if i < len(values) else None, (fam, "fold", key))
                )
            rows.append(row)
    headers = ["family", "test fold"] + [c[0] for c in COLUMNS]
    sec.blocks.append(Table(headers, rows, "folds"))
    return sec
