"""``arbscore benchmark`` works after the README install (the base + ``train`` extra): every
third-party module its default scripts import is a dependency of those two, not only of the
``dev`` extra (``No module named 'httpx'`` was the first thing a newcomer saw)."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from arbscore.report.benchmarks import DEFAULT_SCRIPTS

ROOT = Path(__file__).resolve().parents[2]
#: what the default scripts import from the repository besides benchmarks/ itself
HELPERS = (
    ROOT / "tests" / "serve" / "serve_helpers.py",
    ROOT / "tests" / "simulate" / "sim_loop_reference.py",
)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def requirement_names(specs: list[str]) -> set[str]:
    return {re.split(r"[\s<>=!~;\[]", s, maxsplit=1)[0].lower().replace("_", "-") for s in specs}


def test_the_default_benchmarks_need_only_the_readme_install():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    installed = requirement_names(project["dependencies"])
    installed |= requirement_names(project["optional-dependencies"]["train"])
    local = {p.stem for p in (ROOT / "benchmarks").glob("*.py")} | {p.stem for p in HELPERS}
    files = [ROOT / "benchmarks" / f"{name}.py" for name in DEFAULT_SCRIPTS]
    files += [ROOT / "benchmarks" / "serve_load.py", *HELPERS]
    modules = set().union(*(imported_modules(f) for f in files)) - local - {"arbscore"}
    third_party = modules - set(sys.stdlib_module_names) - {"__future__"}
    dists = packages_distributions()
    missing = {}
    for module in sorted(third_party):
        names = {d.lower().replace("_", "-") for d in dists.get(module, [module])}
        # xgboost-cpu provides the module xgboost; mlx[cpu] provides mlx
        if not names & installed and not any(n.startswith(tuple(installed)) for n in names):
            missing[module] = sorted(names)
    assert not missing, f"imported by the default benchmarks but not in base/train: {missing}"
