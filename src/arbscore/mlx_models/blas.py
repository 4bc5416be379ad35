"""The fast BLAS path for MLX on Linux, and a one-line description of the compute device.

``mlx[cpu]`` wheels on Linux bundle a reference BLAS; matrix products with OpenBLAS are about ten
times faster. The bundled library cannot be swapped after ``libmlx`` is loaded, so the CLI calls
:func:`ensure_fast_blas` first thing: when Debian/Ubuntu's OpenBLAS is installed
(``libopenblas0-pthread``) and not yet preloaded it re-executes the same command with
``LD_PRELOAD`` pointing at it; the dynamic loader then binds MLX's BLAS symbols to OpenBLAS.
This module must not import mlx at module level (it runs before anything imports mlx).

Opt out with ``ARBSCORE_NO_BLAS_PRELOAD=1``. ``ARBSCORE_BLAS_REEXEC`` marks the re-executed
process so a failing preload can never loop.
"""

from __future__ import annotations

import ctypes.util
import os
import platform
import sys
from pathlib import Path

OPT_OUT_ENV = "ARBSCORE_NO_BLAS_PRELOAD"
GUARD_ENV = "ARBSCORE_BLAS_REEXEC"


def openblas_candidates() -> list[Path]:
    """Where Debian/Ubuntu, Fedora and generic installs put the OpenBLAS shared library."""
    arch = platform.machine()
    multiarch = {"x86_64": "x86_64-linux-gnu", "aarch64": "aarch64-linux-gnu"}.get(arch, "")
    dirs = []
    if multiarch:
        dirs += [f"/usr/lib/{multiarch}/openblas-pthread", f"/usr/lib/{multiarch}"]
    dirs += ["/usr/lib64", "/usr/lib", "/usr/local/lib"]
    return [Path(d) / name for d in dirs for name in ("libopenblas.so.0", "libopenblas.so")]


def find_openblas() -> Path | None:
    """The first OpenBLAS shared library on this machine, or None."""
    for path in openblas_candidates():
        if path.is_file():
            return path.resolve()
    found = ctypes.util.find_library("openblas")
    if found:
        for directory in ("/usr/lib64", "/usr/lib", "/usr/local/lib"):
            path = Path(directory) / found
            if path.is_file():
                return path.resolve()
    return None


def _preloaded(env: dict[str, str] | os._Environ[str]) -> bool:
    return "openblas" in env.get("LD_PRELOAD", "").lower()


def _launched_as_arbscore(argv: list[str]) -> bool:
    """True for ``arbscore ...`` and ``python -m arbscore...``; never for pytest or notebooks."""
    if len(argv) >= 2 and Path(argv[1]).name.startswith("arbscore"):
        return True  # console script run by the interpreter: [python, .../bin/arbscore, ...]
    if "-m" in argv:
        i = argv.index("-m")
        return i + 1 < len(argv) and argv[i + 1].split(".")[0] == "arbscore"
    return False


def reexec_command(
    env: dict[str, str] | os._Environ[str], argv: list[str], system: str
) -> tuple[list[str], dict[str, str]] | None:
    """The (argv, env) to re-execute with OpenBLAS preloaded, or None when nothing to do.

    Pure apart from looking for the library file, so the decision is testable without exec.
    """
    if system != "Linux" or env.get(OPT_OUT_ENV, "") not in ("", "0"):
        return None
    if env.get(GUARD_ENV) or _preloaded(env) or not _launched_as_arbscore(argv):
        return None
    lib = find_openblas()
    if lib is None:
        return None
    new_env = dict(env)
    new_env["LD_PRELOAD"] = ":".join(p for p in (str(lib), env.get("LD_PRELOAD", "")) if p)
    new_env[GUARD_ENV] = "1"
    return [sys.executable, *argv[1:]], new_env


def ensure_fast_blas() -> None:
    """Re-exec the current ``arbscore`` command with OpenBLAS preloaded when that helps.

    Call before anything imports mlx. Does nothing off Linux, without OpenBLAS, when already
    preloaded, when opted out, or when the process is not the ``arbscore`` command.
    """
    argv = list(getattr(sys, "orig_argv", sys.argv))
    plan = reexec_command(os.environ, argv, platform.system())
    if plan is None:
        return
    new_argv, new_env = plan
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(sys.executable, new_argv, new_env)
    except OSError:
        return  # could not re-exec: carry on with the bundled BLAS


def loaded_blas() -> str:
    """Which BLAS this process uses for MLX: 'openblas (preloaded)', 'accelerate' or 'bundled'."""
    if sys.platform == "darwin":
        return "accelerate"
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        maps = ""
    if "libopenblas" in maps and _preloaded(os.environ):
        return "openblas (preloaded)"
    if "libopenblas" in maps:
        return "openblas"
    return "bundled"


def describe_device() -> dict[str, str]:
    """{"device": "gpu"|"cpu", "blas": ...} for the device MLX computes on right now."""
    import mlx.core as mx

    device = "gpu" if mx.default_device().type == mx.gpu else "cpu"
    return {"device": device, "blas": loaded_blas(), "mlx": mx.__version__}


if __name__ == "__main__":  # `python -m arbscore.mlx_models.blas`: show what MLX would use
    import json

    ensure_fast_blas()
    print(json.dumps(describe_device()))
