"""Peak memory per consumer of the engine, measured in a fresh interpreter (run by run.py).

    python benchmarks/memory_probe.py CONSUMERS [DAYS]

Baseline: the interpreter after importing the engine and running a 1000-consumer model for two
days (so the Numba kernels are loaded). Then a CONSUMERS x 5-brand market5 model is built and run
for DAYS days. The warm-up model's market turns over at 90% a year so that consumers leave it in
its two days: otherwise the turnover kernel (`sim.mechanisms.turnover._reborn`) is first called
by the measured model, and with a cold Numba cache (the first run after its source changed) its
compilation, ~35 MB held by the process whatever the number of consumers, counted as 35 B per
consumer at 1M (206.5 B per consumer instead of 171.4 on the same engine). Prints one JSON
object:

* peak_rss_bytes_per_consumer: (VmHWM after - VmHWM at baseline) / N: the true peak,
  including transient arrays of the build;
* rss_bytes_per_consumer: (resident set now - at baseline) / N: what the running model holds;
* tracemalloc_*: NumPy allocations traced by tracemalloc (arrays allocated inside Numba kernels
  are invisible to it, so these can undercount);
* population_nbytes_per_consumer: Population.nbytes() / N;
* compiled_after_baseline: the engine's compiled functions that gained a signature (compiled, or
  loaded from the cache) after the baseline; [] unless the warm-up model missed a kernel, whose
  compilation then counts in the peak.
"""

from __future__ import annotations

import json
import sys
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_lib import scenario  # noqa: E402


def status(field: str) -> int:
    """A memory field of /proc/self/status in bytes (VmRSS: resident now; VmHWM: peak resident
    of this process image; unlike ru_maxrss, not inherited from the parent across fork+exec)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(field)


def compiled() -> dict[str, int]:
    """Signatures of every Numba-compiled function of the engine's loaded modules, by name."""
    from numba.core.dispatcher import Dispatcher

    out = {}
    for name, module in list(sys.modules.items()):
        if name == "sim" or name.startswith("sim."):
            for value in list(vars(module).values()):
                if isinstance(value, Dispatcher):
                    f = value.py_func
                    out[f"{f.__module__}.{f.__qualname__}"] = len(value.signatures)
    return out


def main() -> None:
    n = int(sys.argv[1])
    days = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    from sim.model import TrustModel

    turnover = {"population.turnover_per_year": 0.9}  # consumers leave in 2 days: see above
    warm = TrustModel(scenario(consumers=1000, days=2), overrides=turnover)
    warm.run()
    del warm
    loaded = compiled()
    base_peak = status("VmHWM")
    base_rss = status("VmRSS")
    tracemalloc.start()
    model = TrustModel(scenario(consumers=n, days=days))
    built_traced, built_peak_traced = tracemalloc.get_traced_memory()
    for _ in range(days):
        model.step()
    traced, peak_traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak = status("VmHWM")
    late = sorted(k for k, v in compiled().items() if v > loaded.get(k, 0))
    print(
        json.dumps(
            {
                "consumers": n,
                "brands": len(model.brands),
                "days": days,
                "baseline_rss_mb": base_rss / 2**20,
                "baseline_peak_rss_mb": base_peak / 2**20,
                "peak_rss_bytes_per_consumer": (peak - base_peak) / n,
                "rss_bytes_per_consumer": (status("VmRSS") - base_rss) / n,
                "tracemalloc_current_bytes_per_consumer": traced / n,
                "tracemalloc_peak_bytes_per_consumer": max(peak_traced, built_peak_traced) / n,
                "tracemalloc_after_build_bytes_per_consumer": built_traced / n,
                "population_nbytes_per_consumer": model.population.nbytes() / n,
                "compiled_after_baseline": late,
            }
        )
    )


if __name__ == "__main__":
    main()
