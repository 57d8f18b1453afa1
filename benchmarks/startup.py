"""Wall time of one quick ``omnitrust run`` at the command line, and where it goes (issue 14).

    python benchmarks/startup.py                 # median of 5 fresh runs of the command below
    python benchmarks/startup.py --repeats 3 --consumers 5000
    python benchmarks/startup.py --warm-cache    # the second invocation: warm-up in the user cache
    python benchmarks/startup.py --server        # the same with a warm server (omnitrust serve)

runs, each time in a fresh process and into a fresh folder,

    omnitrust run scenarios/baseline.toml --replications 1 --consumers 20000 --workers 1

(as ``python -m sim run ...``, the same entry point) with ``OMNITRUST_TIMINGS=<file>``, which makes
the command write the time of each of its steps (`sim.core.timing`). It prints the median wall
time and the median of each step, wall and CPU (CPU time is the process's own: on a loaded machine
it moves less than wall time), and writes everything with the load average and the machine to
``benchmarks/results/startup-<date>.json`` and ``startup-latest.json``.

Modes (the untimed first run warms Numba's cache, the OS file cache and the package's bytecode in
both: the runs ignore ``PYTHONDONTWRITEBYTECODE``):

* cold (default): every run, the untimed one included, gets its own empty user cache
  (``OMNITRUST_CACHE_DIR``) and a fresh ``--out``: each spins the 1,825-day warm-up up, as the
  first invocation on a machine does;
* ``--server``: as ``--warm-cache``, with a warm server (``omnitrust serve``, `sim.cli.server`)
  started first in the runs' environment, which runs each command in a child forked from its
  loaded state (results in ``startup-server-<date>.json``);
* ``--warm-cache``: the untimed run and the timed ones share one user cache in a temporary folder;
  the untimed run spins the warm-up up and saves it there, the timed ones, each into a fresh
  ``--out``, read it (what a consultant's second invocation of the command sees; results in
  ``startup-warm-<date>.json`` and ``startup-warm-latest.json``).

Steps, in order (the names of the marks in the code in brackets):

* imports: interpreter start, ``import sim``, the command's modules (until ``imports``);
* scenario load: TOML, ``extends``, validation (``scenario load``);
* warm-up: building the model: population and network, loading the cached Numba kernels, the
  ``simulation.warmup_days`` warm-up days (``warm-up``);
* simulation: the recorded days (``simulation``);
* tables: the tidy table, the run's provenance (``tidy table``, ``collect``);
* data files: summary table, timeseries.parquet, summary.csv (``write data``);
* charts: the PNG charts (``chart <name>``);
* manifest: scenarios.json, manifest.json (``write manifest``);
* summary: the headline summary and trend warnings printed (``summary``);
* exit: from the last mark until the process has ended (atexit handlers, interpreter shutdown).

Each step also shows the garbage collector's full collections in it (median over the runs;
``OMNITRUST_TIMINGS`` records them, `sim.core.startup` keeps them out of the start-up).

A second probe (``--kernels``, on by default) measures how much of the warm-up is Numba: in a fresh
process it builds a 200-consumer model without warm-up and steps it twice, then does it again;
the difference is loading the cached kernels, including Numba's one-off set-up of its compiler
target on the first load (which imports numba's implementation registries; the probe first calls
`sim.core.numba_start.quick_start`, as the run command does, so scipy.linalg's ``__init__`` and
cffi are not part of it; quick_start makes Numba's BLAS check itself, so its time counts with
the first build).

Nothing here is a test: speed is reported, never asserted (docs/PERFORMANCE.md).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

STEPS = {  # reported step -> the marks (sim.core.timing) whose durations it adds up
    "imports": ("start", "imports"),
    "scenario load": ("scenario load",),
    "warm-up": ("warm-up",),
    "simulation": ("simulation",),
    "tables": ("tidy table", "collect"),
    "data files": ("write data",),
    "charts": ("chart ",),  # every mark that starts with "chart "
    "manifest": ("write manifest",),
    "summary": ("summary",),
}

KERNEL_PROBE = r"""
import json, sys, time
import numba  # (imported by the model anyway: not part of what is timed)
try:
    from sim.core.numba_start import quick_start  # what the run command does first
except ImportError:  # (before issue 14's start-up work)
    quick_start = lambda: None
wall, cpu = time.perf_counter(), time.process_time()
quick_start()  # timed with the first build: it may make part of Numba's set-up (its BLAS check)
set_up = (time.perf_counter() - wall, time.process_time() - cpu)
from sim.model import TrustModel
from sim.scenario.loading import load_scenario
import sim.analysis.outcomes  # every module the run command imports before its first model

scenario = load_scenario(sys.argv[1], consumers=200, days=2)
scenario = scenario.model_copy(
    update={"simulation": scenario.simulation.model_copy(update={"warmup_days": 0})}
)
out = []
for _ in range(2):
    wall, cpu = time.perf_counter(), time.process_time()
    model = TrustModel(scenario)
    model.step()
    model.step()
    out.append((time.perf_counter() - wall, time.process_time() - cpu))
out[0] = (out[0][0] + set_up[0], out[0][1] + set_up[1])
print(json.dumps(out))
"""


def command(scenario: str, consumers: int, out: Path) -> list[str]:
    return [
        sys.executable, "-m", "sim", "run", scenario, "--replications", "1",
        "--consumers", str(consumers), "--workers", "1", "--out", str(out),
    ]  # fmt: skip


def env() -> dict[str, str]:
    e = dict(os.environ)
    # The untimed run writes the package's bytecode, as a user's first invocation does: with
    # PYTHONDONTWRITEBYTECODE set (some shells and containers set it) every timed run compiled
    # sim/ from source, ~0.1-0.15 s more of imports and scenario load (docs/PERFORMANCE.md).
    e.pop("PYTHONDONTWRITEBYTECODE", None)
    e["PYTHONPATH"] = str(ROOT) + (os.pathsep + e["PYTHONPATH"] if e.get("PYTHONPATH") else "")
    e.setdefault("MPLBACKEND", "Agg")
    return e


def server_env(shared: Path) -> dict[str, str]:
    """The one environment of every command of a ``--server`` benchmark (a server serves only
    its own environment): the shared user cache, one timing file, a socket folder of its own."""
    e = env()
    e["OMNITRUST_TIMINGS"] = str(shared / "marks.json")
    e["OMNITRUST_CACHE_DIR"] = str(shared)
    e["XDG_RUNTIME_DIR"] = str(shared)
    e.pop("OMNITRUST_WARMUP_CACHE", None)
    e.pop("OMNITRUST_SERVER", None)
    return e


def one_run(scenario: str, consumers: int, cache: Path | None = None, server: bool = False) -> dict:
    """One fresh run of the command: its wall time and the duration of each step. ``cache``:
    the user cache of saved warm-ups (default: an empty one of this run's own). ``server``: in
    the environment of `server_env` (``cache``), where a warm server runs it."""
    with tempfile.TemporaryDirectory(prefix="omnitrust-startup-") as tmp:
        if server:
            e = server_env(cache)
            marks_file = Path(e["OMNITRUST_TIMINGS"])
            marks_file.unlink(missing_ok=True)
        else:
            marks_file = Path(tmp) / "marks.json"
            e = env()
            e["OMNITRUST_TIMINGS"] = str(marks_file)
            e["OMNITRUST_CACHE_DIR"] = str(cache if cache is not None else Path(tmp) / "cache")
            e.pop("OMNITRUST_WARMUP_CACHE", None)
        cmd = command(scenario, consumers, Path(tmp) / "out")
        spawned = time.time()
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, env=e, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        ended = time.time()
        if proc.returncode != 0:
            raise SystemExit(f"the command failed ({proc.returncode}):\n{proc.stderr}")
        data = json.loads(marks_file.read_text())
    marks = data["marks"]
    # the collector's full collections so far, per mark (timing files of commits before 5b88212
    # have none: NaN)
    full = [n for _, n, _ in data["gc"]] if "gc" in data else [math.nan] * len(data["marks"])
    steps = {name: [0.0, 0.0, 0] for name in STEPS}
    prev_wall, prev_cpu = spawned, 0.0
    for k, (name, at_wall, at_cpu) in enumerate(marks):
        for step, names in STEPS.items():
            if name in names or (names == ("chart ",) and name.startswith("chart ")):
                steps[step][0] += at_wall - prev_wall
                steps[step][1] += at_cpu - prev_cpu
                steps[step][2] += full[k] - full[k - 1] if k else 0  # (a served
                # command is forked from a server that has collected before)
                break
        else:
            raise SystemExit(f"unknown timing mark {name!r}: add it to STEPS")
        prev_wall, prev_cpu = at_wall, at_cpu
    # from the last mark until the process ended; CPU only up to the atexit handler
    steps["exit"] = [ended - prev_wall, data["exit"][1] - prev_cpu, 0]
    return {"wall_s": wall, "steps": steps}


def kernel_probe(scenario: str) -> dict:
    """First and second build+2 days of a tiny model in a fresh process (see module doc)."""
    proc = subprocess.run(
        [sys.executable, "-c", KERNEL_PROBE, scenario],
        cwd=ROOT,
        env=env(),
        capture_output=True,
        text=True,
        check=True,
    )
    (w1, c1), (w2, c2) = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"first_wall_s": w1, "first_cpu_s": c1, "second_wall_s": w2, "second_cpu_s": c2}


def interpreter_start() -> float:
    """Wall time of ``python -c pass`` (the part of 'imports' no package can save)."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - t0


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--consumers", type=int, default=20000)
    ap.add_argument("--scenario", default="scenarios/baseline.toml")
    ap.add_argument("--no-kernels", dest="kernels", action="store_false")
    ap.add_argument("--no-save", dest="save", action="store_false", help="print only")
    ap.add_argument(
        "--warm-cache",
        action="store_true",
        help="time the second invocation: the warm-up saved in the user cache by an untimed run",
    )
    ap.add_argument(
        "--server",
        action="store_true",
        help="with a warm server (omnitrust serve) started first; implies --warm-cache",
    )
    args = ap.parse_args(argv)
    args.warm_cache = args.warm_cache or args.server

    with tempfile.TemporaryDirectory(prefix="omnitrust-startup-cache-") as shared:
        cache = Path(shared) if args.warm_cache else None
        if args.server:
            serve = [sys.executable, "-m", "sim", "serve", "--idle", "10"]
            subprocess.run(serve, cwd=ROOT, env=server_env(cache), check=True, capture_output=True)
        try:
            load_before = os.getloadavg()
            one_run(args.scenario, args.consumers, cache, args.server)  # untimed: caches
            runs = [
                one_run(args.scenario, args.consumers, cache, args.server)
                for _ in range(args.repeats)
            ]
            load_after = os.getloadavg()
        finally:
            if args.server:
                stop = [*serve[:4], "--stop"]
                subprocess.run(stop, cwd=ROOT, env=server_env(cache), capture_output=True)
        saved = sorted(p.name for p in Path(shared).rglob("*.npz")) if cache else []
    if args.warm_cache and not saved:
        raise SystemExit("--warm-cache: the untimed run saved no warm-up state")
    mode = "server" if args.server else "warm-cache" if args.warm_cache else "cold"
    kernels = kernel_probe(args.scenario) if args.kernels else None
    start = median(interpreter_start() for _ in range(5))

    walls = [r["wall_s"] for r in runs]
    names = [*STEPS, "exit"]
    med = {n: tuple(median(r["steps"][n][j] for r in runs) for j in range(3))
           for n in names}  # fmt: skip
    shown = " ".join(command(args.scenario, args.consumers, Path("DIR"))[2:])
    lines = [
        f"python {shown}",
        f"{args.repeats} fresh runs ({mode}: "
        + (
            "a warm server (omnitrust serve) ran them; warm-up from the user cache"
            if args.server
            else "warm-up read from the user cache an untimed run filled"
            if args.warm_cache
            else "each with an empty user cache, spinning the warm-up up"
        )
        + f"), load average {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after; commit {git_commit()}",
        f"wall: median {median(walls):.2f} s (min {min(walls):.2f}, max {max(walls):.2f})",
        f"{'step':<16}{'wall s':>8}{'cpu s':>8}{'full gc':>9}",
    ]
    lines += [f"{n:<16}{w:>8.3f}{c:>8.3f}{g:>9g}" for n, (w, c, g) in med.items()]
    lines.append(f"(interpreter start, python -c pass: {start:.3f} s, part of imports)")
    if kernels:
        load = kernels["first_wall_s"] - kernels["second_wall_s"]
        load_cpu = kernels["first_cpu_s"] - kernels["second_cpu_s"]
        lines.append(
            f"Numba kernel loading (part of warm-up): {load:.3f} s wall, {load_cpu:.3f} s cpu "
            f"(tiny model, first build + 2 days {kernels['first_wall_s']:.3f} s, "
            f"second {kernels['second_wall_s']:.3f} s)"
        )
    text = "\n".join(lines)
    print(text)
    if args.save:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%S")
        record = {
            "command": f"omnitrust {' '.join(command(args.scenario, args.consumers, Path('DIR'))[3:])}",
            "created": stamp,
            "mode": mode,
            "commit": git_commit(),
            "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
            "load_average_before": load_before,
            "load_average_after": load_after,
            "wall_s": walls,
            "median_wall_s": median(walls),
            "median_steps_s": {
                n: {"wall": w, "cpu": c, "full_gc": g} for n, (w, c, g) in med.items()
            },
            "runs": runs,
            "kernel_probe": kernels,
            "interpreter_start_s": start,
            "text": text,
        }
        RESULTS.mkdir(parents=True, exist_ok=True)
        prefix = {"server": "startup-server", "warm-cache": "startup-warm"}.get(mode, "startup")
        for name in (f"{prefix}-{stamp}.json", f"{prefix}-latest.json"):
            (RESULTS / name).write_text(json.dumps(record, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
