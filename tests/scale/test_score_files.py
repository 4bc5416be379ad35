"""``arbscore score``'s files: the input is never deleted, a killed run leaves no partial result
that reads as complete, a bundle re-exported to the same path is scored afresh (also on a
long-lived Dask cluster), and holds ``POST /predict`` refuses are refused here too."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from arbscore.cli import app
from arbscore.data_tools import partitioned as part
from arbscore.scale.cluster import Cluster, ClusterSpec
from arbscore.scale.score import dataset_files, score_dataset
from tests.scale.conftest import tiny_config, tiny_market
from tests.serve.serve_helpers import arbscore_cmd, set_version

pytestmark = pytest.mark.timeout(180)
BUNDLE = Path(__file__).resolve().parents[1] / "export" / "golden" / "bundle"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("scoreset") / "ds"
    part.build_partitioned(tiny_market(), tiny_config(), out)
    return out


def _score(data, out, bundle=BUNDLE):
    return CliRunner().invoke(
        app, ["score", "--data", str(data), "--bundle", str(bundle), "--out", str(out)]
    )


def _tree(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in path.rglob("*") if p.is_file()}


def test_out_equal_to_the_input_is_refused_and_the_input_kept(dataset, tmp_path):
    data = tmp_path / "ds"
    shutil.copytree(dataset, data)
    before = _tree(data)
    r = _score(data, data)
    assert r.exit_code == 2 and "--out" in r.output, r.output
    assert _tree(data) == before
    r = _score(data, data / "scores")  # inside the input: refused too
    assert r.exit_code == 2 and _tree(data) == before


def test_a_finished_run_leaves_scores_json_and_replaces_only_its_own_kind(dataset, tmp_path):
    out = tmp_path / "scored"
    assert _score(dataset, out).exit_code == 0
    summary = json.loads((out / "scores.json").read_text())
    rows = sum(len(pd.read_parquet(f)) for f in part.partition_files(dataset))
    assert summary["total_rows"] == rows and len(summary["files"]) == 3
    assert dataset_files(out) == [out / f for f in summary["files"]]
    assert _score(dataset, out).exit_code == 0  # an earlier score output is replaced
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep")
    r = _score(dataset, other)
    assert r.exit_code == 2 and (other / "notes.txt").read_text() == "keep"


def test_a_killed_run_leaves_no_result(dataset, tmp_path):
    many = tmp_path / "many"
    many.mkdir()
    first = part.partition_files(dataset)[0]
    for i in range(400):
        shutil.copy(first, many / f"f{i:04d}.parquet")
    out = tmp_path / "scored"
    cmd = [*arbscore_cmd(), "score", "--data", str(many), "--bundle", str(BUNDLE)]
    proc = subprocess.Popen([*cmd, "--out", str(out)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while not list(tmp_path.glob("*scored*/part-*.parquet")):  # it is writing parts
            assert proc.poll() is None and time.monotonic() < deadline, "finished too soon"
            time.sleep(0.005)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert not out.exists()  # nothing at --out: no smaller result that reads as complete
    with pytest.raises(ValueError, match="--data"):
        dataset_files(out)


def test_a_bundle_re_exported_to_the_same_path_is_scored_afresh(dataset, tmp_path):
    bundle = tmp_path / "bundle"
    shutil.copytree(BUNDLE, bundle)
    set_version(bundle, "first")
    with Cluster(ClusterSpec(workers=1), timeout_s=60) as cluster:
        for where in (None, cluster):
            for version in ("first", "second"):
                set_version(bundle, version)
                out = tmp_path / f"out-{version}-{where is None}"
                files = score_dataset(dataset, bundle, out, cluster=where)
                assert set(pd.read_parquet(files[0])["model_version"]) == {version}


def test_negative_holds_are_refused_as_http_refuses_them(dataset, tmp_path):
    frame = pd.read_parquet(part.partition_files(dataset)[0]).head(20)
    frame["hold_hours"] = -4.0
    frame.to_parquet(tmp_path / "neg.parquet", index=False)
    r = _score(tmp_path / "neg.parquet", tmp_path / "out")
    assert r.exit_code == 2, r.output
    assert "hold_hours" in r.output and "Traceback" not in r.output
