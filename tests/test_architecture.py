"""The import rule of docs/ARCHITECTURE.md: imports run one way, down the layers, with no cycles.

The rule is written once, as import-linter contracts in pyproject.toml ``[tool.importlinter]``:

    cli -> experiments -> runner -> analysis -> model | reference -> mechanisms -> state
        -> scenario -> core

(a layer may import any layer to its right, never one to its left; ``model`` and ``reference``
are independent of each other; sibling modules never import each other both ways). Imports under
``if TYPE_CHECKING:`` are annotations only and do not count.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
SHIMS = {"loading"}  # sim/loading.py: kept for users, outside the layers (sim.scenario.loading)


def _layers() -> list[set[str]]:
    contract = next(c for c in CONFIG["contracts"] if c["type"] == "layers")
    return [{m.strip() for m in layer.split("|")} for layer in contract["layers"]]


def test_the_package_keeps_the_import_rule(capsys):
    code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    assert code == 0, capsys.readouterr().out


def test_every_module_of_sim_is_in_a_layer():
    """A new subpackage or top-level module outside the layers would escape the rule."""
    layered = {m.removeprefix("sim.") for layer in _layers() for m in layer}
    present = {
        p.stem if p.is_file() else p.name
        for p in (ROOT / "sim").iterdir()
        if (p.suffix == ".py" and not p.name.startswith("__")) or (p / "__init__.py").exists()
    }
    assert present - SHIMS == layered


def test_an_upward_import_breaks_the_rule(tmp_path):
    """The check can fail: a copy of the package where the random streams (core) import the model
    (three layers up) is reported as broken."""
    shutil.copytree(ROOT / "sim", tmp_path / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    streams = tmp_path / "sim" / "core" / "streams.py"
    streams.write_text(streams.read_text() + "\nfrom ..model import market  # noqa\n")
    lint = Path(sys.executable).parent / "lint-imports"
    out = subprocess.run(
        [str(lint), "--no-cache"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
    )
    assert out.returncode == 1, out.stdout + out.stderr
    assert "sim.core is not allowed to import sim.model" in out.stdout


def _sim_imports():
    """(file, line, module) of every import of a `sim` module, relative ones resolved, including
    the imports inside functions."""
    for path in sorted((ROOT / "sim").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        package = parts[:-1]  # the package a relative import starts from
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package[: len(package) - node.level + 1]
                if node.module:
                    yield path, node.lineno, ".".join((*base, node.module))
                else:  # from . import a, b: submodules or names of the package
                    for alias in node.names:
                        yield path, node.lineno, (".".join(base), alias.name)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sim"):
                yield path, node.lineno, node.module
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("sim"):
                        yield path, node.lineno, alias.name


def test_every_import_of_a_sim_module_resolves():
    """The import graph cannot see a lazy import of a module that no longer exists (a leftover of
    a move); this finds them without running the code."""
    missing = []
    for path, line, target in _sim_imports():
        if isinstance(target, tuple):
            package, name = target
            if importlib.util.find_spec(f"{package}.{name}") is None and not hasattr(
                importlib.import_module(package), name
            ):
                missing.append(f"{path.relative_to(ROOT)}:{line} {package}.{name}")
        elif importlib.util.find_spec(target) is None:
            missing.append(f"{path.relative_to(ROOT)}:{line} {target}")
    assert not missing, missing
