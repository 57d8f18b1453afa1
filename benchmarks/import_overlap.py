"""Does importing in a thread overlap with building and running a model? (issue 14)

    python benchmarks/import_overlap.py          # 3 alternated rounds of the three modes

Each round runs, in fresh processes: ``seq``, import matplotlib.pyplot and scipy.stats (modules
of the weight of pandas + pyarrow that the model does not use) and then build and run
``scenarios/baseline.toml`` at 20,000 consumers for 365 days without warm-up on one thread;
``thread``, the same import in a thread started before the model is built; ``thread-fast``, the
same with a 0.5 ms GIL switch interval. The model's first build loads its compiled kernels from
Numba's cache inside the timed part, as the run command's does. It prints each run's total wall time and the import's
own. The question it answers: could ``omnitrust run`` load pandas and pyarrow (needed only
after the simulated year) while the model starts? Nothing here is a test.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = """
import sys, threading, time
sys.path.insert(0, {here!r})
mode = sys.argv[1]
import sim.core.numba_start as ns
ns.quick_start()
from bench_lib import BASELINE, scenario
from sim.model import TrustModel
sc = scenario(BASELINE, consumers=20000, days=365, warmup=0)
took = []
def imp():
    t = time.perf_counter()
    import matplotlib.pyplot, scipy.stats
    took.append(time.perf_counter() - t)
t0 = time.perf_counter()
if mode == "seq":
    imp()
    TrustModel(sc, threads=1).run()
else:
    if mode == "thread-fast":
        sys.setswitchinterval(0.0005)
    th = threading.Thread(target=imp)
    th.start()
    TrustModel(sc, threads=1).run()
    th.join()
print(f"{{mode:<12}} total {{time.perf_counter() - t0:.3f}} s, import {{took[0]:.3f}} s")
"""


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    code = CHILD.format(here=str(HERE))
    for _ in range(args.rounds):
        for mode in ("seq", "thread", "thread-fast"):
            out = subprocess.run(
                [sys.executable, "-c", code, mode], capture_output=True, text=True, check=True
            )
            print(out.stdout.strip().splitlines()[-1], flush=True)


if __name__ == "__main__":
    main()
