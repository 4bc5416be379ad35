"""The commands README.md and docs/*.md show a user, extracted for the doc-tests.

Every fenced ``bash`` block says, in an HTML comment on the line before it, what the doc-test
does with it (the reader sees nothing):

- ``<!-- doc-test: run -->``: run as written, in the default test run (fast commands only);
- ``<!-- doc-test: slow -->``: run as written after README command 1, with ``pytest -m slow``;
- ``<!-- doc-test: synopsis -->``: a usage line with placeholders: its options are checked;
- ``<!-- doc-test: skip REASON -->``: not run here, for the reason given (e.g. PostgreSQL);
- ``<!-- doc-test: config FILE -->`` (any language): the block is a file the commands after it
  use; the test writes it as FILE in the workspace first.

Every ``arbscore`` command anywhere (fenced blocks, unit files, cron lines, inline code in the
prose) is also checked against the command itself: the verb exists and every option it names
is one of that verb's visible options (a renamed option kept hidden for one release is not
what the docs should teach).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
MARKER = re.compile(r"<!--\s*doc-test:\s*(run|slow|synopsis|skip|config)\b\s*(.*?)\s*-->\s*$")
INLINE = re.compile(r"`((?:\.venv/bin/)?arbscore [^`]+)`")
ARBSCORE = re.compile(r"(?:^|[\s/=;(])arbscore(?=\s)(.*)$")
SHELLS = ("bash", "sh", "shell", "console")


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its language, its doc-test marker and its commands."""

    path: Path
    line: int
    language: str
    mode: str | None  # run | slow | synopsis | skip | config | None (no marker)
    reason: str
    commands: tuple[str, ...]
    text: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def commands_of(body: str) -> tuple[str, ...]:
    """The block's command lines: ``\\`` continuations joined, comments and blanks dropped."""
    joined = re.sub(r"\\\n\s*", " ", body)
    out = []
    for line in joined.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        if line:
            out.append(line)
    return tuple(out)


def blocks(paths: tuple[Path, ...] = DOCS) -> list[Block]:
    """Every fenced block of the docs, with the marker on the line before it."""
    found = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        for m in FENCE.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            before = text[: m.start()].rstrip("\n").rsplit("\n", 1)[-1]
            marker = MARKER.search(before)
            found.append(
                Block(
                    path=path,
                    line=line,
                    language=m.group(1).lower(),
                    mode=marker.group(1) if marker else None,
                    reason=marker.group(2) if marker else "",
                    commands=commands_of(m.group(2)),
                    text=m.group(2),
                )
            )
    return found


def arbscore_commands(paths: tuple[Path, ...] = DOCS) -> list[tuple[str, str]]:
    """(where, the ``arbscore ...`` part) of every command in blocks and inline code."""
    out = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        spans = [(m.start(), m.group(2)) for m in FENCE.finditer(text)]
        for start, body in spans:
            line = text.count("\n", 0, start) + 1
            for command in commands_of(body):
                m = ARBSCORE.search(command)
                if m and not command.startswith(("from ", "import ", "Description=")):
                    out.append((f"{path.relative_to(ROOT)}:{line}", "arbscore" + m.group(1)))
        prose = FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
        for m in INLINE.finditer(prose):
            line = prose.count("\n", 0, m.start()) + 1
            command = m.group(1).removeprefix(".venv/bin/")
            out.append((f"{path.relative_to(ROOT)}:{line}", command))
    return out


def option_problems(command: str) -> list[str]:
    """What in ``command`` the real CLI would not accept: an unknown verb, or an option that
    verb does not have (or hides). Placeholders (BUNDLE, [--flag], a|b) are fine."""
    import typer

    from arbscore.cli import app

    group = typer.main.get_command(app)
    words = re.split(r"\s+", command.replace("\\|", "|").strip())[1:]
    cmd, path, problems = group, ["arbscore"], []
    options_seen: list[tuple[object, str, list[str]]] = []
    for word in words:
        word = word.strip("[]()")
        if not word or word in ("...", "|", "&&", ";", ">", ">>", "2>&1"):
            if word in ("|", "&&", ";"):
                break  # the next command is not arbscore's
            continue
        if word.startswith("--"):
            options_seen.append((cmd, word.split("=", 1)[0], list(path)))
            continue
        if re.fullmatch(r"[A-Z][A-Z_]*", word) and len(path) == 1:
            return problems  # a placeholder verb (arbscore --log-level INFO VERB ...)
        if hasattr(cmd, "commands") and re.fullmatch(r"[a-z][a-z-]*", word):
            sub = cmd.commands.get(word)
            if sub is None and not cmd.params:  # a group with no such verb
                problems.append(f"{' '.join(path)}: no verb {word!r}")
                break
            if sub is not None:
                cmd, path = sub, [*path, word]
                continue
    for owner, option, where in options_seen:
        visible = {
            opt
            for param in owner.params
            if not getattr(param, "hidden", False)
            for opt in (*param.opts, *param.secondary_opts)
        }
        name = option.split("/")[0]
        if name not in visible and name not in ("--help",):
            problems.append(f"{' '.join(where)}: no option {name}")
    if len(path) == 1:
        problems.append("no verb named")
    return problems


def workspace(where: Path) -> dict[str, str]:
    """A directory laid out as after README command 1's install: ``.venv/bin/arbscore`` and
    ``.venv/bin/python`` are this interpreter's (the environment the tests run in is the
    install), first on PATH so a bare ``arbscore`` is the same. Returns the environment."""
    import os
    import stat
    import sys

    bin_dir = where / ".venv" / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    (bin_dir / "python").symlink_to(sys.executable)
    script = bin_dir / "arbscore"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m arbscore "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}


INSTALL = re.compile(r"^bash scripts/install\.sh(?: --\w+)*\s*(?:&&\s*)?")
SERVE = re.compile(r"(?:^|\s|/)arbscore serve\b.*--port (\d+)")


def run_block(block: Block, where: Path, env: dict[str, str], timeout_s: float) -> list[str]:
    """Run the block's commands in order, as written, in ``where``: a ``serve`` runs in the
    background until the block ends (the next commands talk to it); README command 1's
    ``bash scripts/install.sh &&`` is the environment already. Returns each command's output;
    a command that fails raises AssertionError with its output."""
    import subprocess
    import time
    import urllib.request

    outputs, servers = [], []
    try:
        for command in block.commands:
            command = INSTALL.sub("", command)
            if not command:
                continue
            serve = SERVE.search(command)
            if serve:
                log = open(where / f"serve-{serve.group(1)}.log", "wb")  # noqa: SIM115
                proc = subprocess.Popen(  # its own process group: the shell and the server
                    command,
                    shell=True,
                    cwd=where,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
                servers.append(proc)
                url = f"http://127.0.0.1:{serve.group(1)}/health"
                deadline = time.monotonic() + 120
                while True:
                    try:
                        with urllib.request.urlopen(url, timeout=1):
                            break
                    except OSError:
                        assert proc.poll() is None and time.monotonic() < deadline, (
                            f"{block.where}: `{command}` did not start: "
                            f"{(where / f'serve-{serve.group(1)}.log').read_text()}"
                        )
                        time.sleep(0.3)
                continue
            result = subprocess.run(
                command,
                shell=True,
                cwd=where,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout_s,
            )
            assert result.returncode == 0, (
                f"{block.where}: `{command}` exited {result.returncode}\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
            outputs.append(result.stdout)
    finally:
        for proc in servers:  # the whole group: terminating the shell alone left the server
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
            _wait_group_gone(proc.pid, timeout_s=30)
    return outputs


def _wait_group_gone(pgid: int, timeout_s: float) -> None:
    """Wait until no process of group ``pgid`` is left (a server drains before it exits); kill
    what is left after ``timeout_s``."""
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
