"""Does a process that builds model after model keep them? (tests/test_lifetime.py asserts it.)

    python benchmarks/model_lifetime.py [MODELS [CONSUMERS [STEPS]]]   # default 12 50000 3

Builds MODELS baseline models of CONSUMERS consumers (the baseline's own warm-up) one after the
other in one process, steps each STEPS days and drops it (``del`` + ``gc.collect()``), and prints
after each: the resident set (MB, /proc/self/statm), how many of the models built so far are still
alive (weak references) and how many models Mesa's own ``mesa.Agent._ids`` holds. Before
`sim.core.mesa_core.Agent` every model stayed alive (the resident set grew by ~6 MB per 50,000
consumer model); now none does.
"""

from __future__ import annotations

import gc
import sys
import weakref

import mesa

from sim.model import TrustModel
from sim.runner import resolve


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def main(models: int = 12, consumers: int = 50_000, steps: int = 3) -> None:
    scenario = resolve("baseline", consumers=consumers, days=steps + 2)
    refs = []
    print("model  RSS MB  alive  mesa.Agent._ids")
    for i in range(models):
        m = TrustModel(scenario, seed=i)
        for _ in range(steps):
            m.step()
        refs.append(weakref.ref(m))
        del m
        gc.collect()
        alive = sum(r() is not None for r in refs)
        print(f"{i:5d}  {rss_mb():6.0f}  {alive:5d}  {len(getattr(mesa.Agent, '_ids', {})):15d}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
