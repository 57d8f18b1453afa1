"""Running scenarios: one replication, many replications, and the result object.

``run(scenario, replications=R, seed=S)`` runs replication k = 0..R-1 with seed
``replication_seed(S, k)`` (the same for every scenario, so comparisons share random numbers) and
returns a `RunResult` whose ``.timeseries`` is the tidy table
``scenario, replication, day, brand, channel, metric, value``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .analysis.summary import SUMMARY_WINDOW_DAYS, summarise
from .core.streams import replication_seed
from .model import TrustModel
from .scenario import Scenario


def resolve(scenario: Scenario | str | Path, **overrides: Any) -> Scenario:
    """A validated scenario from a `Scenario` or a file path, with simulation overrides applied."""
    if isinstance(scenario, Scenario):
        return scenario.with_overrides(**overrides)
    from .scenario.loading import load_scenario

    return load_scenario(scenario, **overrides)


def simulate(
    scenario: Scenario,
    replication: int = 0,
    seed: int | None = None,
    on_day: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Run one replication of ``scenario`` and return its tidy daily table.

    The replication's own seed is ``replication_seed(seed, replication)``, where ``seed`` defaults
    to ``scenario.simulation.seed``.
    """
    base = scenario.simulation.seed if seed is None else int(seed)
    model = TrustModel(scenario, seed=replication_seed(base, replication), replication=replication)
    while model.running:
        model.step()
        if on_day is not None:
            on_day(model.day)
    return model.timeseries()


def simulate_task(task: tuple[dict, int, int]) -> pd.DataFrame:
    """Picklable entry point for executors: ``(scenario as JSON dict, replication, seed)``."""
    data, replication, seed = task
    return simulate(Scenario.model_validate(data), replication, seed)


class RunResult:
    """The outcome of ``run``: the tidy time series plus provenance, with summaries and charts.

    Attributes:
        timeseries: tidy DataFrame ``scenario, replication, day, brand, channel, metric, value``.
        scenarios: the validated scenarios, by name.
        manifest: provenance (scenario hashes, seeds, versions, command).
    """

    def __init__(
        self, timeseries: pd.DataFrame, scenarios: dict[str, Scenario], manifest: dict[str, Any]
    ):
        self.timeseries = timeseries
        self.scenarios = scenarios
        self.manifest = manifest

    def summary(self, window: int = SUMMARY_WINDOW_DAYS) -> pd.DataFrame:
        """Horizon summary (see `summarise`)."""
        return summarise(self.timeseries, window)

    def metric(self, name: str, brand: str | None = None, channel: str = "all") -> pd.DataFrame:
        """Rows of one metric (optionally one brand), channel ``all`` by default."""
        ts = self.timeseries
        sel = (ts["metric"] == name) & (ts["channel"] == channel)
        if brand is not None:
            sel &= ts["brand"] == brand
        return ts[sel]

    def plot_trust(self, **kw: Any):
        """Trust per brand over time with a band across replications (`sim.analysis.charts.plot_trust`)."""
        from .analysis.charts import plot_trust

        return plot_trust(self, **kw)

    def plot_revenue(self, **kw: Any):
        """Revenue by channel, stacked, per brand (`sim.analysis.charts.plot_revenue`)."""
        from .analysis.charts import plot_revenue

        return plot_revenue(self, **kw)

    def plot_consent(self, **kw: Any):
        """Consent rate and e-mail subscribers per brand (`sim.analysis.charts.plot_consent`)."""
        from .analysis.charts import plot_consent

        return plot_consent(self, **kw)

    def plot_breach_window(self, **kw: Any):
        """Trust around each breach, aligned on the breach day (`sim.analysis.charts.plot_breach_window`);
        None without breaches."""
        from .analysis.charts import plot_breach_window

        return plot_breach_window(self, **kw)

    def report(self, path: str | Path, **kw: Any) -> Path:
        """Write the executive report to ``path``: ``.html`` (self-contained) or ``.pdf``
        (printed by Chromium) (`sim.analysis.report.write_report`)."""
        from .analysis.report import write_report

        return write_report(self, path, **kw)

    def save(self, folder: str | Path, **kw: Any) -> dict[str, Path]:
        """Write the outputs folder: parquet, summary.csv, manifest.json, charts
        (`sim.analysis.outputs.save`)."""
        from .analysis.outputs import save

        return save(self, folder, **kw)

    def __repr__(self) -> str:
        names = ", ".join(self.scenarios)
        reps = self.timeseries["replication"].nunique()
        return f"RunResult(scenarios=[{names}], replications={reps}, rows={len(self.timeseries)})"


def run(
    scenarios: Scenario | str | Path | Sequence[Scenario | str | Path],
    replications: int | None = None,
    seed: int | None = None,
    days: int | None = None,
    consumers: int | None = None,
    progress: bool = False,
    map_tasks: Callable[[Callable, Iterable], Iterable] | None = None,
) -> RunResult:
    """Run one or more scenarios for ``replications`` replications each.

    Args:
        scenarios: a `Scenario`, a path to a TOML file, or a list of them.
        replications, seed, days, consumers: override the scenario's [simulation] values.
        progress: show a progress bar.
        map_tasks: an ordered ``map(fn, tasks)`` to run the replications elsewhere (a process pool
            or a Dask client); the default runs them here, one after another.
    """
    if isinstance(scenarios, (Scenario, str, Path)):
        scenarios = [scenarios]
    resolved = [
        resolve(s, days=days, consumers=consumers, replications=replications, seed=seed)
        for s in scenarios
    ]
    by_name: dict[str, Scenario] = {}
    for s in resolved:
        if s.name in by_name:
            raise ValueError(f"two scenarios are named {s.name!r}; names must be unique in a run")
        by_name[s.name] = s
    tasks = [
        (s.model_dump(mode="json"), k, s.simulation.seed)
        for s in resolved
        for k in range(s.simulation.replications)
    ]
    frames = _run_tasks(tasks, progress, map_tasks)
    ts = pd.concat(frames, ignore_index=True)
    for col in ("scenario", "brand", "channel", "metric"):
        ts[col] = ts[col].astype("category")
    from .core.storage import provenance

    manifest = provenance(
        scenarios={
            s.name: {
                "hash": s.content_hash(),
                "seed": s.simulation.seed,
                "replications": s.simulation.replications,
                "replication_seeds": [
                    replication_seed(s.simulation.seed, k) for k in range(s.simulation.replications)
                ],
                "days": s.simulation.days,
                "consumers": s.simulation.consumers,
            }
            for s in resolved
        }
    )
    return RunResult(ts, by_name, manifest)


def _run_tasks(tasks, progress, map_tasks):
    if map_tasks is None:
        map_tasks = map
    results = map_tasks(simulate_task, tasks)
    if progress:
        from tqdm.auto import tqdm

        results = tqdm(results, total=len(tasks), unit="run", desc="replications")
    return list(results)
