"""The bundle's ``manifest.json``: what is in the directory and how to trust it.

Read by the server (numpy-free: the standard library and pydantic, which the serving install
has through FastAPI), so the reading and checking half lives here beside the writing half and
both agree on one format.

What :func:`read_manifest` refuses, each with a message naming the file or field:
- a manifest over :data:`MAX_MANIFEST_BYTES` (4 MiB; an exported one is ~20-30 kB) or nested
  deeper than :data:`MAX_JSON_DEPTH` levels;
- a wrong shape (:class:`ManifestModel`: ``files`` an object of sha256 hex digests, ``heads`` an
  object of ``{"file", "output", ...}`` objects, and so on);
- a path that leaves the bundle: absolute, with ``..``, or a symlink resolving outside it;
- with ``verify`` (the default): a listed file missing or changed, or a file in the directory
  that the manifest does not list (the bundle was changed after export).

Files a desktop writes when a person opens the folder (:func:`is_desktop_file`: ``.DS_Store``,
``Thumbs.db``, ``desktop.ini``, ``._*`` AppleDouble files) are neither listed by an export nor
refused by a check: they are skipped with a WARNING log line naming them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from arbscore.schema import HOLD_GRID_HOURS

log = logging.getLogger(__name__)

MANIFEST_FILE = "manifest.json"
#: file names a desktop writes into any folder a person opens (Finder, Explorer)
DESKTOP_FILE_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
#: the prefix of macOS AppleDouble files (``._model.onnx`` beside ``model.onnx`` on non-HFS disks)
APPLEDOUBLE_PREFIX = "._"
FORMAT = "arbscore-bundle"
BUNDLE_VERSION = 1
#: the largest manifest.json read (bytes); `/models` returns it, so it bounds that answer too
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
#: the deepest nesting of arrays/objects accepted in manifest.json (an exported one has 5)
MAX_JSON_DEPTH = 64
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

_Name = Annotated[str, StringConstraints(min_length=1, max_length=512)]
_Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class HeadEntry(BaseModel):
    """One head: the graph file and its output name (other keys, e.g. ``family``, are kept)."""

    model_config = ConfigDict(extra="allow", strict=True)

    file: _Name
    output: _Name | None = None
    family: str | None = None


class ManifestModel(BaseModel):
    """The shape :func:`read_manifest` checks. Keys beyond these (metrics, coreml, fees, ...)
    are kept as they are: other stages add their own sections."""

    model_config = ConfigDict(extra="allow", strict=True)

    format: Literal["arbscore-bundle"]
    bundle_version: int
    model_version: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    created_at: str
    feature_spec: dict[str, Any]
    feature_names: list[_Name] = Field(min_length=1)
    heads: dict[str, HeadEntry]
    files: dict[_Name, _Sha256]


@dataclass(frozen=True)
class BundleTerms:
    """The terms a bundle was trained under, as the server and ops read them from the manifest.

    ``hold_grid_hours``: the holds the labels were simulated at (manifest ``"hold_grid_hours"``);
    the served hold is clipped to its range and ``hold_hours`` is refused beyond its largest.
    A bundle exported before the key existed was trained on :data:`arbscore.schema.HOLD_GRID_HOURS`
    (the only grid then): that default is used and ``source`` says so."""

    hold_grid_hours: tuple[float, ...] = tuple(float(h) for h in HOLD_GRID_HOURS)
    source: str = "manifest"

    def __post_init__(self) -> None:
        grid = self.hold_grid_hours
        if not grid or any(not (isinstance(h, (int, float)) and 0 < h < 1e6) for h in grid):
            raise ValueError(f"manifest hold_grid_hours {list(grid)}: expected positive hours")
        if list(grid) != sorted(set(grid)):
            raise ValueError(f"manifest hold_grid_hours {list(grid)}: expected rising, unique")

    @property
    def max_hold_hours(self) -> float:
        return float(self.hold_grid_hours[-1])

    @property
    def served_hold_range(self) -> tuple[float, float]:
        """(lowest, highest) hold the profit and success heads are evaluated at."""
        return float(self.hold_grid_hours[0]), float(self.hold_grid_hours[-1])

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any]) -> BundleTerms:
        grid = manifest.get("hold_grid_hours")
        if grid is None:
            return cls(source="default: the bundle predates hold_grid_hours")
        if not isinstance(grid, list) or any(isinstance(h, bool) for h in grid):
            raise ValueError(f"manifest hold_grid_hours {grid!r}: expected a list of hours")
        return cls(tuple(float(h) for h in grid))


def sha256_file(path: Path) -> str:
    """Hex sha256 of one file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_desktop_file(rel: str) -> bool:
    """Whether the posix relative path ``rel`` names a file a desktop writes on its own."""
    name = PurePosixPath(rel).name
    return name in DESKTOP_FILE_NAMES or name.startswith(APPLEDOUBLE_PREFIX)


def desktop_files(root: Path) -> list[str]:
    """The desktop-written files under ``root`` (:func:`is_desktop_file`), sorted."""
    return [
        p.relative_to(root).as_posix()
        for p in sorted(root.rglob("*"))
        if p.is_file() and is_desktop_file(p.relative_to(root).as_posix())
    ]


def _bundle_files(root: Path) -> list[str]:
    """Every file under ``root`` except the manifest and desktop-written files, as sorted posix
    relative paths."""
    return [
        rel
        for rel in (p.relative_to(root).as_posix() for p in sorted(root.rglob("*")) if p.is_file())
        if rel != MANIFEST_FILE and not is_desktop_file(rel)
    ]


def file_hashes(bundle_dir: Path) -> dict[str, str]:
    """sha256 of every file under ``bundle_dir`` except the manifest (posix relative paths)."""
    root = Path(bundle_dir)
    return {rel: sha256_file(root / rel) for rel in _bundle_files(root)}


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


# a JSON string (with an optional trailing colon: then it is a key) or one bracket
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"\s*:?|[\[\]{}]')


def nesting_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> str | None:
    """The top-level key under which ``text`` nests deeper than ``limit`` (``"(top level)"``
    outside any key), or None. A scan of brackets outside strings: no recursion, so it is
    safe on input that would exhaust ``json.loads``'s stack."""
    depth, key = 0, "(top level)"
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token[0] == '"':
            if depth == 1 and token.endswith(":"):
                key = token.rstrip(":").strip()[1:-1]
            continue
        depth += 1 if token in "[{" else -1
        if depth > limit:
            return key
    return None


def _shape_errors(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors()[:5]:
        loc = ".".join(str(p) for p in e["loc"]) or "(top level)"
        parts.append(f"field {loc}: {e['msg']}")
    more = len(exc.errors()) - 5
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _inside(root: Path, resolved_root: Path, rel: str, what: str) -> Path:
    """``root / rel`` when it stays inside the bundle; ValueError naming ``what`` otherwise."""
    posix = PurePosixPath(rel)
    if (
        "\\" in rel
        or posix.is_absolute()
        or ".." in posix.parts
        or re.match(r"^[A-Za-z]:", rel)
        or rel in ("", ".")
    ):
        raise ValueError(
            f"bundle {root}: {what} {rel!r} is not a path inside the bundle; manifest paths "
            "are relative, without '..' (re-export the bundle)"
        )
    path = root / posix
    if not path.resolve().is_relative_to(resolved_root):
        raise ValueError(
            f"bundle {root}: {what} {rel!r} is a symlink leading outside the bundle; copy the "
            "file into the bundle (re-export it)"
        )
    return path


def read_manifest(bundle_dir: Path, *, verify: bool = True) -> dict[str, Any]:
    """Load and check a bundle's manifest (what is refused: the module docstring).

    Raises ValueError (a bad bundle) naming the problem and, where there is one, the field:
    no manifest, over the size or depth limit, a wrong shape, unknown format or version, a path
    outside the bundle, a head pointing at an unlisted file; with ``verify`` also a listed file
    absent or with a different sha256, and files present but not listed.
    """
    root = Path(bundle_dir)
    path = root / MANIFEST_FILE
    if not root.is_dir():
        raise ValueError(f"bundle {root}: not a directory; export one with `arbscore export`")
    if not path.is_file():
        raise ValueError(f"bundle {root}: no {MANIFEST_FILE}; export one with `arbscore export`")
    size = path.stat().st_size
    if size > MAX_MANIFEST_BYTES:
        raise ValueError(
            f"bundle {root}: {MANIFEST_FILE} is {size} bytes, over the limit of "
            f"{MAX_MANIFEST_BYTES}; an exported manifest is a few tens of kB (re-export)"
        )
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"bundle {root}: {MANIFEST_FILE} is not UTF-8 text") from exc
    deep = nesting_too_deep(text)
    if deep is not None:
        raise ValueError(
            f"bundle {root}: {MANIFEST_FILE} field {deep} nests deeper than {MAX_JSON_DEPTH} levels"
        )
    try:
        manifest = json.loads(text)
    except (json.JSONDecodeError, ValueError, RecursionError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "unreadable numbers"
        raise ValueError(f"bundle {root}: {MANIFEST_FILE} is not valid JSON ({reason})") from exc
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
    try:
        ManifestModel.model_validate(manifest)
    except ValidationError as exc:
        raise ValueError(f"bundle {root}: {MANIFEST_FILE} {_shape_errors(exc)}") from exc
    resolved = root.resolve()
    for rel in manifest["files"]:
        _inside(root, resolved, rel, "file")
    for head, entry in manifest["heads"].items():
        if entry["file"] not in manifest["files"]:
            raise ValueError(
                f"bundle {root}: head {head!r} file {entry['file']!r} is not "
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
        ignored = [rel for rel in desktop_files(root) if rel not in manifest["files"]]
        if ignored:
            log.warning(
                "bundle %s: ignoring files a desktop wrote (not part of the bundle): %s",
                root,
                ", ".join(ignored),
            )
        unlisted = [rel for rel in _bundle_files(root) if rel not in manifest["files"]]
        if unlisted:
            shown = ", ".join(unlisted[:5]) + (
                f" and {len(unlisted) - 5} more" if len(unlisted) > 5 else ""
            )
            raise ValueError(
                f"bundle {root}: files not listed in the manifest: {shown}; the bundle was "
                "changed after export (remove them or re-export)"
            )
    return manifest
