"""Where a command's wall time goes: named marks, written out when ``OMNITRUST_TIMINGS`` is set.

``mark("charts")`` records that the step called ``charts`` ended now. With the environment variable
``OMNITRUST_TIMINGS`` unset (the default) a mark costs one dictionary look-up and nothing is
written. With ``OMNITRUST_TIMINGS=1`` the steps and their durations are printed to stderr when the
process exits; with ``OMNITRUST_TIMINGS=FILE`` they are written to FILE as JSON
(``{"marks": [[name, unix_time, cpu_seconds], ...], "exit": [unix_time, cpu_seconds],
"gc": [[name, full_collections_so_far, collector_on], ...]}``, CPU time being this process's,
`time.process_time`; ``gc`` counts the garbage collector's full collections, see
`sim.core.startup`), which is what
``benchmarks/startup.py`` reads to split the wall time of ``omnitrust run`` into imports, scenario
load, warm-up, simulation, charts, writing and exit. The first mark is taken when this module is
imported (``start``); each later mark's step is the time since the mark before it.
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import sys
import time

ENV = "OMNITRUST_TIMINGS"
_TARGET = os.environ.get(ENV, "")
_marks: list[tuple[str, float, float]] = (
    [("start", time.time(), time.process_time())] if _TARGET else []
)
_collector: list[tuple[str, int, bool]] = (
    [("start", gc.get_stats()[2]["collections"], gc.isenabled())] if _TARGET else []
)


def enabled() -> bool:
    """Whether marks are being recorded (``OMNITRUST_TIMINGS`` is set)."""
    return bool(_TARGET)


def mark(name: str) -> None:
    """Record that the step ``name`` ended now (no-op unless ``OMNITRUST_TIMINGS`` is set)."""
    if _TARGET:
        _marks.append((name, time.time(), time.process_time()))
        _collector.append((name, gc.get_stats()[2]["collections"], gc.isenabled()))


def restart() -> None:
    """Start the marks again from now (a process forked by the warm server, `sim.cli.server`,
    whose command starts when it is forked, not when this module was imported)."""
    if _TARGET:
        _marks[:] = [("start", time.time(), time.process_time())]
        _collector[:] = [("start", gc.get_stats()[2]["collections"], gc.isenabled())]


def marks() -> list[tuple[str, float, float]]:
    """The marks so far, ``(name, unix time, CPU seconds)``, in order."""
    return list(_marks)


def _report() -> None:
    end = (time.time(), time.process_time())
    if _TARGET in ("1", "-", "stderr"):
        lines = [f"{ENV}: step durations (s)   wall     cpu  full gc"]
        steps = [*_marks, ("(to exit)", *end)]
        full = [n for _, n, _ in _collector] + [gc.get_stats()[2]["collections"]]
        for k, ((_, wall0, cpu0), (name, wall, cpu)) in enumerate(
            zip(steps, steps[1:], strict=False)
        ):
            lines.append(
                f"  {name:<28} {wall - wall0:7.3f} {cpu - cpu0:7.3f} {full[k + 1] - full[k]:8d}"
            )
        print("\n".join(lines), file=sys.stderr)
        return
    with open(_TARGET, "w") as fh:  # a benchmark's scratch file, not a result: no atomic write
        json.dump({"marks": _marks, "exit": end, "gc": _collector}, fh)


if _TARGET:
    atexit.register(_report)
