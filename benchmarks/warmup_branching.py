"""What spinning each warm-up up once (and keeping it) saves: wall time of whole commands.

    python benchmarks/warmup_branching.py              # 3 repeats of each, ~10 min on 2 cores
    python benchmarks/warmup_branching.py --repeats 5

Times, in fresh processes, the medians of:

* ``all``: ``python -m sim run scenarios/*.toml --consumers 5000 --replications 2 --workers 2``
  - ``before``: ``OMNITRUST_BRANCH=off``, every run spins its own warm-up up (the code before
    branching);
  - ``branched``: a fresh results folder and an empty user cache: scenarios that share a warm-up
    branch from one state, each unique warm-up is spun up once per replication;
  - ``rerun``: the same command again into the same folder: every warm-up is read from
    ``<out>/warmups/``;
* ``one`` (issue 14): ``python -m sim run scenarios/baseline.toml --replications 1 --consumers
  20000 --workers 1``, first invocation (cold) and second (warm-up read from the folder).

Writes ``benchmarks/results/warmup_branching.json`` with the load average before and after.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _timed(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "run", *args, "--no-progress"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    opts = ap.parse_args()
    scenarios = sorted(glob.glob(str(ROOT / "scenarios" / "*.toml")))
    every = [*scenarios, "--consumers", "5000", "--replications", "2", "--workers", "2"]
    one = [
        str(ROOT / "scenarios" / "baseline.toml"),
        *("--replications", "1", "--consumers", "20000", "--workers", "1"),
    ]
    base_env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    times: dict[str, list[float]] = {
        k: [] for k in ("all_before", "all_branched", "all_rerun", "one_cold", "one_rerun")
    }
    load_start = os.getloadavg()
    _timed([*one[:1], "--days", "2", "--consumers", "100", "--out", tempfile.mkdtemp()], base_env)
    for _ in range(opts.repeats):
        with tempfile.TemporaryDirectory(prefix="omnitrust-bench-") as tmp:
            env = {**base_env, "OMNITRUST_CACHE_DIR": str(Path(tmp) / "cache")}
            off = {**env, "OMNITRUST_BRANCH": "off"}
            times["all_before"].append(_timed([*every, "--out", f"{tmp}/before"], off))
            times["all_branched"].append(_timed([*every, "--out", f"{tmp}/all"], env))
            times["all_rerun"].append(_timed([*every, "--out", f"{tmp}/all"], env))
            times["one_cold"].append(_timed([*one, "--out", f"{tmp}/one"], env))
            times["one_rerun"].append(_timed([*one, "--out", f"{tmp}/one"], env))
            shutil.rmtree(tmp, ignore_errors=True)
        print({k: round(v[-1], 2) for k, v in times.items()}, flush=True)
    result = {
        "medians_s": {k: round(statistics.median(v), 2) for k, v in times.items()},
        "times_s": times,
        "repeats": opts.repeats,
        "load_average_start": load_start,
        "load_average_end": os.getloadavg(),
        "cpus": os.cpu_count(),
        "scenarios": [Path(s).name for s in scenarios],
        "commands": {
            "all": "python -m sim run scenarios/*.toml --consumers 5000 --replications 2 "
            "--workers 2",
            "one": "python -m sim run scenarios/baseline.toml --replications 1 --consumers 20000 "
            "--workers 1",
        },
    }
    out = ROOT / "benchmarks" / "results" / "warmup_branching.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["medians_s"], indent=2))
    print(f"load average {load_start} -> {result['load_average_end']}; written to {out}")


if __name__ == "__main__":
    main()
