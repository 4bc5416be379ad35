"""`arbscore serve` on a tampered bundle: exit 2 with one line naming the field or file, never
a traceback (the manifest's shape, its size and depth, paths leaving the bundle, unlisted
files), and the flag combinations it refuses."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from serve_helpers import arbscore_cmd, copy_bundle, free_port

from arbscore.export.manifest import MAX_MANIFEST_BYTES

FAKE_SHA = "0" * 64


def _serve(bundle: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "500"}  # rich wraps long messages at the terminal width
    cmd = [*arbscore_cmd(), "serve", "--bundle", str(bundle), "--port", str(free_port()), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)


def _edit(manifest: dict, key: str, value) -> dict:
    return {**manifest, key: value}


def _deep(manifest: dict) -> str:
    text = json.dumps({**manifest, "metrics": "DEEP"})
    return text.replace('"DEEP"', "[" * 100_000 + "]" * 100_000)


def _huge(manifest: dict) -> str:
    return json.dumps({**manifest, "metrics": {"padding": "x" * (MAX_MANIFEST_BYTES + 1)}})


def _files(manifest: dict, extra: dict) -> dict:
    return {**manifest, "files": {**manifest["files"], **extra}}


CASES = {
    "files_null": (lambda m: _edit(m, "files", None), "field files"),
    "heads_list": (lambda m: _edit(m, "heads", ["profit"]), "field heads"),
    "head_string": (
        lambda m: _edit(m, "heads", {**m["heads"], "success": "success.onnx"}),
        "field heads.success",
    ),
    "file_not_sha": (lambda m: _files(m, {"x.onnx": 12}), "field files.x.onnx"),
    "version_string": (lambda m: _edit(m, "model_version", 7), "field model_version"),
    "nested_100000_deep": (_deep, "field metrics nests deeper than 64 levels"),
    "over_size_limit": (_huge, f"over the limit of {MAX_MANIFEST_BYTES}"),
    "parent_path": (
        lambda m: _files(m, {"../../../../etc/passwd": FAKE_SHA}),
        "'../../../../etc/passwd' is not a path inside the bundle",
    ),
    "absolute_path": (
        lambda m: _files(m, {"/etc/passwd": FAKE_SHA}),
        "'/etc/passwd' is not a path inside the bundle",
    ),
    "long_integer": (
        lambda m: json.dumps(m)[:-1] + ', "n": ' + "9" * 5000 + "}",
        "is not valid JSON",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_serve_refuses_a_bad_manifest(tmp_path, case):
    bundle = copy_bundle(tmp_path / "b")
    path = bundle / "manifest.json"
    edit, expected = CASES[case]
    changed = edit(json.loads(path.read_text()))
    path.write_text(changed if isinstance(changed, str) else json.dumps(changed))
    r = _serve(bundle)
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert expected in r.stderr and "Traceback" not in r.stderr, r.stderr[-2000:]


def test_symlink_leaving_the_bundle_is_refused(tmp_path):
    bundle = copy_bundle(tmp_path / "b")
    secret = tmp_path / "secret.txt"
    secret.write_text("not yours")
    (bundle / "extra.onnx").symlink_to(secret)
    path = bundle / "manifest.json"
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps(_files(manifest, {"extra.onnx": FAKE_SHA})))
    r = _serve(bundle)
    assert r.returncode == 2 and "'extra.onnx' is a symlink leading outside" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_unlisted_files_are_refused(tmp_path):
    bundle = copy_bundle(tmp_path / "b")
    (bundle / "sub").mkdir()
    (bundle / "sub" / "dropped.onnx").write_bytes(b"\0")
    r = _serve(bundle)
    assert r.returncode == 2 and "files not listed in the manifest: sub/dropped.onnx" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--workers", "2", "--allow-reload"], "work with one worker only"),
        (["--workers", "0"], "--workers 0"),
        (["--reload-token", "0123456789abcdef"], "need --allow-reload"),
        (["--allow-reload", "--reload-token", "short"], "at least 16 characters"),
        (["--allow-reload", "--reload-root", "/no/such/root"], "not a directory"),
    ],
)
def test_serve_refuses_bad_flag_combinations(tmp_path, args, expected):
    r = _serve(copy_bundle(tmp_path / "b"), *args)
    assert r.returncode == 2 and expected in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
