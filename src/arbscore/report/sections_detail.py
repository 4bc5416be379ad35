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
    cmd = inp.command or f"arbscore run --workdir {inp.workdir}"
    rows = [[text(cmd)]]
    if inp.benchmarks:
        rows.append([text(f"arbscore benchmark --workdir {inp.workdir}")])
    if (inp.workdir / "bundle" / "manifest.json").exists():
        rows.append([text(f"arbscore serve --bundle {inp.workdir / 'bundle'} --port 5250")])
    sec.blocks.append(Table(["command (run, benchmarks, serve the winners)"], rows, "command"))
    if inp.missing:
        sec.blocks.append(
            "Artefacts not found in the run directory: " + ", ".join(inp.missing) + "."
        )
    return sec
