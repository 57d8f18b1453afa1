"""Pieces of the benchmark suite (see benchmarks/run.py and docs/PERFORMANCE.md).

Everything here measures; nothing changes the engine. Timings use ``time.perf_counter`` and are
reported as medians of repeats (the machine is shared and noisy).
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from statistics import median

import numba as nb
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
MARKET5 = BENCH / "market5.toml"
BASELINE = ROOT / "scenarios" / "baseline.toml"


# -- scenarios --------------------------------------------------------------------------------
def scenario(
    path: Path = MARKET5,
    consumers: int | None = None,
    days: int | None = None,
    warmup: int | None = 0,
):
    """A validated scenario from a TOML file without ``extends``, resized. The benchmarks time
    recorded days, so the warm-up (if the engine has one) is off unless ``warmup`` says."""
    from sim.scenario import Scenario

    data = tomllib.loads(path.read_text())
    if consumers is not None:
        data["simulation"]["consumers"] = int(consumers)
    if days is not None:
        data["simulation"]["days"] = int(days)
        # events after a shortened horizon would never happen (and are a validation error)
        data["events"] = [e for e in data.get("events", []) if e["day"] < int(days)]
    if (
        warmup is not None
        and "warmup_days" in Scenario.model_fields["simulation"].annotation.model_fields
    ):
        data["simulation"]["warmup_days"] = int(warmup)
    return Scenario.model_validate(data)


# -- machine and versions ---------------------------------------------------------------------
def machine() -> dict:
    """CPU model, cores, memory, caches, Python and library versions, git commit."""
    import mesa
    import numba
    import numpy

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    caches = {}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            key, _, value = line.partition(":")
            if "cache" in key.lower():
                caches[key.strip()] = value.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    commit, dirty = "unknown", None
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "sim"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=10,
            ).stdout.strip()
        )
    except (OSError, subprocess.SubprocessError):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gb": mem_gb,
        "caches": caches,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "numpy": numpy.__version__,
        "numba": numba.__version__,
        "mesa": mesa.__version__,
        "git_commit": commit,
        "sim_dirty": dirty,
        "numba_threads": nb.config.NUMBA_NUM_THREADS,
        "load_average_at_start": os.getloadavg(),
    }


# -- the engine, phase by phase ---------------------------------------------------------------
# The model's own phases (TrustModel(..., timings=True) adds up each one's wall time in
# model.phase_times), then ``record`` (tally, recorder, DataCollector) and ``other``: the rest of
# the step (zeroing the day's counters, the annual revenue, the loop itself).
PHASES = (
    "needs",
    "research",
    "outreach",
    "purchase",
    "incidents",
    "word_of_mouth",
    "forgetting",
    "churn",
    "record",
    "other",
)


# -- throughput -------------------------------------------------------------------------------
def engine_throughput(
    consumers: int, days: int, repeats: int, profile: bool = True, threads: int = 1
) -> dict:
    """Consumer-days per second of the full engine on market5: a fresh model per repeat, the
    step loop timed after construction (first-call compile excluded by a warm-up before), on
    ``threads`` threads; the process CPU time of the loop is recorded too."""
    from sim.model import TrustModel

    sc = scenario(consumers=consumers, days=days)
    step_times, cpu_times, init_times = [], [], []
    phases: list[dict[str, float]] = []
    nbytes = 0
    for _ in range(repeats):
        t = time.perf_counter()
        model = TrustModel(sc, threads=threads)
        init_times.append(time.perf_counter() - t)
        nbytes = model.population.nbytes()
        model.timings = profile
        t, c = time.perf_counter(), time.process_time()
        for _ in range(days):
            model.step()
        step_times.append(time.perf_counter() - t)
        cpu_times.append(time.process_time() - c)
        if profile:
            missing = set(PHASES) - {"other"} - set(model.phase_times)
            if missing:
                raise RuntimeError(f"phases missing from TrustModel.phase_times: {missing}")
            times = dict(model.phase_times)
            times["other"] = step_times[-1] - sum(times.values())
            phases.append(times)
        del model
    med = median(step_times)
    per_phase = {}
    if profile:
        for name in PHASES:
            per_phase[name] = median(p[name] for p in phases) / (consumers * days) * 1e9
    return {
        "consumers": consumers,
        "days": days,
        "brands": len(sc.brands),
        "repeats": repeats,
        "threads": threads,
        "step_seconds": step_times,
        "cpu_seconds": cpu_times,
        "cpu_ns_per_consumer_day": median(cpu_times) / (consumers * days) * 1e9,
        "init_seconds": init_times,
        "consumer_days_per_s": consumers * days / med,
        "ns_per_consumer_day": med / (consumers * days) * 1e9,
        "phase_ns_per_consumer_day": per_phase,
        "population_bytes_per_consumer": nbytes / consumers,
    }


def reference_throughput(consumers: int, days: int, repeats: int = 1) -> dict:
    """Consumer-days per second of the per-agent Mesa reference on the same market."""
    from sim.reference import ReferenceModel

    sc = scenario(consumers=consumers, days=days)
    steps, cpus, inits = [], [], []
    for _ in range(repeats):
        t = time.perf_counter()
        model = ReferenceModel(sc)
        inits.append(time.perf_counter() - t)
        t, c = time.perf_counter(), time.process_time()
        for _ in range(days):
            model.step()
        steps.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    med = median(steps)
    return {
        "consumers": consumers,
        "days": days,
        "repeats": repeats,
        "step_seconds": steps,
        "cpu_seconds": cpus,
        "cpu_ns_per_consumer_day": median(cpus) / (consumers * days) * 1e9,
        "init_seconds": inits,
        "consumer_days_per_s": consumers * days / med,
        "ns_per_consumer_day": med / (consumers * days) * 1e9,
    }


# -- memory bandwidth floor -------------------------------------------------------------------
@nb.njit(cache=True)
def _scale_inplace(a, factor):
    for k in range(a.size):
        a[k] *= factor


@nb.njit(cache=True)
def _triad(a, b, c, factor):
    for k in range(a.size):
        a[k] = b[k] + factor * c[k]


def stream(nbytes: int, repeats: int = 5) -> dict:
    """STREAM-like bandwidth, single thread: an in-place scale (read-modify-write, the engine's
    access pattern) and a triad, over float32 arrays of ``nbytes`` each. Bytes moved count reads
    plus writes; best and median of ``repeats``."""
    n = nbytes // 4
    a = np.ones(n, np.float32)
    _scale_inplace(a[:16], np.float32(1.0))  # compile outside the timing
    rmw = []
    for _ in range(repeats):
        t = time.perf_counter()
        _scale_inplace(a, np.float32(0.999999))
        rmw.append(2 * a.nbytes / (time.perf_counter() - t))
    b = np.ones(n, np.float32)
    c = np.ones(n, np.float32)
    _triad(a[:16], b[:16], c[:16], np.float32(0.5))
    triad = []
    for _ in range(repeats):
        t = time.perf_counter()
        _triad(a, b, c, np.float32(0.5))
        triad.append(3 * a.nbytes / (time.perf_counter() - t))
    return {
        "array_bytes": a.nbytes,
        "rmw_gb_s_best": max(rmw) / 1e9,
        "rmw_gb_s_median": median(rmw) / 1e9,
        "triad_gb_s_best": max(triad) / 1e9,
        "triad_gb_s_median": median(triad) / 1e9,
    }


def state_bytes(n_consumers: int = 1000, n_brands: int = 5) -> dict:
    """Bytes of consumer state per consumer-day, counted from the Population arrays' dtypes.

    ``state``: every per-consumer and per-consumer-brand array except the social network (read
    only by the ~10% who talk each day): the least a day must read. ``rmw``: that state read and
    written once (the engine's forgetting, churn and tally passes do touch all of it).
    """
    from sim.state.population import create_population

    sc = scenario(consumers=n_consumers)
    if len(sc.brands) != n_brands:
        raise ValueError("market5 has 5 brands")
    pop = create_population(sc, 1)
    per = {}
    for name, arr in pop._asdict().items():
        if name in ("tie_start", "ties"):
            continue
        cols = arr.shape[1] if arr.ndim == 2 else 1
        per[name] = arr.dtype.itemsize * cols
    network = (pop.tie_start.nbytes + pop.ties.nbytes) / n_consumers
    state = sum(per.values())
    return {
        "per_array": per,
        "state": state,
        "rmw": 2 * state,
        "network": network,
        "nbytes_per_consumer": pop.nbytes() / n_consumers,
    }


# -- the trivial-update ladder (context: what one agent-step costs in each style) --------------
class _Trivial:
    pass


def trivial_ladder(
    mesa_agents: int = 10_000, array_agents: int = 40_000_000, steps: int = 5
) -> dict:
    """ns per agent-step of a three-line update (v = 0.99 v + u; c += v > 1) as Mesa agents with
    shuffle_do (4 x ``steps`` steps), as NumPy array expressions, and as one fused Numba loop. The
    arrays (3 x 8 bytes x 40M = 960 MB) are far larger than the caches."""
    import mesa

    class Agent(mesa.Agent):
        def __init__(self, model):
            super().__init__(model)
            self.v = self.random.random()
            self.u = 0.01
            self.c = 0

        def step(self):
            self.v = 0.99 * self.v + self.u
            if self.v > 1.0:
                self.c += 1

    class Model(mesa.Model):
        def __init__(self, n):
            super().__init__(seed=1)
            Agent.create_agents(self, n)

        def step(self):
            self.agents.shuffle_do("step")

    m = Model(mesa_agents)
    m.step()
    times = []
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(4 * steps):
            m.step()
        times.append((time.perf_counter() - t) / (4 * steps * mesa_agents) * 1e9)
    out = {"mesa_shuffle_do_ns": median(times)}

    rng = np.random.default_rng(1)
    v = rng.random(array_agents)
    u = np.full(array_agents, 0.01)
    c = np.zeros(array_agents, np.int64)
    times = []
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(steps):
            v *= 0.99
            v += u
            c += v > 1.0
        times.append((time.perf_counter() - t) / (steps * array_agents) * 1e9)
    out["numpy_ns"] = median(times)

    _fused(v, u, c)
    times = []
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(steps):
            _fused(v, u, c)
        times.append((time.perf_counter() - t) / (steps * array_agents) * 1e9)
    out["numba_fused_ns"] = median(times)
    # the same update's floor: v read+written, u and c read, c written = 32 bytes per agent-step
    out["bytes_per_agent_step"] = 32
    return out


@nb.njit(cache=True)
def _fused(v, u, c):
    for i in range(v.size):  # branch-free, so the loop vectorises
        x = 0.99 * v[i] + u[i]
        v[i] = x
        c[i] += np.int64(x > 1.0)


# -- subprocess probes ------------------------------------------------------------------------
def run_probe(code: str, env: dict | None = None, timeout: float = 900) -> tuple[float, str]:
    """Run ``python -c code`` in a fresh interpreter; return (wall seconds, stdout)."""
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"probe failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return wall, proc.stdout
