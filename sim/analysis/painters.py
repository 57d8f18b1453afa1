"""Draw a run's charts in helper processes, in parallel with the model and with each other.

Drawing the three charts of ``omnitrust run`` costs about as much CPU as importing matplotlib plus
a year of a 20,000-consumer market's bookkeeping (issue 14: ~0.35 s to import matplotlib, ~0.3-0.5 s
per chart, mostly constrained layout, text and PNG encoding). Everything in this process is
single-threaded, so on a machine with two or more cores `ChartPainters` forks one process per
group of charts (`GROUPS`) *before* the run starts: each imports matplotlib and the chart code while
the model warms up and runs here, then waits. `ChartPainters.paint` sends them the finished
`RunResult`; they draw and write their charts (atomically, the same functions and arguments as
`sim.analysis.outputs.save` uses in this process, so the files are the same bytes) while this
process writes the data files; `ChartPainters.collect` waits for them (at most `PAINT_TIMEOUT`)
and returns the files written.

Only where ``fork`` exists (Linux, macOS) and more than one core is available; otherwise
`start` returns None and ``save`` draws the charts itself, as it does for any chart a painter
could not draw (a painter that fails reports nothing, and its charts are drawn again here, so an
error surfaces here with its usual message). Painters ignore Ctrl-C (this process handles it) and
are daemons: they end with this process.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..runner import RunResult

# Charts per painter process: about equal work each (trust and breach_window share one, as the
# breach window is drawn only when a scenario has a breach).
GROUPS: tuple[tuple[str, ...], ...] = (
    ("trust.png", "breach_window.png"),
    ("revenue.png",),
    ("consent.png",),
)


PAINT_TIMEOUT = 120.0
"""Seconds `ChartPainters.collect` waits for the painters (drawing takes ~0.5 s a chart): a
painter that has not answered by then is stopped and its charts are drawn in this process."""


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # (not Linux)
        return os.cpu_count() or 1


def draw(name: str, result: RunResult, folder: Path, band: str) -> Path | None:
    """Draw chart ``name`` of ``result`` and write it to ``folder`` (None: nothing to draw)."""
    from . import charts

    plot = {
        "trust.png": charts.plot_trust,
        "revenue.png": charts.plot_revenue,
        "consent.png": charts.plot_consent,
        "breach_window.png": charts.plot_breach_window,
    }[name]
    fig = plot(result) if name == "revenue.png" else plot(result, band=band)
    return None if fig is None else charts.save_figure(fig, folder / name)


def _paint(conn, names: tuple[str, ...], parent: int) -> None:
    """A painter process: import the chart code now, then draw what it is sent. It gives up
    when its parent is gone (killed before sending anything)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _warm_up()
        while not conn.poll(1.0):
            if os.getppid() != parent:
                return
        job = conn.recv_bytes()
        if not job:
            return
        result, folder, band = pickle.loads(job)
        conn.send({name: draw(name, result, folder, band) for name in names})
    except BaseException:  # report nothing: the parent draws these charts itself
        pass
    finally:
        conn.close()


def _warm_up() -> None:
    """Import the chart code and draw one small throw-away PNG with the run charts' features
    (constrained layout, outside legend, band, caption), so fonts, the Agg renderer and the PNG
    encoder are loaded while the model still runs (~0.1 s less per painter afterwards). Nothing
    of it is kept but matplotlib's caches, which do not change what a later figure looks like."""
    import io

    import matplotlib as mpl
    from matplotlib.figure import Figure

    from . import charts

    with mpl.rc_context(charts._RC):
        fig = Figure(figsize=(3, 2), layout="constrained")
        ax = fig.subplots()
        ax.plot([0, 1], [0.2, 0.8], label="a")
        ax.fill_between([0, 1], [0.1, 0.7], [0.3, 0.9], alpha=0.18, linewidth=0)
        ax.set_title("warm-up")
        fig.legend(loc="outside upper center", title="warm-up", frameon=False)
        fig.supxlabel("warm-up", fontsize=8)
        fig.savefig(io.BytesIO(), format="png", dpi=150, metadata={"Software": "omnitrust"})


class ChartPainters:
    """Processes started before a run that draw its charts after it (see the module doc)."""

    def __init__(self, groups: Sequence[tuple[str, ...]] = GROUPS):
        ctx = multiprocessing.get_context("fork")
        self._painters: list[tuple[Any, Any, tuple[str, ...]]] = []
        self._folder: Path | None = None  # where the charts go (set by `paint`)
        for names in groups:
            here, there = ctx.Pipe()
            proc = ctx.Process(target=_paint, args=(there, names, os.getpid()), daemon=True)
            proc.start()
            there.close()
            self._painters.append((proc, here, names))

    @classmethod
    def start(cls) -> ChartPainters | None:
        """Painters, when this machine has the cores and ``fork`` for them; else None."""
        if available_cores() < 2 or "fork" not in multiprocessing.get_all_start_methods():
            return None
        if sys.platform == "darwin":  # fork after macOS frameworks loaded is unsafe there
            return None
        try:
            return cls()
        except OSError:
            return None

    @property
    def names(self) -> list[str]:
        return [name for _, _, names in self._painters for name in names]

    def paint(self, result: RunResult, folder: Path, band: str) -> None:
        """Send every painter the run to draw (returns at once)."""
        self._folder = Path(folder)
        job = pickle.dumps((result, Path(folder), band), protocol=pickle.HIGHEST_PROTOCOL)
        for _, conn, _ in self._painters:
            with contextlib.suppress(OSError):  # (a dead painter: the caller draws its charts)
                conn.send_bytes(job)

    def collect(self, timeout: float | None = None) -> dict[str, Path | None]:
        """Wait for the painters, at most ``timeout`` seconds in all (default `PAINT_TIMEOUT`);
        chart name -> file written (None: no chart), for the charts they drew. Charts missing
        from the answer were not drawn: a painter that has not answered in time is stopped, its
        half-written files removed, and the caller draws its charts."""
        deadline = time.monotonic() + (PAINT_TIMEOUT if timeout is None else timeout)
        done: dict[str, Path | None] = {}
        for proc, conn, names in self._painters:
            answered = False
            with contextlib.suppress(EOFError, OSError):
                if conn.poll(max(0.0, deadline - time.monotonic())):
                    done.update(conn.recv())
                    answered = True
            conn.close()
            self._stop(proc, names, wait=5.0 if answered else 0.0)
        self._painters = []
        return done

    def close(self) -> None:
        """Stop painters that are still waiting or drawing (a run that failed or was
        interrupted), removing any chart file they were writing."""
        for proc, conn, names in self._painters:
            with contextlib.suppress(OSError):
                conn.send_bytes(b"")  # (nothing to draw: stop)
            conn.close()
            self._stop(proc, names, wait=5.0)
        self._painters = []

    def _stop(self, proc: Any, names: tuple[str, ...], wait: float) -> None:
        """Let ``proc`` end within ``wait`` seconds, else terminate it and delete the temporary
        files of its charts (an atomic write cut short leaves ``.<name>.*.tmp``)."""
        proc.join(timeout=wait)
        if not proc.is_alive():
            return
        proc.terminate()
        proc.join()
        if self._folder is not None:
            for name in names:
                for tmp in self._folder.glob(f".{name}.*.tmp"):
                    tmp.unlink(missing_ok=True)
