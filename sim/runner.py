"""Running scenarios: one replication, many replications, and the result object.

``run(scenario, replications=R, seed=S)`` runs replication k = 0..R-1 with seed
``replication_seed(S, k)`` (the same for every scenario, so comparisons share random numbers) and
returns a `RunResult` whose ``.timeseries`` is the tidy table
``scenario, replication, day, brand, channel, metric, value``.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .analysis.summary import SUMMARY_WINDOW_DAYS, summarise
from .core import timing
from .core.errors import UserError
from .core.streams import replication_seed
from .model import TrustModel
from .model.market import check_warm_state
from .model.warmup import (
    CACHE,
    WarmState,
    branching_enabled,
    capture,
    user_cache_dir,
    warmup_key,
)
from .scenario import Scenario

RUN_CHUNK = 4
"""Runs of `run` whose warm-up states are held at once, at least (twice the workers if more)."""


def resolve(scenario: Scenario | str | Path, **overrides: Any) -> Scenario:
    """A validated scenario from a `Scenario` or a file path, with simulation overrides applied."""
    from .scenario.loading import load_scenario, with_simulation

    if isinstance(scenario, Scenario):
        return with_simulation(scenario, **overrides)
    return load_scenario(scenario, **overrides)


def simulate(
    scenario: Scenario,
    replication: int = 0,
    seed: int | None = None,
    on_day: Callable[[int], None] | None = None,
    warm: WarmState | None = None,
) -> pd.DataFrame:
    """Run one replication of ``scenario`` and return its tidy daily table.

    The replication's own seed is ``replication_seed(seed, replication)``, where ``seed`` defaults
    to ``scenario.simulation.seed``. ``warm``: the saved end of a warm-up this run shares
    (`sim.model.warmup`), continued instead of spinning the warm-up up again (same numbers).
    """
    base = scenario.simulation.seed if seed is None else int(seed)
    model = TrustModel(
        scenario, seed=replication_seed(base, replication), replication=replication, warm_start=warm
    )
    timing.mark("warm-up")  # building the model: population, kernels loaded, warm-up days
    while model.running:
        model.step()
        if on_day is not None:
            on_day(model.day)
    timing.mark("simulation")
    table = model.timeseries()
    timing.mark("tidy table")
    return table


def simulate_task(task: tuple) -> pd.DataFrame:
    """Picklable entry point for executors: ``(scenario as JSON dict, replication, seed)``,
    optionally followed by the `WarmState` to branch from (`with_warm_starts`)."""
    data, replication, seed, *warm = task
    return simulate(
        Scenario.model_validate(data), replication, seed, warm=warm[0] if warm else None
    )


def daily_stocks(
    scenario: Scenario, replications: int, seed: int | None = None
) -> tuple[np.ndarray, tuple[str, ...]]:
    """The daily stocks (replications, days, brands, stocks) of replications 0..R-1 of
    ``scenario`` (each spins its own warm-up up) and the stocks' names
    (`sim.mechanisms.metrics.STOCKS`): what the warm-up diagnostics read."""
    from .mechanisms.metrics import STOCKS

    base = scenario.simulation.seed if seed is None else int(seed)
    out = []
    for k in range(replications):
        model = TrustModel(scenario, seed=replication_seed(base, k), replication=k)
        model.run()
        out.append(model.recorder.stocks[: model.recorder.days_recorded].copy())
    return np.array(out), STOCKS


def warmup_task(task: tuple[dict, int, str]) -> WarmState:
    """Picklable entry point for executors: spin up the warm-up of ``(scenario as JSON dict,
    replication seed, warm-up key)`` and return its end state."""
    data, seed, key = task
    return capture(TrustModel(Scenario.model_validate(data), seed=seed), key)


def warmup_keys(tasks: Sequence[tuple[dict, int, int]]) -> list[str]:
    """The `warmup_key` of each task ``(scenario dict, replication, seed)``."""
    return [
        warmup_key(Scenario.model_validate(data), replication_seed(seed, k))
        for data, k, seed in tasks
    ]


def shared_keys(keys: Iterable[str]) -> set[str]:
    """The warm-up keys that more than one task has."""
    return {key for key, n in Counter(keys).items() if n > 1}


def with_warm_starts(
    tasks: Sequence[tuple[dict, int, int]],
    map_tasks: Callable[[Callable, Iterable], Iterable] | None = None,
    folder: str | Path | None = None,
    unique: bool = True,
    *,
    keys: Sequence[str] | None = None,
    shared: set[str] | None = None,
    bar: Any = None,
) -> list[tuple]:
    """``tasks`` (``(scenario dict, replication, seed)``) with the `WarmState` each branches from.

    Tasks whose warm-up is the same (`sim.model.warmup.warmup_key`: same world, pre-change
    policies, consumers, warm-up length and replication seed) share one state. States come from
    the cache (memory, then ``folder/``, then the user cache on disk); the missing ones are spun
    up once each with ``map_tasks`` (an ordered map, e.g. a process pool) and kept in the cache,
    written to ``folder`` and to the user cache (so that a command into another folder finds
    them). A state used from memory or the user cache is copied into ``folder`` if it is not there
    yet: the results folder holds every warm-up its runs branched from, and a resume does not
    depend on the user cache (which is pruned). ``unique=False``: a warm-up that no other task
    shares and no cache holds is left to its run (a sweep of many distinct markets saves nothing
    by keeping them). With branching off (``OMNITRUST_BRANCH=off``) the tasks are returned
    unchanged.

    When ``tasks`` is one chunk of a longer list, ``keys`` are the chunk's `warmup_keys` and
    ``shared`` the `shared_keys` of the whole list, so a warm-up shared across chunks is spun
    up (and saved) once, by the first chunk that needs it. ``bar``: a progress bar whose total
    grows by the warm-ups to spin up and that ticks as each one is done.
    """
    if not branching_enabled():
        return list(tasks)
    keys = warmup_keys(tasks) if keys is None else list(keys)
    shared = shared_keys(keys) if shared is None else shared
    folders = [user_cache_dir()] if folder is None else [Path(folder), user_cache_dir()]
    states: dict[str, WarmState] = {}
    missing: dict[str, tuple[dict, int, str]] = {}
    for key, (data, k, seed) in zip(keys, tasks, strict=True):
        if key in states or key in missing:
            continue
        fits = partial(
            check_warm_state, scenario=Scenario.model_validate(data), seed=replication_seed(seed, k)
        )
        state = CACHE.get(key, folders, fits)
        if state is not None:
            states[key] = state
            if folder is not None:  # from the user cache or memory: the folder gets its copy
                CACHE.put(state, folders[0], missing_only=True)
        elif unique or key in shared:
            missing[key] = (data, replication_seed(seed, k), key)
    if bar is not None and missing:
        bar.total += len(missing)
        bar.refresh()
    for state in (map_tasks or map)(warmup_task, list(missing.values())):
        CACHE.put(state, folders)
        states[state.key] = state
        if bar is not None:
            bar.update(1)
    return [
        (*task, states[key]) if key in states else tuple(task)
        for task, key in zip(tasks, keys, strict=True)
    ]


class UnpairedRuns(UserError, ValueError):
    """Runs that do not pair for paired differences (another size, another seed)."""


class UnknownName(UserError, ValueError):
    """A scenario name that is not one of the results' (a `UserError`: one line, no traceback
    from the command line; a `ValueError`, as it was, for callers that catch that)."""


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

    def plot_value(self, **kw: Any):
        """Net value (or another money metric) per day and brand, bars by scenario
        (`sim.analysis.charts.plot_value`)."""
        from .analysis.charts import plot_value

        return plot_value(self, **kw)

    def band_caption(self, band: str = "range") -> str:
        """The sentence the run charts print under a chart with ``band`` (default ``range``):
        what the lines and the shaded band are (`sim.analysis.charts.band_caption`)."""
        from .analysis.charts import band_caption

        return band_caption(band, int(self.timeseries["replication"].nunique()))

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

    def differences(
        self,
        reference: str | None = None,
        metrics: Sequence[str] | None = None,
        outcome: str = "auto",
        bootstrap: int = 2000,
    ) -> pd.DataFrame:
        """Paired differences ``scenario - reference`` per brand and metric with 95% intervals.

        Replication k of every scenario of a run has the same seed (common random numbers), so
        the per-replication outcomes pair up exactly as in `sim.compare` (same table, without
        the independent-seeds columns). The per-run outcome is the mean of the last 30 days (all
        the days of a shorter run) for stocks and the total over the horizon for flows (``outcome``, see `sim.compare`).
        Scenarios that did not run at the reference's size (`sim.scenario.schema.PAIRED_FIELDS`, replications) or
        with its seeds do not pair: refused (`UnpairedRuns`), naming the cause.

        Args:
            reference: name of the reference scenario (default: the first).
            metrics: keep these metrics: a name or a list of names (default: all); a name that
                is not a metric of the run is refused, with the allowed ones.
            bootstrap: percentile-bootstrap resamples (0: none).
        """
        from .analysis.outcomes import (
            differences_table,
            metric_list,
            outcome_values,
            summarise_run,
        )

        names = list(self.scenarios)
        reference = names[0] if reference is None else reference
        if reference not in names:
            raise UnknownName(
                f"reference = {reference!r}: not a scenario of these results; allowed: "
                f"{', '.join(names)}"
            )
        self._check_paired(reference)
        ts = self.timeseries
        if metrics is not None:
            ts = ts[ts["metric"].isin(metric_list(metrics, ts["metric"].unique()))]
        rows = []
        for (scenario, replication), g in ts.groupby(
            ["scenario", "replication"], observed=True, sort=True
        ):
            one = summarise_run(g)
            one.insert(0, "replication", replication)
            one.insert(0, "scenario", str(scenario))
            rows.append(one)
        runs = outcome_values(pd.concat(rows, ignore_index=True), outcome)
        table = differences_table(runs, reference, names, None, bootstrap)
        return table.drop(
            columns=["indep_low", "indep_high", "indep_half_width", "width_ratio"]
        ).reset_index(drop=True)

    def _check_paired(self, reference: str) -> None:
        """Raise `UnpairedRuns` unless every scenario ran like ``reference``: the same
        [simulation] sizes (`Simulation.size_differences`) and replication seeds, so that replication k of each
        is replication k of the reference's market with another policy. The message names the
        cause: a different size is not a different seed."""
        ref = self.scenarios[reference].simulation
        for name, scenario in self.scenarios.items():
            differ = scenario.simulation.size_differences(ref)
            if differ:
                raise UnpairedRuns(
                    f"{name!r} ran with "
                    + ", ".join(f"{f} = {own}" for f, own, _ in differ)
                    + f" but the reference {reference!r} with "
                    + ", ".join(f"{f} = {theirs}" for f, _, theirs in differ)
                    + " ([simulation]): paired differences need one market size, horizon, "
                    "warm-up and replication count; run them together at one size, e.g. "
                    "sim.run([...], days=D, consumers=N, replications=R), which sets every "
                    "scenario's (or make the files agree)"
                )
        info = self.manifest.get("scenarios", {})
        seeds = {n: tuple(info.get(n, {}).get("replication_seeds", ())) for n in self.scenarios}
        unpaired = [n for n in self.scenarios if seeds[n] != seeds[reference]]
        if unpaired:
            raise UnpairedRuns(
                f"{', '.join(unpaired)} did not run with {reference!r}'s replication seeds, so "
                "the replications do not pair; run them together (one `run` with one seed)"
            )

    def _sizes(self) -> dict[str, tuple[int, int, int, int]]:
        """Per scenario: (replications, days, consumers, seed) of its runs, from the table
        (replications, days) and the scenario (consumers, seed)."""
        ts = self.timeseries
        g = ts.groupby("scenario", observed=True)
        reps, last = g["replication"].nunique(), g["day"].max()
        return {
            n: (
                int(reps.get(n, 0)),
                int(last.get(n, -1)) + 1,
                s.simulation.consumers,
                s.simulation.seed,
            )
            for n, s in self.scenarios.items()
        }

    def __repr__(self) -> str:
        sizes = self._sizes()
        if len({v[:2] for v in sizes.values()}) == 1:
            reps, days = next(iter(sizes.values()))[:2]
            return f"<RunResult {', '.join(self.scenarios)}: {reps} replications x {days} days>"
        # scenarios of different sizes (`run` keeps each file's unless told): each its own
        each = ", ".join(f"{n} ({r} replications x {d} days)" for n, (r, d, _, _) in sizes.items())
        return f"<RunResult {each}>"

    def _repr_html_(self) -> str:
        from .analysis.display import card, with_interval
        from .analysis.summary import headline, window_words_of

        table = headline(self)
        for col in ("trust", "consent_rate", "revenue_per_day", "net_value_per_day"):
            table = with_interval(table, col, f"{col}_low", f"{col}_high")
        sizes = self._sizes()
        horizons = {v[1] for v in sizes.values()}
        window = window_words_of(horizons)
        if len(set(sizes.values())) == 1:
            reps, days, consumers, seed = next(iter(sizes.values()))
            facts = [
                f"{reps} replications",
                f"{days} days",
                f"{consumers:,} consumers",
                f"seed {seed}",
            ]
        else:  # scenarios of different sizes: each its own, not the first's for all
            facts = [
                f"{n}: {r} replications x {d} days x {c:,} consumers, seed {sd}"
                for n, (r, d, c, sd) in sizes.items()
            ]
        return card(
            f"Run of {', '.join(self.scenarios)}",
            facts,
            [
                (
                    "Per scenario and brand, mean over replications [95% t interval]: trust and "
                    f"consent rate over {window}; "
                    "revenue and net value per day (EUR) over the whole horizon",
                    table,
                )
            ],
            ".summary(), .differences(reference=...), .plot_trust(), .plot_revenue(), "
            ".save(folder)",
        )


def run(
    scenarios: Scenario | str | Path | Sequence[Scenario | str | Path],
    replications: int | None = None,
    seed: int | None = None,
    days: int | None = None,
    consumers: int | None = None,
    *,
    progress: bool = True,
    map_tasks: Callable[[Callable, Iterable], Iterable] | None = None,
    warmups: str | Path | None = None,
) -> RunResult:
    """Run one or more scenarios for ``replications`` replications each.

    `sim.run` is `sim.experiments.run`: this function on the executor ``workers=`` chooses.

    Args:
        scenarios: a `Scenario`, a path to a TOML file, a bundled scenario's name
            (``"baseline"``), or a list of them.
        replications, seed, days, consumers: override every scenario's [simulation] values.
            A value not given is each scenario's own: a `Scenario` loaded with ``days=30``
            next to a file of 365 days runs 30 and 365 days, and `RunResult.differences` then
            refuses to pair them, naming the field that differs; give the value here to run
            them all at one size.
        progress: show a progress bar (the same as `compare` and `sweep`).
        map_tasks: an ordered ``map(fn, tasks)`` to run the replications elsewhere (a process pool
            or a Dask client, see `sim.experiments.make_map`); by default they run here, one
            after another.
        warmups: folder of saved warm-up states (the results folder's ``warmups/``), read
            before the user cache and written with it; default: the user cache alone. Scenarios that share their warm-up branch from one spun-up state
            (`with_warm_starts`; the numbers are the same as without).
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
    # Chunks of runs, those that share a warm-up next to each other: a chunk's warm-up states
    # are spun up (or read), its runs branch from them, and the states are let go before the
    # next chunk, so at most a chunk's states (and the cache's) are held at once.
    order = sorted(range(len(tasks)), key=lambda i: replication_seed(tasks[i][2], tasks[i][1]))
    keys = warmup_keys(tasks) if branching_enabled() else None
    shared = shared_keys(keys) if keys is not None else None
    chunk = max(RUN_CHUNK, 2 * int(getattr(map_tasks, "workers", 1)))
    bar = progress_bar(len(tasks), "run") if progress else None
    frames: list[pd.DataFrame | None] = [None] * len(tasks)
    try:
        for start in range(0, len(order), chunk):
            part = order[start : start + chunk]
            branched = with_warm_starts(
                [tasks[i] for i in part],
                map_tasks,
                warmups,
                keys=None if keys is None else [keys[i] for i in part],
                shared=shared,
                bar=bar,
            )
            for i, frame in zip(part, (map_tasks or map)(simulate_task, branched), strict=True):
                frames[i] = frame
                if bar is not None:
                    bar.update(1)
            del branched
    finally:
        if bar is not None:
            bar.close()
    ts = pd.concat(frames, ignore_index=True)
    for col in ("scenario", "brand", "channel", "metric"):
        ts[col] = ts[col].astype("category")
    from .core.storage import provenance

    manifest = provenance(
        kind="run",
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
                "definition": s.model_dump(mode="json"),
            }
            for s in resolved
        },
    )
    timing.mark("collect")
    return RunResult(ts, by_name, manifest)


def progress_bar(total: int, desc: str, initial: int = 0):
    """The progress bar of everything that runs replications (`run`, `sim.compare`,
    `sim.sweep`, their commands): tqdm, a widget in Jupyter and text in a terminal; one tick per
    finished run."""
    if "IPython" in sys.modules:  # maybe a notebook: let tqdm choose the widget
        from tqdm.auto import tqdm
    else:  # a terminal: the plain bar, without tqdm.auto's asyncio import (~0.1 s)
        from tqdm.std import tqdm

    return tqdm(total=total, initial=initial, unit="run", desc=desc, dynamic_ncols=True)
