"""Shared fixtures: small versions of the bundled baseline scenario, built as plain data."""

from __future__ import annotations

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
