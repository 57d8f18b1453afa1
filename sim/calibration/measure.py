"""Measuring outputs of the model at given parameter values, with common random numbers.

A *point* is one set of parameter values (dotted path -> value). Measuring a list of points runs,
for every point and every scenario it needs, replications k = 0..R-1 with the seeds
``replication_seed(seed, k)`` (the same for every point: common random numbers, so two points
differ only by their parameters), and averages each output over the replications. Every
replication is one picklable task (`measure_task`), so the numbers do not depend on the executor
or the worker count.

An output (`sim.calibration.spec.Output`) is either a named figure of `sim.analysis.evidence` or a
metric of the run's tidy table for one brand and channel, reduced over a window of days by mean,
sum, last or max. The breach figures are those of `omnitrust evidence`: pooled over one breach of
each brand in turn (`sim.analysis.evidence.breach_figures`). A replication spins its warm-up up
once and branches the journey run and every breach run from it (`sim.model.warmup`: the numbers
of separately built models, to the last bit).
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..core.errors import UserError
from ..core.streams import replication_seed
from ..experiments.posterior import with_parameters
from ..scenario import Scenario
from .spec import Output

Point = dict[str, float]


def _reduce(ts: pd.DataFrame, o: dict[str, Any]) -> float:
    sel = ts[(ts["metric"] == o["metric"]) & (ts["brand"] == o["brand"])]
    sel = sel[sel["channel"] == o["channel"]]
    if o["days"] is not None:
        sel = sel[(sel["day"] >= o["days"][0]) & (sel["day"] < o["days"][1])]
    values = sel.sort_values("day")["value"].to_numpy(dtype=float)
    if len(values) == 0:
        raise UserError(
            f"output {o['name']!r}: the model records no {o['metric']!r} for brand "
            f"{o['brand']!r}, channel {o['channel']!r} in days {o['days'] or 'all'}; "
            "choose a brand or channel the metric is recorded for"
        )
    return float(
        {"mean": np.mean, "sum": np.sum, "last": lambda v: v[-1], "max": np.max}[o["statistic"]](
            values
        )
    )


def measure_task(task: tuple[dict, int, int, list[dict]]) -> np.ndarray:
    """One replication: ``(scenario as JSON dict, replication, base seed, outputs as dicts)`` ->
    the outputs' values (NaN where a figure is undefined, e.g. no breach notice was sent)."""
    from ..analysis import evidence

    data, replication, seed, outputs = task
    scenario = Scenario.model_validate(data)
    rs = replication_seed(seed, replication)
    # one warm-up: the journey run and every breach branch continue from it (`evidence.start`)
    model, warm = evidence.start(scenario, rs, replication)
    figures: dict[str, float] = {}
    wanted = {o["evidence"] for o in outputs if o["evidence"]}
    metrics = any(o["metric"] for o in outputs)
    if wanted - set(evidence.BREACH_FIGURES) or metrics:
        model.run()
    if wanted - set(evidence.BREACH_FIGURES):
        figures.update(evidence.journey_figures(model))
    if wanted & set(evidence.BREACH_FIGURES):
        figures.update(evidence.breach_figures(scenario, rs, warm_start=warm))
    ts = model.timeseries() if metrics else None
    return np.array(
        [figures.get(o["evidence"], np.nan) if o["evidence"] else _reduce(ts, o) for o in outputs],
        dtype=float,
    )


class Job:
    """One scenario measured at one point for some outputs: the unit `measure` runs."""

    def __init__(self, scenario: Scenario, outputs: Sequence[Output]):
        self.scenario = scenario
        self.outputs = [o.model_dump(include=set(Output.model_fields)) for o in outputs]


def measure(
    jobs: Sequence[Job],
    replications: int,
    seed: int,
    taskmap,
    integers: Sequence[str] = (),
    store: str | Path | None = None,
) -> list[np.ndarray]:
    """Per job, a ``(replications, outputs)`` array of per-replication values.

    All replications of all jobs go to ``taskmap`` at once (an ordered map: `make_map`). With
    ``store`` (a folder), every replication's values are written there as it finishes and read
    back instead of run again (`measure_stored`): a rerun after Ctrl-C resumes."""
    tasks = [
        (job.scenario.model_dump(mode="json"), k, seed, job.outputs)
        for job in jobs
        for k in range(replications)
    ]
    flat = (
        list(taskmap(measure_task, tasks))
        if store is None
        else measure_stored(tasks, taskmap, store)
    )
    return [np.vstack(flat[j * replications : (j + 1) * replications]) for j in range(len(jobs))]


@functools.cache
def _code_key() -> str:
    """The model's fingerprint and a digest of the code that turns a run into outputs (this
    module and `sim.analysis.evidence`): stored values made by other code are never reused."""
    from ..analysis import evidence
    from ..core.fingerprint import model_fingerprint

    digest = hashlib.sha256(model_fingerprint().encode())
    for path in (Path(__file__), Path(evidence.__file__)):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def task_key(task: tuple[dict, int, int, list[dict]]) -> str:
    """The name under which `measure_stored` keeps one task's values: a digest of everything
    that decides them (the scenario, the replication, the seed, the outputs and the code)."""
    blob = json.dumps([task, _code_key()], sort_keys=True, default=str)
    return hashlib.blake2b(blob.encode(), digest_size=16).hexdigest()


def measure_stored(tasks: Sequence[tuple], taskmap, store: str | Path) -> list[np.ndarray]:
    """`measure_task` over ``tasks``, each result kept in ``store/<task_key>.npy`` (written
    atomically as it finishes) and read back on a later call instead of being run again.

    A stored result is the task's own: its name is a digest of the task and the code, and a run
    is a pure function of both, so a resumed call returns what an uninterrupted one would. On
    Ctrl-C (or SIGTERM) the runs in progress are cancelled and
    `sim.experiments.engine.Interrupted` says how many are kept."""
    from ..core.storage import write_bytes
    from ..experiments.engine import Interrupted

    folder = Path(store)
    folder.mkdir(parents=True, exist_ok=True)
    for tmp in folder.glob(".*.tmp"):  # writes cut short by a kill
        tmp.unlink(missing_ok=True)
    keys = [task_key(t) for t in tasks]
    flat: list[np.ndarray | None] = [None] * len(tasks)
    for i, key in enumerate(keys):
        path = folder / f"{key}.npy"
        if path.is_file():
            flat[i] = np.load(path, allow_pickle=False)
    # a task repeated in ``tasks`` (a design that revisits a point) is run once
    missing: dict[str, list[int]] = {}
    for i, v in enumerate(flat):
        if v is None:
            missing.setdefault(keys[i], []).append(i)
    todo = list(missing)
    try:
        for j, values in taskmap.as_completed(
            measure_task, [tasks[missing[key][0]] for key in todo]
        ):
            buffer = io.BytesIO()
            np.save(buffer, values, allow_pickle=False)
            write_bytes(folder / f"{todo[j]}.npy", buffer.getvalue())
            for i in missing[todo[j]]:
                flat[i] = values
    except KeyboardInterrupt:
        taskmap.close(cancel=True)
        kept = len({k for k, v in zip(keys, flat, strict=True) if v is not None})
        raise Interrupted(kept, folder.parent) from None
    return flat  # type: ignore[return-value]


def points_to_jobs(
    scenario: Scenario, points: Sequence[Point], outputs: Sequence[Output], integers=()
) -> list[Job]:
    """One job per point: ``scenario`` with the point's values, measuring ``outputs``."""
    return [Job(with_parameters(scenario, p, integers), outputs) for p in points]


def integer_paths(paths: Sequence[str]) -> list[str]:
    """The paths among ``paths`` whose schema field is an integer (values are rounded)."""
    from .spec import schema_field

    return [p for p in paths if schema_field(p).annotation is int]
