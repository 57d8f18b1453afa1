"""omnitrust: how consumers' trust in brands moves through an omnichannel market.

Public API (everything else may change):

    load_scenario(path, **overrides) -> Scenario      read, merge `extends`, validate
    run(scenarios, replications=, seed=, ...) -> RunResult
    simulate(scenario, replication=, seed=) -> DataFrame   one replication's tidy table
    compare([scenarios], replications=, seed=, ...)     paired differences with intervals
    sweep(experiment_file, ...)                         grids / Latin hypercubes over levers
    calibrate(file, out=DIR, ...)                       fit to published figures, with a posterior
    sensitivity(file, out=DIR, ...)                     Sobol / Morris indices (SALib)
    open(folder) -> RunResult | Comparison | SweepResult  reopen a results folder
    TrustModel                                          the mesa.Model itself
    Scenario                                            the validated scenario schema
"""

from __future__ import annotations

import sys
from importlib import import_module
from typing import Any

from .core.fingerprint import kernel_snapshot as _kernel_snapshot

__version__ = "0.1.0"

# The model's source as this process finds it, before any of its modules is imported: the key of
# the kernels' compile cache (`sim.core.jit`; ~2 ms).
_kernel_snapshot()

_EXPORTS = {
    "Scenario": "sim.scenario",
    "TrustModel": "sim.model",
    "RunResult": "sim.runner",
    "run": "sim.experiments",
    "simulate": "sim.runner",
    "summarise": "sim.analysis.summary",
    "load_scenario": "sim.scenario.loading",
    "compare": "sim.experiments",
    "sweep": "sim.experiments",
    "calibrate": "sim.calibration",
    "sensitivity": "sim.calibration",
    "open": "sim.experiments.folders:open_results",
}

__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str) -> Any:
    """Import public names on first use, so `import sim` stays fast."""
    if name in _EXPORTS:
        module, _, attr = _EXPORTS[name].partition(":")
        return getattr(import_module(module), attr or name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


def _show_figures_inline() -> None:
    """In IPython or Jupyter, a matplotlib Figure that ends a cell shows as a PNG, whatever the
    matplotlib backend (our charts are built without pyplot, so no magic is needed)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return
    from IPython.core.pylabtools import print_figure

    shell.display_formatter.formatters["image/png"].for_type_by_name(
        "matplotlib.figure", "Figure", lambda fig: print_figure(fig, "png", bbox_inches="tight")
    )


_show_figures_inline()
