"""Data flows one way: the stage order of docs/architecture.md, checked on every import.

Every module under src/arbscore is parsed with ``ast``; every ``import``/``from ... import`` of
an arbscore module counts, wherever it stands (module top, inside a function, under
``if TYPE_CHECKING``). A module may import modules of its own stage or of earlier stages, never
of a later one; the module graph has no cycles; no source file is over 400 lines.

Only import statements are edges: the package ``__getattr__`` hooks (serve, export, gbdt,
mlx_models, report) use plain ``from`` imports so they are seen. One import by name is left, by
design: ``registry.get_family`` loads a family from its ``module:Class`` string (the built-in
names and a user's own class), which is how the families stage reaches ``gbdt``/``mlx_models``
without importing them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "arbscore"
MAX_LINES = 400

#: lowest first; a module belongs to the stage of the longest prefix that names it (the
#: package root ``arbscore`` itself is base). Keep in step with docs/architecture.md.
STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "base",
        (
            "arbscore",
            "arbscore.errors",
            "arbscore.schema",
            "arbscore.progress",
            "arbscore.calibration",
            "arbscore.conformal",
            "arbscore.composite",
        ),
    ),
    ("data", ("arbscore.data_tools",)),
    ("families", ("arbscore.families", "arbscore.registry")),
    ("models", ("arbscore.gbdt", "arbscore.mlx_models")),
    ("evaluation", ("arbscore.evaluation",)),
    ("final_fit", ("arbscore.final_fit",)),
    ("export", ("arbscore.export",)),
    ("serve", ("arbscore.serve",)),
    ("report", ("arbscore.report",)),
    ("ops", ("arbscore.ops",)),
    ("scale", ("arbscore.scale",)),
    ("pipeline", ("arbscore.pipeline",)),
    ("cli", ("arbscore.cli", "arbscore.__main__")),
)


def module_name(path: Path, src: Path = SRC) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def stage_of(module: str) -> tuple[int, str] | None:
    """(rank, stage name) of a module, or None when no stage names it."""
    best: tuple[int, int, str] | None = None
    for rank, (stage, prefixes) in enumerate(STAGES):
        for prefix in prefixes:
            # the root ``arbscore`` names only itself, not the whole package
            inside = prefix != "arbscore" and module.startswith(prefix + ".")
            if (module == prefix or inside) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), rank, stage)
    return None if best is None else (best[1], best[2])


def _resolve_relative(module: str, is_package: bool, level: int, name: str | None) -> str:
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, name] if name else base)


def imports_of(path: Path, modules: set[str], src: Path = SRC) -> Iterable[tuple[int, str, str]]:
    """(line, imported arbscore module, the statement as written) for every import in a file.

    ``from a.b import c`` names the module ``a.b.c`` when that is a module, else ``a.b``."""
    me = module_name(path, src)
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "arbscore":
                    yield node.lineno, alias.name, f"import {alias.name}"
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                target = _resolve_relative(me, path.name == "__init__.py", node.level, node.module)
                written = "." * node.level + (node.module or "")
            else:
                target = written = node.module or ""
            if target.split(".")[0] != "arbscore":
                continue
            names = ", ".join(a.name for a in node.names)
            statement = f"from {written} import {names}"
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                yield node.lineno, sub if sub in modules else target, statement


def module_files(package: Path = PACKAGE, src: Path = SRC) -> dict[str, Path]:
    return {module_name(p, src): p for p in sorted(package.rglob("*.py"))}


def import_graph(files: dict[str, Path], src: Path = SRC) -> dict[str, dict[str, tuple]]:
    """module -> {imported module: (line, statement)} (first import of each)."""
    modules = set(files)
    graph: dict[str, dict[str, tuple]] = {}
    for name, path in files.items():
        edges: dict[str, tuple] = {}
        for line, target, statement in imports_of(path, modules, src):
            if target != name:
                edges.setdefault(target, (line, statement))
        graph[name] = edges
    return graph


def layer_violations(files: dict[str, Path], src: Path = SRC) -> list[str]:
    problems = []
    for module, edges in import_graph(files, src).items():
        rel = files[module].relative_to(src.parent)
        mine = stage_of(module)
        if mine is None:
            problems.append(f"{rel}: module {module} is in no stage (add it to STAGES)")
            continue
        for target, (line, statement) in sorted(edges.items()):
            theirs = stage_of(target)
            if theirs is None:
                problems.append(f"{rel}:{line}: `{statement}`: {target} is in no stage")
            elif theirs[0] > mine[0]:
                problems.append(
                    f"{rel}:{line}: `{statement}`: stage {mine[1]} ({module}) imports later "
                    f"stage {theirs[1]} ({target})"
                )
    return problems


def import_cycles(graph: dict[str, dict[str, tuple]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each as a list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def cycle_messages(files: dict[str, Path], src: Path = SRC) -> list[str]:
    graph = import_graph(files, src)
    messages = []
    for component in import_cycles(graph):
        members = set(component)
        edges = [
            f"{files[a].relative_to(src.parent)}:{line}: `{statement}`"
            for a in component
            for b, (line, statement) in sorted(graph[a].items())
            if b in members
        ]
        messages.append(f"import cycle among {component}: " + "; ".join(edges))
    return messages


def long_files(package: Path = PACKAGE) -> list[str]:
    out = []
    for path in sorted(package.rglob("*.py")):
        n = len(path.read_text().splitlines())
        if n > MAX_LINES:
            out.append(f"{path.relative_to(package.parents[1])}: {n} lines (at most {MAX_LINES})")
    return out


# --- the rules ---------------------------------------------------------------------------------


def test_no_module_imports_a_later_stage():
    problems = layer_violations(module_files())
    assert not problems, "imports against the data flow:\n" + "\n".join(problems)


def test_no_import_cycles():
    cycles = cycle_messages(module_files())
    assert not cycles, "\n".join(cycles)


def test_no_source_file_over_400_lines():
    assert not long_files(), "\n".join(long_files())


# --- the checker itself catches what it should -------------------------------------------------


def _plant(tmp_path: Path, files: dict[str, str]) -> tuple[dict[str, Path], Path]:
    src = tmp_path / "src"
    for rel, text in files.items():
        path = src / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return module_files(src / "arbscore", src), src


def test_checker_sees_a_planted_violation_inside_a_function(tmp_path):
    files, src = _plant(
        tmp_path,
        {
            "arbscore/__init__.py": "",
            "arbscore/gbdt/__init__.py": "",
            "arbscore/gbdt/tuning.py": "def f():\n    from arbscore.evaluation import splits\n",
            "arbscore/evaluation/__init__.py": "",
            "arbscore/evaluation/splits.py": "",
        },
    )
    (problem,) = layer_violations(files, src)
    assert "arbscore/gbdt/tuning.py:2" in problem
    assert "`from arbscore.evaluation import splits`" in problem
    assert "stage models (arbscore.gbdt.tuning) imports later stage evaluation" in problem


def test_checker_sees_type_checking_and_relative_imports(tmp_path):
    files, src = _plant(
        tmp_path,
        {
            "arbscore/__init__.py": "",
            "arbscore/export/__init__.py": "",
            "arbscore/export/bundle.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                "    from ..ops import reference\n"
            ),
            "arbscore/ops/__init__.py": "",
            "arbscore/ops/reference.py": "",
            "arbscore/schema.py": "import arbscore.cli\n",
            "arbscore/cli/__init__.py": "",
        },
    )
    problems = layer_violations(files, src)
    assert any("export/bundle.py:3: `from ..ops import reference`" in p for p in problems)
    assert any("schema.py:1: `import arbscore.cli`" in p for p in problems)
    assert len(problems) == 2


def test_checker_sees_a_cycle_within_one_stage(tmp_path):
    files, src = _plant(
        tmp_path,
        {
            "arbscore/__init__.py": "",
            "arbscore/export/__init__.py": "",
            "arbscore/export/bundle.py": "from arbscore.export.coreml import x\n",
            "arbscore/export/coreml.py": "def f():\n    from arbscore.export import bundle\n",
        },
    )
    assert layer_violations(files, src) == []
    (message,) = cycle_messages(files, src)
    assert "['arbscore.export.bundle', 'arbscore.export.coreml']" in message
    assert "export/coreml.py:2: `from arbscore.export import bundle`" in message


def test_every_stage_prefix_names_something():
    names = set(module_files())
    for stage, prefixes in STAGES:
        for prefix in prefixes:
            assert any(n == prefix or n.startswith(prefix + ".") for n in names), (stage, prefix)
