"""Run the benchmark scripts (``benchmarks/*.py``) and collect their figures for the report.

Each script prints, as its last stdout line, one JSON object of figures (rows, seconds, ...).
They run as subprocesses of the same Python so a crash or a leak in one cannot take the others
down; a script that fails is recorded with its error, and the rest still run.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

from arbscore.progress import Progress

DEFAULT_SCRIPTS: tuple[str, ...] = ("simulate", "train", "serve")


def find_benchmarks_dir(start: Path | None = None) -> Path:
    """``benchmarks/`` at the repository root (the checkout this package runs from)."""
    here = Path(start) if start else Path(__file__).resolve()
    for parent in [here, *here.parents]:
        candidate = parent / "benchmarks"
        if candidate.is_dir() and (parent / "pyproject.toml").exists():
            return candidate
    raise FileNotFoundError(
        "benchmarks/ not found: `arbscore benchmark` runs from a source checkout "
        "(git clone ...; pip install -e .)"
    )


def parse_last_json_line(stdout: str) -> dict:
    """The figures a script printed: its last non-empty stdout line, a JSON object."""
    lines = [ln.strip() for ln in stdout.splitlines() if ln.strip()]
    if not lines:
        raise ValueError("printed nothing on stdout (expected a JSON object as its last line)")
    try:
        value = json.loads(lines[-1])
    except json.JSONDecodeError as exc:
        raise ValueError(f"last line is not JSON: {lines[-1][:200]!r}") from exc
    if not isinstance(value, dict):
        raise ValueError(f"last line is JSON but not an object: {lines[-1][:200]!r}")
    return value


def machine_info() -> dict:
    """Where the figures were measured (they mean little without it)."""
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }


def run_benchmarks(
    workdir: Path,
    *,
    scripts: tuple[str, ...] | None = None,
    bench_dir: Path | None = None,
    script_args: dict[str, tuple[str, ...]] | None = None,
    timeout_s: float = 1800.0,
    progress: Progress | None = None,
) -> Path:
    """Run each ``benchmarks/<name>.py`` and write ``workdir/benchmarks.json``; returns its path.

    ``scripts=None`` runs DEFAULT_SCRIPTS, recording any not in this checkout as missing;
    named scripts must exist. ``script_args`` gives a script extra command-line arguments
    (``{"train": ("--rows", "100000")}``); serve.py times the run's own bundle when there is
    one. Results of scripts not run this time are kept from an earlier benchmarks.json, so one
    benchmark can be re-run alone.
    """
    bench_dir = Path(bench_dir) if bench_dir else find_benchmarks_dir()
    script_args = dict(script_args or {})
    chosen = tuple(scripts) if scripts else DEFAULT_SCRIPTS
    bundle = Path(workdir) / "bundle"
    if "serve" in chosen and "serve" not in script_args and (bundle / "manifest.json").exists():
        script_args["serve"] = ("--bundle", str(bundle))  # time this run's own winners
    stray = sorted(set(script_args) - set(chosen))
    if stray:
        raise ValueError(f"--arg: {stray} are not among the benchmarks run {list(chosen)}")
    unknown = [s for s in chosen if not (bench_dir / f"{s}.py").exists()]
    if unknown and scripts:
        have = sorted(p.stem for p in bench_dir.glob("*.py") if not p.stem.startswith("_"))
        raise ValueError(f"--scripts: no benchmark named {unknown} in {bench_dir}; have {have}")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / "benchmarks.json"
    previous = json.loads(out.read_text()) if out.exists() else {}
    results = dict(previous.get("scripts") or {})
    for i, name in enumerate(chosen):
        if progress:
            progress(name, i, len(chosen))
        cmd = [sys.executable, str(bench_dir / f"{name}.py"), *script_args.get(name, ())]
        shown = "python " + " ".join(shlex.quote(c) for c in cmd[1:])
        started = time.perf_counter()
        entry: dict = {"command": shown}
        if name in unknown:
            results[name] = {**entry, "error": f"benchmarks/{name}.py is not in this checkout"}
            continue
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
            entry["wall_seconds"] = round(time.perf_counter() - started, 3)
            if proc.returncode != 0:
                tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
                entry["error"] = f"exit {proc.returncode}: " + " | ".join(tail)
            else:
                entry["result"] = parse_last_json_line(proc.stdout)
        except subprocess.TimeoutExpired:
            entry["error"] = f"timed out after {timeout_s:.0f} s"
        except ValueError as exc:
            entry["error"] = str(exc)
        entry["finished_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        results[name] = entry
    if progress:
        progress("done", len(chosen), len(chosen))
    record = {"machine": machine_info(), "scripts": results}
    out.write_text(json.dumps(record, indent=1))
    return out
