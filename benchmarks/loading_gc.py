"""CPU time of what ``omnitrust run`` loads, with the garbage collector on and off (issue 14).

    python benchmarks/loading_gc.py              # 6 alternated pairs of fresh processes

Each process does what the run command does before its model runs (`sim.cli.run.cmd_run`):
validates ``scenarios/baseline.toml``, makes Numba's set-up (`quick_start`) and imports the output
and experiment modules, inside `sim.core.startup.loading`, as the program (collector off, then
frozen: ``off``) or as a caller of `sim.cli.main` is (collector on: ``on``). It prints the CPU
time of each and the medians, and the full collections of the last run of each (how many, their
time and the objects they freed, from ``gc.callbacks``). Nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import gc, json, sys, time
full = []  # (seconds, objects freed) of each full collection
def watch(phase, info, started=[0.0]):
    if info["generation"] == 2:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            full.append((time.perf_counter() - started[0], info["collected"]))
gc.callbacks.append(watch)
t = time.process_time()
from sim.core import startup
if sys.argv[1] == "off":
    startup.as_program()
with startup.loading():
    from sim.scenario.loading import load_scenario
    load_scenario({scenario!r}, consumers=20000, replications=1)
    from sim.core.numba_start import quick_start
    quick_start()
    from sim.analysis.outputs import save
    from sim.experiments import run
print(json.dumps([time.process_time() - t, full]))
"""


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=int, default=6)
    args = ap.parse_args(argv)
    code = CHILD.format(scenario=str(ROOT / "scenarios" / "baseline.toml"))
    cpu: dict[str, list[float]] = {"on": [], "off": []}
    full: dict[str, list[list]] = {"on": [], "off": []}
    for _ in range(args.pairs):
        for mode in cpu:
            out = subprocess.run(
                [sys.executable, "-c", code, mode], cwd=ROOT, capture_output=True, text=True,
                check=True,
            )  # fmt: skip
            seconds, collections = json.loads(out.stdout.strip().splitlines()[-1])
            cpu[mode].append(seconds)
            full[mode].append(collections)
    for mode, values in cpu.items():
        shown = " ".join(f"{v:.3f}" for v in values)
        print(f"collector {mode:<3}: median {median(values):.3f} s CPU ({shown})")
        last = full[mode][-1]
        print(
            f"  full collections while loading (last run): {len(last)}, "
            f"{sum(t for t, _ in last):.3f} s, {sum(n for _, n in last)} objects freed"
        )


if __name__ == "__main__":
    main()
