"""The bundle's ``manifest.json``: what is in the directory and how to trust it.

Read by the server with the standard library only (no training imports), so the reading and
checking half lives here beside the writing half and both agree on one format.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

MANIFEST_FILE = "manifest.json"
FORMAT = "arbscore-bundle"
BUNDLE_VERSION = 1
REQUIRED_KEYS = (
    "format",
    "bundle_version",
    "model_version",
    "created_at",
    "feature_spec",
    "feature_names",
    "heads",
    "files",
)


def sha256_file(path: Path) -> str:
    """Hex sha256 of one file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_hashes(bundle_dir: Path) -> dict[str, str]:
    """sha256 of every file under ``bundle_dir`` except the manifest (posix relative paths)."""
    root = Path(bundle_dir)
    return {
        p.relative_to(root).as_posix(): sha256_file(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).as_posix() != MANIFEST_FILE
    }


def finite_json(value: Any) -> Any:
    """``value`` with NaN/inf floats replaced by None: strict JSON parsers (browsers, Node,
    C#, the server's own responses) reject NaN, and a metric can be undefined on a fold."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_json(v) for v in value]
    return value


def write_manifest(bundle_dir: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Add the file hashes and write ``manifest.json`` (strict JSON); return the manifest."""
    full = finite_json({**manifest, "files": file_hashes(bundle_dir)})
    (Path(bundle_dir) / MANIFEST_FILE).write_text(
        json.dumps(full, indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    return full


def read_manifest(bundle_dir: Path, *, verify: bool = True) -> dict[str, Any]:
    """Load and check a bundle's manifest.

    Raises ValueError (a bad bundle) naming the problem: no manifest, unknown format or version,
    missing keys, a listed file absent or with a different sha256, a head pointing at an unlisted
    file.
    """
    root = Path(bundle_dir)
    path = root / MANIFEST_FILE
    if not root.is_dir():
        raise ValueError(f"bundle {root}: not a directory; export one with `arbscore export`")
    if not path.is_file():
        raise ValueError(f"bundle {root}: no {MANIFEST_FILE}; export one with `arbscore export`")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"bundle {root}: {MANIFEST_FILE} is not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ValueError(f"bundle {root}: {MANIFEST_FILE} format is not {FORMAT!r}")
    missing = [k for k in REQUIRED_KEYS if k not in manifest]
    if missing:
        raise ValueError(f"bundle {root}: {MANIFEST_FILE} lacks keys {missing}")
    if manifest["bundle_version"] != BUNDLE_VERSION:
        raise ValueError(
            f"bundle {root}: bundle_version {manifest['bundle_version']!r}, this "
            f"arbscore reads version {BUNDLE_VERSION}; re-export the bundle"
        )
    for head, entry in manifest["heads"].items():
        if entry.get("file") not in manifest["files"]:
            raise ValueError(
                f"bundle {root}: head {head!r} file {entry.get('file')!r} is not "
                "listed in the manifest's files"
            )
    if verify:
        for rel, expected in manifest["files"].items():
            file = root / rel
            if not file.is_file():
                raise ValueError(f"bundle {root}: file {rel} listed in the manifest is missing")
            actual = sha256_file(file)
            if actual != expected:
                raise ValueError(
                    f"bundle {root}: checksum mismatch for {rel} (manifest "
                    f"{expected[:12]}..., file {actual[:12]}...); the file was "
                    "changed after export"
                )
    return manifest
