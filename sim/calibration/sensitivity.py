"""Which uncertain parameters move an output (or could flip a verdict): Sobol or Morris via SALib.

``sensitivity("sensitivity/baseline.toml", out="results/sens")`` samples the file's parameters
with SALib (Saltelli's scheme of the Sobol' sequence for ``method = "sobol"``, without second-order
terms: N (D + 2) points; Morris trajectories for ``"morris"``: N (D + 1) points), runs every point
for the file's replications with common random numbers (the same seeds at every point), averages
each output over the replications and analyses the averages with SALib, whose bootstrap gives the
95% confidence intervals. A log-uniform parameter is sampled and analysed on the log scale.

An output with ``reference`` is the difference scenario - reference at the same point and seeds,
so its indices say which parameters could change a policy verdict.

Writes ``indices.csv`` (Sobol: output, parameter, S1, S1_conf, ST, ST_conf; Morris: output,
parameter, mu_star, mu_star_conf, sigma), ``swings.csv`` (the tornado: each output with one
parameter at the low or high end of its range and the others at their midpoints, 2 D + 1 more
points run with the same replications, `swings`), ``samples.parquet`` (every sampled point and its
outputs), ``charts/indices.png``, ``charts/tornado.png`` and ``manifest.json``; every finished
run's outputs go to ``evaluations/`` as they finish (`sim.calibration.measure.measure_stored`), so
a stopped study resumes when the same command is run again.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..core.storage import provenance, write_csv, write_json, write_parquet
from ..experiments.posterior import with_parameters
from ..scenario.loading import with_simulation
from .measure import Job, integer_paths, measure
from .spec import SensitivitySpec, load_sensitivity


class Sensitivity:
    """The outcome of `sensitivity`: ``indices``, ``swings``, ``samples`` (DataFrames), ``out``,
    ``charts`` and ``manifest``."""

    def __init__(self, **fields: Any):
        self.__dict__.update(fields)

    def report(self) -> str:
        m = self.manifest
        return "\n".join(
            [
                f"Sensitivity ({m['method']}) of {m['scenario']['name']}: {m['points']} points x "
                f"{m['replications']} replications; results in {self.out}",
                "",
                self.indices.to_string(index=False, float_format=lambda v: f"{v:.3g}"),
            ]
        )

    def _repr_html_(self) -> str:
        """The notebook view: the indices table with its 95% bootstrap intervals."""
        m = self.manifest
        return (
            f"<b>Sensitivity</b> ({m['method']}) of {m['scenario']['name']}: {m['points']} "
            f"points x {m['replications']} replications ({self.out})"
            + self.indices.to_html(index=False, float_format=lambda v: f"{v:.3g}")
        )

    def __repr__(self) -> str:
        return f"Sensitivity(method={self.manifest['method']!r}, out={str(self.out)!r})"


def problem(spec: SensitivitySpec) -> dict[str, Any]:
    """The SALib problem: one variable per parameter, on the log scale if log-uniform."""
    return {
        "num_vars": len(spec.parameters),
        "names": [p.path for p in spec.parameters],
        "bounds": [
            [math.log(p.low), math.log(p.high)] if p.prior == "loguniform" else [p.low, p.high]
            for p in spec.parameters
        ],
    }


def to_values(spec: SensitivitySpec, x: np.ndarray) -> np.ndarray:
    """Sampled rows (SALib scale) -> parameter values (undo the log of log-uniform ones)."""
    x = np.array(x, dtype=float, copy=True)
    for j, p in enumerate(spec.parameters):
        if p.prior == "loguniform":
            x[:, j] = np.exp(x[:, j])
    return x


def sample(spec: SensitivitySpec, prob: dict[str, Any], seed: int) -> np.ndarray:
    """SALib's sample for the method (rows on the SALib scale)."""
    if spec.method == "sobol":
        from SALib.sample import sobol

        return sobol.sample(prob, spec.samples, calc_second_order=False, seed=seed)
    from SALib.sample import morris

    return morris.sample(prob, spec.samples, num_levels=spec.levels, seed=seed)


def analyse(
    spec: SensitivitySpec, prob: dict[str, Any], x: np.ndarray, y: np.ndarray, seed: int
) -> pd.DataFrame:
    """SALib's indices of one output ``y`` (one value per row of ``x``), one row per parameter."""
    if spec.method == "sobol":
        from SALib.analyze import sobol

        r = sobol.analyze(prob, y, calc_second_order=False, num_resamples=spec.bootstrap, seed=seed)
        cols = ("S1", "S1_conf", "ST", "ST_conf")
    else:
        from SALib.analyze import morris

        r = morris.analyze(
            prob, x, y, num_resamples=spec.bootstrap, num_levels=spec.levels, seed=seed
        )
        cols = ("mu_star", "mu_star_conf", "sigma")
    return pd.DataFrame({"parameter": prob["names"], **{c: np.asarray(r[c]) for c in cols}})


def one_at_a_time(prob: dict[str, Any]) -> np.ndarray:
    """The tornado's 2 D + 1 points (rows on the SALib scale): every parameter at the midpoint of
    its range (the log-midpoint for a log-uniform one), then each parameter in turn at the low
    end of its range, then each at the high end, the others at their midpoints."""
    bounds = np.asarray(prob["bounds"], dtype=float)
    d = len(bounds)
    mid = bounds.mean(axis=1)
    rows = np.tile(mid, (2 * d + 1, 1))
    for j in range(d):
        rows[1 + j, j] = bounds[j, 0]
        rows[1 + d + j, j] = bounds[j, 1]
    return rows


def swings(spec: SensitivitySpec, oat: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    """The tornado: per parameter, the output with that parameter at the low and at the high end
    of its range and every other parameter at its midpoint (``oat`` and ``y``: the points of
    `one_at_a_time` and the output there, each the mean over the same replications).

    The effect of one parameter alone, with the same random numbers at every point: a
    parameter the output never reads has the same value at both ends as at the centre. (The
    means over the samples in the lowest and highest fifth of a parameter's range, used before,
    mixed in the other parameters' variation: a parameter with Sobol indices of exactly 0 could
    show a longer bar than one that matters.)"""
    d = len(spec.parameters)
    return pd.DataFrame(
        {
            "parameter": [p.path for p in spec.parameters],
            "low": oat[1 : 1 + d, :].diagonal(),
            "high": oat[1 + d :, :].diagonal(),
            "centre": float(y[0]),
            "at_low": y[1 : 1 + d],
            "at_high": y[1 + d :],
        }
    )


def _column(results, point: int, keys: list[str], uses, key: str, name) -> np.ndarray:
    """Per replication, output ``name`` of scenario ``key`` at sample point ``point``."""
    per = results[point * len(keys) + keys.index(key)]
    return per[:, [u.name for u in uses[key]].index(name)]


def sensitivity(
    file: str | Path,
    out: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    seed: int | None = None,
    samples: int | None = None,
    consumers: int | None = None,
    replications: int | None = None,
    progress: bool = True,
) -> Sensitivity:
    """Run a sensitivity file (see the module docstring) into the folder ``out``.

    ``samples``, ``consumers`` and ``replications`` override the file's (a quick look first);
    ``workers``, ``scheduler``, ``client`` choose the executor (the numbers do not depend on it).
    """
    from ..experiments.executors import make_map

    started = time.perf_counter()
    loaded = load_sensitivity(file)
    spec: SensitivitySpec = loaded.spec
    update = {"samples": samples, "replications": replications}
    spec = spec.model_copy(update={k: int(v) for k, v in update.items() if v is not None})
    if spec.samples < 2 or spec.replications < 1:
        from ..core.errors import UserError

        raise UserError("--samples must be at least 2 and --replications at least 1")
    scenarios = {
        k: with_simulation(s, seed=seed, consumers=consumers)
        for k, s in {"": loaded.scenario, **loaded.references}.items()
    }
    base = scenarios[""]
    seed_ = base.simulation.seed
    paths = [p.path for p in spec.parameters]
    ints = integer_paths(paths)
    prob = problem(spec)
    x = sample(spec, prob, seed_ % (2**32))
    values = to_values(spec, x)
    oat = to_values(spec, one_at_a_time(prob))  # the tornado's points (`swings`)
    d = len(paths)
    for j, p in enumerate(spec.parameters):  # the range's ends as written (exp(log(x)) != x)
        oat[1 + j, j], oat[1 + d + j, j] = p.low, p.high
    for j, path in enumerate(paths):
        if path in ints:
            values[:, j] = np.round(values[:, j])
            oat[:, j] = np.round(oat[:, j])
    # which outputs each scenario must measure
    uses: dict[str, list] = {}
    for o in spec.outputs:
        wanted = [loaded.key(o.scenario), *([loaded.key(o.reference)] if o.reference else [])]
        for key in dict.fromkeys(wanted):
            if all(u.name != o.name for u in uses.setdefault(key, [])):
                uses[key].append(o)
    keys = list(uses)
    jobs = [
        Job(with_parameters(scenarios[k], dict(zip(paths, row, strict=True)), ints), uses[k])
        for row in np.vstack([values, oat])
        for k in keys
    ]
    root = Path(out)
    taskmap = make_map(workers=workers, scheduler=scheduler, client=client)
    manifest_base = dict(
        kind="sensitivity",
        file=str(file),
        spec=spec.model_dump(mode="json"),
        scenario={
            "path": str(loaded.scenario_file.resolve()),  # a file there, or bundled
            "name": base.name,
            "hash": base.content_hash(),
        },
        references={k: v.content_hash() for k, v in scenarios.items() if k},
        method=spec.method,
        seed=seed_,
        replications=spec.replications,
        points=len(values),
        tornado_points=len(oat),
        executor=taskmap.describe(),
    )
    write_json(root / "manifest.json", provenance(**manifest_base, status="running"))
    if progress:
        print(
            f"sensitivity ({spec.method}): {len(values)} points (+ {len(oat)} for the tornado) "
            f"x {len(keys)} scenario(s) x {spec.replications} replications = "
            f"{len(jobs) * spec.replications} runs"
        )
    try:
        results = measure(jobs, spec.replications, seed_, taskmap, store=root / "evaluations")
    except BaseException:  # Ctrl-C, SIGTERM, an error: stop the runs in progress now
        taskmap.close(cancel=True)
        raise
    finally:
        taskmap.close()
    # per point and scenario key: mean over replications of each output it measures
    ys: dict[str, np.ndarray] = {}
    for o in spec.outputs:
        col = []
        for i in range(len(values) + len(oat)):
            d = _column(results, i, keys, uses, loaded.key(o.scenario), o.name)
            if o.reference:
                d = d - _column(results, i, keys, uses, loaded.key(o.reference), o.name)
            col.append(float(np.mean(d)))
        ys[str(o.name)] = np.array(col)
    ys_oat = {name: y[len(values) :] for name, y in ys.items()}
    ys = {name: y[: len(values)] for name, y in ys.items()}
    tables, swing_tables = [], []
    for name, y in ys.items():
        if not (np.isfinite(y).all() and np.isfinite(ys_oat[name]).all()):
            from ..core.errors import UserError

            raise UserError(
                f"output {name!r} is undefined (NaN) at some sampled points; choose an output "
                "the model always produces at these sizes"
            )
        t = analyse(spec, prob, x, y, seed_ % (2**32))
        t.insert(0, "output", name)
        tables.append(t)
        s = swings(spec, oat, ys_oat[name])
        s.insert(0, "output", name)
        swing_tables.append(s)
    indices = pd.concat(tables, ignore_index=True)
    swing = pd.concat(swing_tables, ignore_index=True)
    samples = pd.DataFrame(values, columns=paths)
    for name, y in ys.items():
        samples[f"output:{name}"] = y
    write_csv(root / "indices.csv", indices)
    write_csv(root / "swings.csv", swing)
    write_parquet(root / "samples.parquet", samples)
    from . import plots

    charts = [
        plots.indices(indices, spec.method, root / "charts" / "indices.png"),
        plots.tornado(swing, root / "charts" / "tornado.png"),
    ]
    manifest = provenance(
        **manifest_base,
        status="complete",
        seconds=round(time.perf_counter() - started, 1),
        tables=["indices.csv", "swings.csv", "samples.parquet"],
        charts=[str(c.relative_to(root)) for c in charts],
    )
    write_json(root / "manifest.json", manifest)
    return Sensitivity(
        indices=indices, swings=swing, samples=samples, out=root, charts=charts, manifest=manifest
    )
