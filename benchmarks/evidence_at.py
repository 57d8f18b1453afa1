"""The published figures of `omnitrust evidence` at chosen parameter values, side by side.

    python benchmarks/evidence_at.py --point journey.channel_switching=0.95 \
        --point population.affinity_concentration=4 --consumers 2000 --replications 1

Each ``--point`` is one set of values (comma-separated ``path=value`` pairs, dotted scenario paths
as in calibration files); the first column is the calibration file's scenario as it is (its
defaults). Every point is measured exactly as `omnitrust calibrate` measures a candidate
(`sim.calibration.measure`, the same replication seeds for every point: common random numbers), on
the fitted targets and the validation figures of ``--file``. A quick way to see whether a
parameter can move a figure at all before putting it in a fit (docs/CALIBRATION.md, "Figures out
of reach").
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.calibration.measure import measure, points_to_jobs  # noqa: E402
from sim.calibration.spec import load_calibration  # noqa: E402
from sim.experiments.executors import make_map  # noqa: E402


def parse_point(text: str) -> dict[str, float]:
    point = {}
    for pair in filter(None, text.split(",")):
        path, _, value = pair.partition("=")
        point[path.strip()] = float(value)
    return point


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--file", type=Path, default=ROOT / "calibration" / "baseline.toml")
    p.add_argument("--point", action="append", default=[], help="path=value[,path=value...]")
    p.add_argument("--consumers", type=int, default=2000)
    p.add_argument("--replications", type=int, default=1)
    p.add_argument("--workers", type=int, default=1)
    args = p.parse_args(argv)
    loaded = load_calibration(args.file)
    scenario = loaded.scenario.with_overrides(consumers=args.consumers)
    outputs = list(loaded.spec.targets) + list(loaded.spec.validation)
    points = [{}] + [parse_point(t) for t in args.point]
    taskmap = make_map(workers=args.workers)
    started = time.perf_counter()
    try:
        runs = measure(
            points_to_jobs(scenario, points, outputs),
            args.replications,
            scenario.simulation.seed,
            taskmap,
        )
    finally:
        taskmap.close()
    table = pd.DataFrame(
        {
            "figure": [o.name for o in outputs],
            "fitted": [True] * len(loaded.spec.targets) + [False] * len(loaded.spec.validation),
            "published": [o.value for o in outputs],
            **{f"point {k}": r.mean(axis=0) for k, r in enumerate(runs)},
        }
    )
    print(
        f"{args.file.name}: {args.consumers} consumers, {args.replications} replication(s) "
        f"({time.perf_counter() - started:.0f} s)"
    )
    for k, point in enumerate(points):
        label = ", ".join(f"{p}={v:g}" for p, v in point.items()) or "the defaults"
        print(f"  point {k}: {label}")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
