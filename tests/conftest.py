"""Shared fixtures: small versions of the bundled baseline scenario, built as plain data."""

from __future__ import annotations

import ast
import copy
import tomllib
from pathlib import Path

import pytest

from sim.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


def baseline_data(
    consumers: int = 4000, days: int = 365, replications: int = 2, warmup: int = 180
) -> dict:
    """The bundled baseline scenario as a dict, resized. Tests run a 180-day warm-up instead of
    the default 1,825 days (the steady state, docs/ODD.md 5.1) to stay fast: a size, like the
    number of consumers, not a change of rules."""
    data = tomllib.loads((SCENARIOS / "baseline.toml").read_text())
    data["simulation"].update(
        consumers=consumers, days=days, replications=replications, warmup_days=warmup
    )
    return data


def brand(data: dict, name: str) -> dict:
    """The brand entry called ``name`` of a scenario dict."""
    return next(b for b in data["brands"] if b["name"] == name)


def variant(data: dict, name: str, **policy) -> Scenario:
    """A copy of ``data`` named ``name`` with Aurora's policy levers replaced by ``policy``."""
    d = copy.deepcopy(data)
    d["name"] = name
    brand(d, "Aurora")["policy"].update(policy)
    return Scenario.model_validate(d)


@pytest.fixture(autouse=True, scope="session")
def _private_warmup_cache(tmp_path_factory):
    """Saved warm-ups of runs without a results folder go to a folder of this test session, not
    the user's cache (`sim.model.warmup`); subprocesses inherit it."""
    import os

    old = os.environ.get("OMNITRUST_CACHE_DIR")
    os.environ["OMNITRUST_CACHE_DIR"] = str(tmp_path_factory.mktemp("omnitrust-cache"))
    yield
    if old is None:
        os.environ.pop("OMNITRUST_CACHE_DIR", None)
    else:
        os.environ["OMNITRUST_CACHE_DIR"] = old


@pytest.fixture
def small_baseline() -> dict:
    return baseline_data()


def sim_imports(module: Path, sim_root: Path) -> set[Path]:
    """The `sim` modules that ``module`` imports (relative imports resolved; a name imported from
    a package is its submodule when there is one)."""
    found: set[Path] = set()
    package = module.parent
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package
                for _ in range(node.level - 1):
                    base = base.parent
            elif node.module and node.module.split(".")[0] == "sim":
                base, node.module = sim_root, ".".join(node.module.split(".")[1:]) or None
            else:
                continue
            target = base.joinpath(*node.module.split(".")) if node.module else base
            for alias in node.names:
                sub = target / f"{alias.name}.py"
                if sub.is_file():
                    found.add(sub)
            found.add(target / "__init__.py" if target.is_dir() else target.with_suffix(".py"))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "sim" and len(parts) > 1:
                    target = sim_root.joinpath(*parts[1:])
                    found.add(
                        target / "__init__.py" if target.is_dir() else target.with_suffix(".py")
                    )
    return {p.resolve() for p in found if p.is_file()}


def as_a_terminal_starts_it() -> None:
    """``preexec_fn`` of a command a test stops with Ctrl-C: SIGINT's default action and SIGINT
    not blocked in the child, as an interactive shell starts a command. Both are inherited from
    the test process, whose state other tests' libraries can change (a SIGINT ignored or blocked
    there never reaches the command: a CI run under heavy load once saw the command finish with
    0 after the signal)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def benchmark_module(name: str):
    """``benchmarks/<name>.py`` imported as a module (the benchmarks are scripts, not a package),
    so that tests can check their pure functions."""
    import importlib.util

    path = ROOT / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
