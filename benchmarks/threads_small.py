"""One thread against two at a small market, phase by phase (issue 14).

    python benchmarks/threads_small.py                    # 20,000 consumers, 365 days
    python benchmarks/threads_small.py --consumers 100000 --days 73

Builds ``scenarios/baseline.toml`` at ``--consumers`` with a 30-day warm-up and runs ``--days``
recorded days with 1 and with 2 threads, alternated, ``--repeats`` times each (fresh models), and
prints the median wall and CPU time of the recorded days and each phase's wall time in ns per
consumer-day. The numbers of the two are identical (`tests/test_threads.py`); only the time
differs. Nothing here is a test: speed is reported, never asserted.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_lib import BASELINE, scenario  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--consumers", type=int, default=20000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    from sim.model import TrustModel

    TrustModel(scenario(BASELINE, consumers=2000, days=3, warmup=2)).run()  # kernels loaded
    sc = scenario(BASELINE, consumers=args.consumers, days=args.days, warmup=30)
    runs: dict[int, list] = {1: [], 2: []}
    print(f"load average before {os.getloadavg()[0]:.2f}")
    for _ in range(args.repeats):
        for threads in (1, 2):
            model = TrustModel(sc, threads=threads, timings=True)
            model.phase_times = dict.fromkeys(model.phase_times, 0.0)
            wall, cpu = time.perf_counter(), time.process_time()
            model.run()
            runs[threads].append(
                (time.perf_counter() - wall, time.process_time() - cpu, dict(model.phase_times))
            )
    per = args.consumers * args.days
    for threads, rs in runs.items():
        phases = {k: round(median(r[2][k] for r in rs) / per * 1e9, 1) for k in rs[0][2]}
        print(
            f"{threads} thread(s): wall {median(r[0] for r in rs):.3f} s, "
            f"cpu {median(r[1] for r in rs):.3f} s; ns per consumer-day: {phases}"
        )
    print(f"load average after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
