"""Report sections on the models' details: calibration, feature importance, timings,
benchmarks, and the command that reproduces the run."""

from __future__ import annotations

import json

from arbscore.report import plots
from arbscore.report.document import Cell, Figure, Section, Table, fmt, text
from arbscore.report.inputs import ReportInputs
from arbscore.report.sections import stat_cell


def calibration(inp: ReportInputs) -> Section:
    sec = Section("Calibration of the success probability", "calibration")
    fams = {f: fm for f, fm in inp.metrics.families.items() if fm.calibration is not None}
    if not fams:
        sec.blocks.append("metrics.json holds no calibration table.")
        return sec
    sec.blocks.extend(calibration_flags(inp))
    sec.blocks.append(
        Figure(plots.calibration(fams), "calibration", "Reliability diagram of the success head")
    )

    # rows keyed by the bin's range when the tables have edges (each omits its empty bins)
    def keys_of(cal) -> list:
        if len(cal.lower) == len(cal.predicted) and len(cal.upper) == len(cal.predicted):
            return [(round(a, 6), round(b, 6)) for a, b in zip(cal.lower, cal.upper, strict=True)]
        return list(range(len(cal.predicted)))

    index = {f: {k: i for i, k in enumerate(keys_of(fm.calibration))} for f, fm in fams.items()}
    all_keys = sorted({k for idx in index.values() for k in idx}, key=lambda k: k)
    headers = ["P(profit) bin"] + [
        f"{f} {c}" for f in fams for c in ("predicted", "observed", "rows")
    ]
    rows = []
    for key in all_keys:
        label = f"{key[0]:.2f}–{key[1]:.2f}" if isinstance(key, tuple) else str(key + 1)
        row = [text(label)]
        for f, fm in fams.items():
            cal, i = fm.calibration, index[f].get(key)
            if i is None:
                row += [text("–")] * 3
                continue
            row += [
                Cell(fmt(cal.predicted[i]), cal.predicted[i], (f, "calibration", "predicted")),
                Cell(fmt(cal.observed[i]), cal.observed[i], (f, "calibration", "observed")),
                Cell(fmt(int(cal.count[i])), cal.count[i], (f, "calibration", "rows")),
            ]
        rows.append(row)
    caption = "Reliability table: mean predicted vs observed profitable share per bin"
    sec.blocks.append(Table(headers, rows, "calibration", caption=caption))
    return sec


def _top_bin(cal) -> tuple[float, float, int] | None:
    """(predicted, observed, rows) of the highest non-empty bin."""
    if cal is None or not cal.predicted:
        return None
    i = max(range(len(cal.predicted)), key=lambda k: cal.predicted[k])
    return cal.predicted[i], cal.observed[i], cal.count[i]


def calibration_flags(inp: ReportInputs) -> list:
    """ECE per family with the flag: the blocks that open the calibration section."""
    check = inp.metrics.raw.get("calibration_check") or {}
    limit = check.get("flag_above", 0.05)
    gap_limit = check.get("bin_gap_flag_above", 0.2)
    min_rows = check.get("bin_gap_min_rows", 20)
    rows, flagged = [], []
    for f, fm in inp.metrics.families.items():
        success = fm.heads.get("success", {})
        value = success["ece"].mean if "ece" in success else None
        gap = success["worst_bin_gap"].mean if "worst_bin_gap" in success else None
        listed = check.get("flagged")
        if isinstance(listed, list):
            bad = f in listed
        else:
            bad = value is not None and value == value and value > limit
        top = _top_bin(fm.calibration)
        rows.append(
            [
                text(f),
                Cell(fmt(value), value, (f, "success", "ece")),
                Cell(fmt(gap), gap, (f, "success", "worst_bin_gap")),
                text("MISCALIBRATED" if bad else "ok"),
                text(f"{top[0]:.3f} -> {top[1]:.3f} ({top[2]:,} rows)" if top else "–"),
            ]
        )
        if bad:
            flagged.append(
                f"{f} (ECE {fmt(value)}, worst bin off by {fmt(gap)}"
                + (f"; its top bin predicts {top[0]:.3f} and observes {top[1]:.3f}" if top else "")
                + ")"
            )
    blocks: list = [
        Table(
            [
                "family",
                "ECE",
                f"worst bin gap (>= {min_rows} rows)",
                f"flag (ECE > {limit:g} or gap > {gap_limit:g})",
                "top bin: predicted -> observed",
            ],
            rows,
            "ece",
            caption="Calibration error of P(profit), pooled over the folds",
        )
    ]
    if flagged:
        blocks.insert(
            0,
            "FLAGGED: miscalibrated success probability for " + "; ".join(flagged) + ". A "
            "Kelly fraction sized from these probabilities bets too much; shrink it or "
            "recalibrate before trusting P(profit).",
        )
    else:
        blocks.insert(
            0, f"No family's ECE exceeds {limit:g} and no bin is off by more than {gap_limit:g}."
        )
    return blocks


SKILL_ROWS = (
    ("profit", "mae", "naive_mae", "mae_skill", "training median"),
    ("success", "brier", "naive_brier", "brier_skill", "training base rate"),
    ("duration", "mae_hours", "naive_mae_hours", "mae_hours_skill", "training median"),
)


def skill(inp: ReportInputs) -> Section:
    sec = Section("Skill against a naive predictor", "skill")
    sec.blocks.append(
        "Each head against a naive guess fitted on the same fold's training rows; skill = 1 - "
        "model error / naive error (for success: the Brier skill score). 0 is no better than "
        "the naive guess, below 0 is worse. Mean across folds."
    )
    rows = []
    for f, fm in inp.metrics.families.items():
        for head, metric, naive, sk, what in SKILL_ROWS:
            block = fm.heads.get(head, {})
            if metric not in block:
                continue
            rows.append(
                [
                    text(f),
                    text(head),
                    text(f"{metric} vs {what}"),
                    stat_cell(block.get(metric), (f, head, metric)),
                    stat_cell(block.get(naive), (f, head, naive)),
                    stat_cell(block.get(sk), (f, head, sk)),
                ]
            )
    if rows:
        headers = ["family", "head", "error", "model", "naive", "skill"]
        sec.blocks.append(Table(headers, rows, "skill"))
    else:
        sec.blocks.append("metrics.json holds no head metrics.")
    return sec


def importance(inp: ReportInputs) -> Section:
    sec = Section("Feature importance", "importance")
    if not inp.importance:
        sec.blocks.append("No feature importance (evaluation/feature_importance.json missing).")
        return sec
    sec.blocks.append("Top features per family and head, normalised to sum to 1 per panel.")
    sec.blocks.append(
        Figure(
            plots.feature_importance(inp.importance),
            "importance",
            "Feature importance per family and head",
        )
    )
    return sec


TIMING_MEANING = {
    "train_seconds": "fit time per fold (s)",
    "train_seconds_total": "fit time summed over folds (s)",
    "predict_us_per_row": "batch inference per row (µs)",
    "predict_ms_single_row": "one-row inference latency, median (ms)",
}


def _timing_key(keys: list[str], words: tuple[str, ...]) -> str | None:
    return next((k for k in keys if any(w in k for w in words)), None)


def timing(inp: ReportInputs) -> Section:
    sec = Section("Training time and inference latency", "timing")
    fams = inp.metrics.families
    keys: list[str] = []
    for fm in fams.values():
        keys += [k for k in fm.timing if k not in keys]
    if not keys:
        sec.blocks.append("metrics.json holds no timings.")
        return sec
    rows = [
        [text(f)] + [stat_cell(fm.timing.get(k), (f, "timing", k)) for k in keys]
        for f, fm in fams.items()
    ]
    meaning = "; ".join(f"{k}: {TIMING_MEANING[k]}" for k in keys if k in TIMING_MEANING)
    sec.blocks.append(Table(["family"] + keys, rows, "timing", caption=meaning))
    tk = _timing_key(keys, ("train", "fit"))
    lk = _timing_key(keys, ("latency", "predict", "inference"))
    if tk and lk:
        bars = [(f, fm.timing.get(tk), fm.timing.get(lk)) for f, fm in fams.items()]
        sec.blocks.append(
            Figure(
                plots.timing_bars(bars, TIMING_MEANING.get(tk, tk), TIMING_MEANING.get(lk, lk)),
                "timing",
                "Training time and inference latency per family",
            )
        )
    return sec


def _figure_cell(script: str, key: str, value: object) -> Cell:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Cell(fmt(value), value, (script, "benchmark", key))
    shown = json.dumps(value) if isinstance(value, (dict, list)) else str(value)
    return Cell(shown, None, (script, "benchmark", key))


def benchmarks(inp: ReportInputs) -> Section | None:
    b = inp.benchmarks
    if not b:
        return None
    sec = Section("Benchmarks", "benchmarks")
    sec.blocks.append(
        "Figures from `arbscore benchmark` (benchmarks/*.py, each checks its outputs against "
        "the reference before timing); wall times depend on the machine's load."
    )
    machine = b.get("machine")
    if machine:
        sec.blocks.append("Machine: " + ", ".join(f"{k} {v}" for k, v in machine.items()) + ".")
    for name, entry in (b.get("scripts") or {}).items():
        cmd = entry.get("command", name)
        if entry.get("error"):
            sec.blocks.append(f"{name}: failed ({entry['error']}); command: {cmd}")
            continue
        rows = [[text(k), _figure_cell(name, k, v)] for k, v in (entry.get("result") or {}).items()]
        wall = entry.get("wall_seconds")
        caption = f"{name}: {cmd}" + (f" ({fmt(wall)} s wall)" if wall is not None else "")
        sec.blocks.append(Table(["figure", "value"], rows, f"benchmark-{name}", caption=caption))
    return sec


def reproduce(inp: ReportInputs) -> Section:
    sec = Section("Reproduce", "reproduce")
    cmd = inp.command or f"arbscore run --out {inp.workdir}"
    rows = [[text(cmd)]]
    if inp.benchmarks:
        rows.append([text(f"arbscore benchmark --out {inp.workdir}")])
    if (inp.workdir / "bundle" / "manifest.json").exists():
        rows.append([text(f"arbscore serve --bundle {inp.workdir / 'bundle'} --port 5250")])
    sec.blocks.append(Table(["command (run, benchmarks, serve the winners)"], rows, "command"))
    raw = inp.metrics.raw
    commit = raw.get("git_commit") or "unknown (not run from a git checkout)"
    sec.blocks.append(
        f"Git commit: {commit}; arbscore {raw.get('arbscore_version', '?')}; metrics written "
        f"{raw.get('created_at', '?')}."
    )
    cfg = raw.get("config") if isinstance(raw.get("config"), dict) else {}
    if cfg:
        crow = [
            [text(k), text(fmt(v) if isinstance(v, (int, float)) else str(v))]
            for k, v in cfg.items()
        ]
        sec.blocks.append(Table(["setting", "value"], crow, "config", caption="Evaluation config"))
    if inp.missing:
        sec.blocks.append(
            "Artefacts not found in the run directory: " + ", ".join(inp.missing) + "."
        )
    return sec
