"""Probe, not a tool: would running the model in a child forked before pandas is imported make
``omnitrust run`` quicker? (issue 14, docs/PERFORMANCE.md, "Towards 2 s, sixth round").

    OMNITRUST_THREADS=2 python benchmarks/fork_probe.py

Run ``omnitrust run scenarios/baseline.toml --replications 1 --consumers 20000`` once first, so
that the warm-up is in the user cache. After the scenario loads, the process forks: the child
imports the model with pandas behind a lazy import, reads the warm-up from the user cache, steps
the 365 days and sends the recorder's arrays back; the parent meanwhile imports pandas and the
output code and starts the chart painter, as ``omnitrust run`` does. Each line: process id,
seconds since the start, event. Compare "child ran" with the end of the simulation step of
``OMNITRUST_TIMINGS=1 omnitrust run scenarios/baseline.toml --replications 1 --consumers 20000
--workers 1`` (the sum of its steps up to "simulation").
"""

from __future__ import annotations

import importlib.util
import os
import pickle
import sys
import time

T0 = time.time()
RECORDED = ("counts", "stocks", "purchases", "revenue", "market", "days_recorded", "brands")


def mark(event: str) -> None:
    print(f"{os.getpid()} {time.time() - T0:6.3f} {event}", file=sys.stderr, flush=True)


def pandas_loaded() -> bool:
    return "pandas.core.frame" in sys.modules


def child(scenario, writer: int) -> None:
    """Run the scenario's first replication from its cached warm-up; send the recorded arrays."""
    spec = importlib.util.find_spec("pandas")
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["pandas"] = module
    loader.exec_module(module)  # (imported on first use of an attribute)

    from sim.core.numba_start import quick_start

    quick_start()
    from sim import runner
    from sim.core.streams import replication_seed
    from sim.model import TrustModel

    mark(f"child imported the model; pandas loaded: {pandas_loaded()}")
    task = (scenario.model_dump(mode="json"), 0, scenario.simulation.seed)
    _, k, seed, warm = runner.with_warm_starts([task], None, None)[0]
    model = TrustModel(scenario, seed=replication_seed(seed, k), replication=0, warm_start=warm)
    model.step()
    mark("child: first day done (kernels loaded)")
    model.run()
    mark("child ran")
    data = pickle.dumps({k: getattr(model.recorder, k) for k in RECORDED}, protocol=5)
    with os.fdopen(writer, "wb") as out:
        out.write(data)
    mark(f"child sent {len(data)} bytes; pandas loaded: {pandas_loaded()}")


def main() -> None:
    from sim.scenario.loading import load_scenario

    scenario = load_scenario("scenarios/baseline.toml", consumers=20000, replications=1)
    mark("scenario loaded")
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(reader)
            child(scenario, writer)
            code = 0
        finally:
            os._exit(code)
    os.close(writer)
    import pandas  # noqa: F401

    import sim.analysis.outputs  # noqa: F401
    from sim.analysis.painters import ChartPainters

    painters = ChartPainters.start()
    mark("parent imported pandas, painter started")
    with os.fdopen(reader, "rb") as inp:
        pickle.loads(inp.read())
    mark("parent got the arrays")
    os.waitpid(pid, 0)
    if painters is not None:
        painters.close()


if __name__ == "__main__":
    main()
