"""What the thread team's start costs the model's own thread (issue 14, `sim.core.team`).

    python benchmarks/team_setup.py            # 5 fresh processes

In a fresh process, runs a 5,000-consumer baseline model on 1 thread for two days (every kernel
loaded), then builds a 2-thread model and times its first and second day: the first day starts
the team (its first worker loads the team's compiled code while the model's passes run
serially), so the difference is what the start costs the model's thread. Prints one line per
process. Nothing here is a test: speed is reported, never asserted.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
from bench_lib import BASELINE, scenario
from sim.model import TrustModel
sc = scenario(BASELINE, consumers=5000, days=5, warmup=0)
m = TrustModel(sc, threads=1); m.step(); m.step()
m2 = TrustModel(sc, threads=2)
t = time.perf_counter(); m2.step(); a = time.perf_counter() - t
t = time.perf_counter(); m2.step(); b = time.perf_counter() - t
print(f"first 2-thread day {a * 1e3:.1f} ms, second {b * 1e3:.1f} ms: start {(a - b) * 1e3:.1f} ms")
"""


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", PROBE, str(ROOT / "benchmarks")],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        print(out.stdout.strip())


if __name__ == "__main__":
    main()
