"""Repository layout rules that keep the default pytest run collectable."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_test_module_basenames_are_unique():
    # pytest's default (prepend) import mode imports test modules by basename: two test_x.py in
    # different folders without __init__.py make the whole run fail at collection.
    names = Counter(p.name for p in TESTS.rglob("test_*.py") if ".venv" not in p.parts)
    assert not [n for n, c in names.items() if c > 1]
