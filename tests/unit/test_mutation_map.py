"""scripts/mutation.py's CRITICAL map names functions that exist, in the modules mutmut mutates.

A rename or a move that forgets the map would otherwise surface only when the lead runs
the (slow) mutation floor, or worse, silently drop a critical function from it.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
import tomllib
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def _mutation_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mutation", ROOT / "scripts" / "mutation.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("mutation", module)  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_every_critical_function_exists() -> None:
    assert _mutation_script().missing_functions() == []


def test_mutmut_mutates_exactly_the_critical_modules() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert set(pyproject["tool"]["mutmut"]["only_mutate"]) == set(_mutation_script().CRITICAL)
    assert "bot/invitations/texts.py" in _mutation_script().CRITICAL
