"""Engine throughput on the baseline market at 200,000 consumers (issue 14's target).

    python benchmarks/engine200k.py                  # 1 thread, 3 repeats
    python benchmarks/engine200k.py --threads 2      # every core of this machine
    python benchmarks/engine200k.py --repeats 5 --days 30 --warmup 60

Builds ``scenarios/baseline.toml`` (3 brands) at 200,000 consumers with a short warm-up (so
journeys, consents and subscriptions are under way; construction is timed apart), then times
``days`` calls of ``TrustModel.step()`` with the per-phase timer on. Prints one JSON object:
consumer-days/s, consumer-brand-days/s and ns per consumer-brand-day (medians of the repeats),
the process CPU time per consumer-brand-day (less sensitive to other processes on the machine
than wall time, for one thread), ns per consumer-day of each phase (in CPU time on one thread,
wall time on several), and the load average before and after (the machine is shared:
quote it with the figure). A first small model compiles or loads every kernel before timing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_lib import BASELINE, scenario  # noqa: E402


def measure(consumers: int, days: int, warmup: int, repeats: int, threads: int) -> dict:
    """Time the baseline at ``consumers`` (see the module docstring); returns the figures."""
    import types

    import sim.model.market as market

    clock = market.time
    if threads == 1:  # phases in process CPU time: robust to other processes on a shared machine
        market.time = types.SimpleNamespace(perf_counter=time.process_time)
    try:
        return _measure(consumers, days, warmup, repeats, threads)
    finally:
        market.time = clock


def _measure(consumers: int, days: int, warmup: int, repeats: int, threads: int) -> dict:
    from sim.model import TrustModel

    kw = {"threads": threads}
    TrustModel(scenario(BASELINE, consumers=2000, days=3, warmup=2), **kw).run()
    sc = scenario(BASELINE, consumers=consumers, days=days, warmup=warmup)
    brands = len(sc.brands)
    load_before = os.getloadavg()
    steps, cpus, inits, phases = [], [], [], []
    for _ in range(repeats):
        t = time.perf_counter()
        model = TrustModel(sc, **kw)
        inits.append(time.perf_counter() - t)
        model.timings = True
        model.phase_times = dict.fromkeys(model.phase_times, 0.0)
        t, c = time.perf_counter(), time.process_time()
        for _ in range(days):
            model.step()
        steps.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
        times = dict(model.phase_times)
        times["other"] = (cpus[-1] if threads == 1 else steps[-1]) - sum(times.values())
        phases.append(times)
        del model
    med = median(steps)
    cd = consumers * days
    names = [p for p in phases[0] if p != "other"] + ["other"]
    return {
        "scenario": "scenarios/baseline.toml",
        "consumers": consumers,
        "brands": brands,
        "days": days,
        "warmup_days": warmup,
        "threads": threads,
        "repeats": repeats,
        "step_seconds": steps,
        "cpu_seconds": cpus,
        "init_seconds": inits,
        "consumer_days_per_s": cd / med,
        "consumer_brand_days_per_s": cd * brands / med,
        "ns_per_consumer_brand_day": med / (cd * brands) * 1e9,
        "cpu_ns_per_consumer_brand_day": median(cpus) / (cd * brands) * 1e9,
        "phase_clock": "process CPU time" if threads == 1 else "wall",
        "phase_ns_per_consumer_day": {
            p: round(median(x[p] for x in phases) / cd * 1e9, 1) for p in names
        },
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
    }


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--consumers", type=int, default=200_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=60)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    res = measure(a.consumers, a.days, a.warmup, a.repeats, a.threads)
    print(json.dumps(res, indent=1))
    return res


if __name__ == "__main__":
    main()
