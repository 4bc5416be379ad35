"""Write an output directory whole or not at all: build it in a hidden sibling, swap it in.

``arbscore export --out DIR`` and ``arbscore score --out DIR`` write many files; a process
killed half-way used to leave DIR with some of them (a smaller result that reads as complete),
and a re-run first deleted whatever DIR held. :func:`staged` instead yields a fresh sibling
``DIR/../.DIR.<what>-XXXX`` (same file system, so the final rename is atomic) and, only when
the block finishes, swaps it in for DIR: on Linux with one ``renameat2(RENAME_EXCHANGE)`` (a
reader sees the old DIR or the new one, never neither), elsewhere with two renames. A failure
or an exception removes the sibling; a kill leaves only the hidden sibling, never a partial DIR.

What may be replaced is the caller's call (``replaceable``): an existing DIR that is neither
empty nor of the kind being written is refused, so ``--out`` naming a run directory or a
dataset never deletes it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from arbscore.export.manifest import MANIFEST_FILE, is_desktop_file, read_manifest

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2); False where the call is unavailable."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):  # glibc < 2.28, musl without it
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    renameat2.restype = ctypes.c_int
    rc = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: this file system cannot exchange
        return False
    raise OSError(err, os.strerror(err), str(b))


def check_replaceable(
    dest: Path, replaceable: Callable[[Path], bool], option: str, kind: str
) -> None:
    """ValueError unless ``dest`` is absent, an empty directory, or one ``replaceable`` accepts."""
    if dest.is_symlink():
        raise ValueError(
            f"{option} {dest} is a symlink; give the directory itself (it is replaced whole)"
        )
    if not dest.exists():
        return
    if not dest.is_dir():
        raise ValueError(f"{option} {dest} is a file, not a directory")
    if any(dest.iterdir()) and not replaceable(dest):
        raise ValueError(
            f"{option} {dest} is not empty and not {kind}; it would be replaced whole, so "
            "choose a new or empty directory"
        )


def is_bundle(path: Path) -> bool:
    """Whether ``path`` holds an arbscore bundle and nothing else (what an export may replace)."""
    try:
        manifest = read_manifest(path, verify=False)
    except ValueError:
        return False
    listed = {*manifest["files"], MANIFEST_FILE}
    return all(
        rel in listed or is_desktop_file(rel)
        for rel in (p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())
    )


def swap_in(staged_dir: Path, dest: Path) -> None:
    """Put ``staged_dir`` at ``dest``, removing what ``dest`` held (see the module docstring)."""
    if not dest.exists():
        os.rename(staged_dir, dest)
        return
    if _exchange(staged_dir, dest):
        shutil.rmtree(staged_dir)  # now the old contents
        return
    old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old-", dir=dest.parent))
    os.rename(dest, old / dest.name)
    os.rename(staged_dir, dest)
    shutil.rmtree(old)


@contextmanager
def staged(dest: Path, what: str) -> Iterator[Path]:
    """Yield an empty hidden sibling of ``dest``; swap it in when the block returns, remove it
    when the block raises. Check ``dest`` with :func:`check_replaceable` first."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.{what}-", dir=dest.parent))
    umask = os.umask(0o022)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp's 0700 would hide the result from other users
    try:
        yield tmp
        swap_in(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


__all__ = ["check_replaceable", "is_bundle", "staged", "swap_in"]
