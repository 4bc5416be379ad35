"""Helpers of the serve tests (a module with a unique name, importable from the test files)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

GOLDEN = Path(__file__).parents[1] / "export" / "golden"
MAX_BATCH = 50
MAX_BODY = 64 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def arbscore_cmd() -> list[str]:
    script = Path(sys.executable).parent / "arbscore"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from arbscore.cli import main; main()"]


def copy_bundle(dest: Path, model_version: str | None = None) -> Path:
    """Copy the golden bundle; optionally give it another model_version (the manifest is not
    among the checksummed files, so it stays a valid bundle)."""
    shutil.copytree(GOLDEN / "bundle", dest)
    if model_version:
        set_version(dest, model_version)
    return dest


def set_version(bundle: Path, model_version: str) -> None:
    path = bundle / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["model_version"] = model_version
    path.write_text(json.dumps(manifest, indent=2))


@dataclass
class Server:
    url: str
    proc: subprocess.Popen
    bundle: Path
    tmp: Path
    max_batch: int = MAX_BATCH
    max_body: int = MAX_BODY
