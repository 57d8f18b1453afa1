"""The ``omnitrust`` program's start-up without the garbage collector scanning what it loads
(issue 14).

Loading the modules ``omnitrust run`` needs (pydantic's schemas, Numba, pandas, pyarrow, Mesa, the
model) creates ~100,000 objects that live until the program ends. CPython's collector counts
them as new allocations and runs three full collections while they load; each scans every object
and frees next to nothing (179 of ~95,000): 0.15-0.2 s of a ~2.5 s command on this project's
2-core machine (measured with ``gc.callbacks``; `python benchmarks/loading_gc.py` repeats the
loading steps alone, and ``OMNITRUST_TIMINGS`` records the collections per step of a run).

`loading` turns the collector off while a command loads what it needs, then moves every object
it tracks into the collector's permanent generation (`gc.freeze`, which CPython documents for
objects created at start-up and kept for the process's life) and turns it back on, so the run
itself is collected as usual and later collections skip the loaded modules. The few reference
cycles that were already garbage when frozen (~1,000 objects, under 1 MB) stay until the program
exits. It acts only in the
program (`as_program`, called by `sim.cli.console`): called through `sim.cli.main` (tests, a
notebook) it leaves the caller's collector alone, since freezing would keep the caller's own
objects from ever being collected. Nothing the command computes depends on the collector: the
numbers are the same.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_program = False


def as_program() -> None:
    """This process is the ``omnitrust`` program: `loading` may freeze what it loads."""
    global _program
    _program = True


@contextmanager
def loading() -> Iterator[None]:
    """In the program: the collector is off within the block; on leaving it, what is alive is
    frozen and the collector is on again (unless it was off before). Elsewhere: nothing."""
    if not _program or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()
