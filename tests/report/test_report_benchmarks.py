"""`arbscore benchmark`'s collector: real subprocesses, last-line JSON, failures recorded."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from report_fixture import make_run_dir

from arbscore.report import build_report
from arbscore.report.benchmarks import parse_last_json_line, run_benchmarks


def _scripts(tmp: Path) -> Path:
    bench = tmp / "benchmarks"
    bench.mkdir()
    (bench / "fast.py").write_text(
        textwrap.dedent("""
        import json, time
        t = time.perf_counter(); s = sum(i * i for i in range(200000))
        print("warming up")
        print(json.dumps({"rows": 200000, "seconds": time.perf_counter() - t, "checksum": s}))
    """)
    )
    (bench / "broken.py").write_text("import sys\nprint('partial')\nsys.exit(3)\n")
    (bench / "chatty.py").write_text("print('no json here')\n")
    return bench


def test_benchmarks_json_and_report_section(tmp_path):
    workdir = tmp_path / "run"
    make_run_dir(workdir)
    bench = _scripts(tmp_path)
    out = run_benchmarks(workdir, scripts=("fast", "broken", "chatty"), bench_dir=bench)
    record = json.loads(out.read_text())
    fast = record["scripts"]["fast"]
    assert fast["result"]["rows"] == 200000 and fast["result"]["checksum"] == sum(
        i * i for i in range(200000)
    )
    assert "exit 3" in record["scripts"]["broken"]["error"]
    assert "not JSON" in record["scripts"]["chatty"]["error"]
    assert record["machine"]["cpus"] >= 1

    page = build_report(workdir)[0].read_text()
    assert 'data-table="benchmark-fast"' in page
    seconds = fast["result"]["seconds"]
    assert 'data-strategy="fast" data-head="benchmark" data-metric="seconds"' in page
    assert f'data-value="{seconds!r}"' in page
    assert "broken: failed (exit 3" in page

    # re-running one script keeps the others' figures
    run_benchmarks(workdir, scripts=("fast",), bench_dir=bench)
    again = json.loads(out.read_text())["scripts"]
    assert set(again) == {"fast", "broken", "chatty"}


def test_unknown_benchmark_is_named(tmp_path):
    bench = _scripts(tmp_path)
    with pytest.raises(ValueError, match="nope"):
        run_benchmarks(tmp_path / "w", scripts=("nope",), bench_dir=bench)


def test_last_line_parser():
    assert parse_last_json_line('log\n{"a": 1}\n\n') == {"a": 1}
    with pytest.raises(ValueError, match="not an object"):
        parse_last_json_line("[1, 2]")
    with pytest.raises(ValueError, match="nothing"):
        parse_last_json_line("\n")
