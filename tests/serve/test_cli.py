"""`arbscore serve` / `arbscore export` refuse bad input with exit 2 and a message."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import httpx
from serve_helpers import GOLDEN, arbscore_cmd, free_port, start_serve, stop_serve


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "500"}  # rich wraps long messages at the terminal width
    return subprocess.run(
        [*arbscore_cmd(), *args], capture_output=True, text=True, timeout=120, env=env
    )


def test_serve_refuses_a_missing_bundle(tmp_path):
    r = _run("serve", "--bundle", str(tmp_path / "nope"), "--port", str(free_port()))
    assert r.returncode == 2
    assert "not a directory" in r.stderr and "Traceback" not in r.stderr


def test_serve_refuses_a_tampered_bundle(tmp_path):
    bundle = tmp_path / "b"
    shutil.copytree(GOLDEN / "bundle", bundle)
    manifest = json.loads((bundle / "manifest.json").read_text())
    victim = bundle / manifest["heads"]["success"]["file"]
    victim.write_bytes(victim.read_bytes() + b"\0")
    r = _run("serve", "--bundle", str(bundle), "--port", str(free_port()))
    assert r.returncode == 2
    assert "checksum mismatch" in r.stderr and "Traceback" not in r.stderr


def test_export_refuses_a_run_without_models(tmp_path):
    r = _run("export", "--from", str(tmp_path), "--out", str(tmp_path / "bundle"))
    assert r.returncode == 2
    assert "no models/ directory" in r.stderr and "Traceback" not in r.stderr
    r = _run("export", "--from", str(tmp_path), "--out", str(tmp_path / "b"), "--family", "profit")
    assert r.returncode == 2 and "HEAD=FAMILY" in r.stderr


def test_export_from_a_run_directory_with_coreml(tmp_path):
    from arbscore.export.demo import fit_demo_families

    families, spec, _ = fit_demo_families(("xgboost", "lightgbm"), n_opportunities=150, seed=1)
    run = tmp_path / "run"
    for name, family in families.items():
        family.save(run / "models" / name)
    spec.save(run / "models" / "feature_spec.json")
    winner = {"profit": "xgboost", "success": "lightgbm", "duration": "xgboost"}
    (run / "metrics.json").write_text(json.dumps({"winner": winner}))
    r = _run("export", "--from", str(run), "--out", str(tmp_path / "bundle"), "--coreml")
    assert r.returncode == 0, r.stderr
    assert "profit.xgboost.mlmodel" in r.stdout and "no Core ML converter" in r.stdout
    manifest = json.loads((tmp_path / "bundle" / "manifest.json").read_text())
    assert {h: e["family"] for h, e in manifest["heads"].items()} == winner
    assert "profit.xgboost.mlmodel" in manifest["files"]


def test_serve_ignores_desktop_files_and_still_refuses_other_unlisted_ones(tmp_path):
    """A `.DS_Store`, `Thumbs.db` or `._*` AppleDouble file (written by Finder or Explorer when a
    person opens the folder) is skipped with a log line; any other unlisted file is refused."""
    bundle = tmp_path / "b"
    shutil.copytree(GOLDEN / "bundle", bundle)
    for name in (".DS_Store", "Thumbs.db", "._manifest.json"):
        (bundle / name).write_bytes(b"\0\1desktop")
    server = start_serve(tmp_path, bundle, [])
    try:
        assert httpx.get(server.url + "/health", timeout=5).status_code == 200
    finally:
        stop_serve(server)
    logged = "".join(p.read_text() for p in tmp_path.glob("server-*.log"))
    assert "ignoring files a desktop wrote" in logged
    assert ".DS_Store" in logged and "Thumbs.db" in logged and "._manifest.json" in logged
    (bundle / "notes.txt").write_text("mine")
    r = _run("serve", "--bundle", str(bundle), "--port", str(free_port()))
    assert r.returncode == 2
    assert "files not listed in the manifest: notes.txt" in r.stderr
    assert ".DS_Store" not in r.stderr.split("not listed")[1]
