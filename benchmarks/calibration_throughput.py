"""Calibration throughput: candidate evaluations per hour (issue 14).

    python benchmarks/calibration_throughput.py                       # 5,000 and 20,000 consumers
    python benchmarks/calibration_throughput.py --consumers 5000 --repeats 3 --threads 2
    python benchmarks/calibration_throughput.py --consumers 3000 --replications 4  # the fit's size

A candidate evaluation is what `omnitrust calibrate calibration/baseline.toml` does for one Optuna
trial or one ABC particle: the file's scenario at the candidate's parameter values, its
``replications`` replications (4; ``--replications`` overrides) of ``days`` days (365) after the
scenario's warm-up (``simulation.warmup_days``, 1,825 days), each with the breach runs the breach
targets need (one breach of each brand, 486 days each, branched from the replication's one
warm-up: `sim.calibration.measure.measure_task`), then the targets. The candidate
here is the middle of every parameter's prior range. Evaluations run one after another in this
process (``workers=1``, the ``--threads`` given), timed with the wall clock and the process CPU
time; a first small evaluation loads the kernels. Prints one JSON object with seconds per
candidate and candidates per hour for each size, the load average before and after (the machine
is shared: quote it), and ``per_hour_all_cores``: candidates per hour if every core ran one
replication process of its own (the replications of a candidate are independent tasks; this is
the single-process figure times the cores, not a measurement).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "calibration" / "baseline.toml"


def candidate(spec) -> dict[str, float]:
    """The middle of every parameter's range (geometric middle for log-uniform priors)."""
    point = {}
    for p in spec.parameters:
        if p.prior == "loguniform":
            point[p.path] = (p.low * p.high) ** 0.5
        else:
            point[p.path] = 0.5 * (p.low + p.high)
    return point


def evaluate_once(loaded, consumers: int, replications: int) -> tuple[float, float]:
    from sim.calibration.measure import integer_paths, measure, points_to_jobs

    spec = loaded.spec
    scenario = loaded.scenario.with_overrides(consumers=consumers)
    paths = [p.path for p in spec.parameters]
    jobs = points_to_jobs(scenario, [candidate(spec)], list(spec.targets), integer_paths(paths))
    t, c = time.perf_counter(), time.process_time()
    values = measure(jobs, replications, scenario.simulation.seed, map)
    assert values[0].shape == (replications, len(spec.targets))
    return time.perf_counter() - t, time.process_time() - c


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--consumers", type=int, nargs="+", default=[5000, 20000])
    ap.add_argument("--repeats", type=int, default=1, help="candidates timed per size")
    ap.add_argument("--threads", type=int, default=1, help="threads per replication")
    ap.add_argument(
        "--replications", type=int, help="replications per candidate (default: the file's)"
    )
    a = ap.parse_args(argv)
    os.environ["OMNITRUST_THREADS"] = str(a.threads)
    sys.path.insert(0, str(ROOT))
    from sim.calibration.spec import load_calibration

    loaded = load_calibration(SPEC)
    reps = loaded.spec.replications if a.replications is None else a.replications
    if reps < 1:
        ap.error(f"--replications = {reps}: must be at least 1")
    sc = loaded.scenario
    evaluate_once(replace(loaded, scenario=sc.with_overrides(days=5)), 500, 1)  # load the kernels
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    out = {
        "spec": "calibration/baseline.toml",
        "replications": reps,
        "days": sc.simulation.days,
        "warmup_days": sc.simulation.warmup_days,
        "threads": a.threads,
        "workers": 1,
        "cores": cores,
        "load_average_before": os.getloadavg(),
        "sizes": {},
    }
    for n in a.consumers:
        walls, cpus = [], []
        for _ in range(a.repeats):
            w, c = evaluate_once(loaded, n, reps)
            walls.append(w)
            cpus.append(c)
        wall = median(walls)
        out["sizes"][str(n)] = {
            "seconds_per_candidate": walls,
            "cpu_seconds_per_candidate": cpus,
            "per_hour": 3600.0 / wall,
            "per_hour_cpu": 3600.0 / median(cpus),
            "per_hour_all_cores": 3600.0 / median(cpus) * cores,
        }
    out["load_average_after"] = os.getloadavg()
    print(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
