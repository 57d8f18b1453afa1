"""omnitrust: how consumers' trust in brands moves through an omnichannel market.

Public API (everything else may change):

    load_scenario(path, **overrides) -> Scenario      read, merge `extends`, validate
    run(scenarios, replications=, seed=, ...) -> RunResult
    simulate(scenario, replication=, seed=) -> DataFrame   one replication's tidy table
    compare([scenarios], replications=, seed=, ...)     paired differences with intervals
    sweep(experiment_file, ...)                         grids / Latin hypercubes over levers
    calibrate(file, out=DIR, ...)                       fit to published figures, with a posterior
    sensitivity(file, out=DIR, ...)                     Sobol / Morris indices (SALib)
    TrustModel                                          the mesa.Model itself
    Scenario                                            the validated scenario schema
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Scenario": "sim.scenario",
    "TrustModel": "sim.model",
    "RunResult": "sim.runner",
    "run": "sim.runner",
    "simulate": "sim.runner",
    "summarise": "sim.analysis.summary",
    "load_scenario": "sim.scenario.loading",
    "compare": "sim.experiments",
    "sweep": "sim.experiments",
    "calibrate": "sim.calibration",
    "sensitivity": "sim.calibration",
}

__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str) -> Any:
    """Import public names on first use, so `import sim` stays fast."""
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
