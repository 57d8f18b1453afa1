"""The fixed cost of a day: milliseconds per day at a calibration-sized population.

    python benchmarks/day_cost.py                       # 3,000 consumers, 1,825-day warm-up, 3 repeats
    python benchmarks/day_cost.py --consumers 10000 --recorded 365

Builds ``scenarios/baseline.toml`` (3 brands) at ``--consumers`` with its warm-up of
``--warmup`` days (the default warm-up, 1,825 days) and then runs ``--recorded`` recorded days,
as a calibration candidate does. Each repeat is a fresh model; the warm-up (construction minus
the population's creation, measured on a model without warm-up) and the recorded days are timed
in process CPU time and wall time, with the per-phase timer on. Prints one JSON object: ms per
warm-up day and per recorded day (CPU, median of the repeats), ns per consumer-day of each phase
over the warm-up and the recorded days, and the load average before and after (the machine is
shared: quote it with the figure). A first small model compiles or loads every kernel first.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import types
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_lib import BASELINE, scenario  # noqa: E402


def measure(consumers: int, warmup: int, recorded: int, repeats: int) -> dict:
    import sim.model.market as market
    from sim.model import TrustModel

    clock = market.time
    market.time = types.SimpleNamespace(perf_counter=time.process_time)  # phases in CPU time
    try:
        TrustModel(scenario(BASELINE, consumers=2000, days=3, warmup=2)).run()
        sc = scenario(BASELINE, consumers=consumers, days=recorded, warmup=warmup)
        sc0 = scenario(BASELINE, consumers=consumers, days=recorded, warmup=0)
        load_before = os.getloadavg()
        base, warm, warm_wall, rec, rec_wall, warm_phases, rec_phases = [], [], [], [], [], [], []
        for _ in range(repeats):
            c = time.process_time()
            TrustModel(sc0)
            base.append(time.process_time() - c)
            c, w = time.process_time(), time.perf_counter()
            model = TrustModel(sc, timings=True)
            warm.append(time.process_time() - c - base[-1])
            warm_wall.append(time.perf_counter() - w)
            warm_phases.append(dict(model.phase_times))
            model.phase_times = dict.fromkeys(model.phase_times, 0.0)
            c, w = time.process_time(), time.perf_counter()
            model.run()
            rec.append(time.process_time() - c)
            rec_wall.append(time.perf_counter() - w)
            rec_phases.append(dict(model.phase_times))
            del model
        load_after = os.getloadavg()
    finally:
        market.time = clock

    def per_phase(runs: list[dict], days: int) -> dict:
        return {
            name: round(median(r[name] for r in runs) / (consumers * days) * 1e9, 1)
            for name in runs[0]
        }

    return {
        "scenario": "scenarios/baseline.toml",
        "consumers": consumers,
        "warmup_days": warmup,
        "recorded_days": recorded,
        "repeats": repeats,
        "warmup_cpu_ms_per_day": round(median(warm) / warmup * 1e3, 3) if warmup else None,
        "recorded_cpu_ms_per_day": round(median(rec) / recorded * 1e3, 3) if recorded else None,
        "warmup_cpu_s": [round(x, 3) for x in warm],
        "warmup_wall_s_with_build": [round(x, 3) for x in warm_wall],
        "recorded_cpu_s": [round(x, 3) for x in rec],
        "recorded_wall_s": [round(x, 3) for x in rec_wall],
        "build_cpu_s_without_warmup": [round(x, 3) for x in base],
        "warmup_phase_cpu_ns_per_consumer_day": per_phase(warm_phases, max(warmup, 1)),
        "recorded_phase_cpu_ns_per_consumer_day": per_phase(rec_phases, max(recorded, 1)),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
    }


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--consumers", type=int, default=3000)
    ap.add_argument("--warmup", type=int, default=1825)
    ap.add_argument("--recorded", type=int, default=365)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    res = measure(args.consumers, args.warmup, args.recorded, args.repeats)
    print(json.dumps(res, indent=1))
    return res


if __name__ == "__main__":
    main()
