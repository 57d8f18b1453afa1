"""Experiments: comparisons with common random numbers, sweeps, robustness and risk views.

    compare([scenario, ...], replications=R, seed=S, ...) -> Comparison
    sweep(experiment_file, out=DIR, ...) -> SweepResult
    make_map(workers=, scheduler=, client=) -> TaskMap   executors for runner.run and experiments
    run(scenarios, ..., workers=) -> RunResult          `sim.run`: runner.run on that executor

Results stream into a results folder (one Parquet file per run, see `store`), so an experiment
that is interrupted resumes where it stopped. See docs/EXPERIMENTS.md.
"""

from __future__ import annotations

from .compare import Comparison, compare
from .executors import TaskMap, make_map, run
from .sweep import SweepResult, sweep

__all__ = ["Comparison", "SweepResult", "TaskMap", "compare", "make_map", "run", "sweep"]
