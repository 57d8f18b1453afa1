"""Draw a run's charts in helper processes, in parallel with the model's start and with each other.

Drawing the four charts of ``omnitrust run`` costs about as much CPU as importing matplotlib and
pandas plus a year of a 20,000-consumer market (issue 14: ~0.5 s of imports, ~0.15-0.25 s per
chart). Everything the main process does before its model runs is single-threaded (imports,
Numba loading its cached kernels), and the model then runs on every core
(`sim.cli.options.default_threads`). So `ChartPainters.start` forks **one** painter process
*before* the main process imports Numba or the model (pandas is loaded by then, with
`sim.analysis.outputs`, so the painter starts with it): the painter imports matplotlib and the
chart code and draws a throw-away PNG on the second core while the main process does its own
single-threaded start-up, then waits, costing nothing while the model runs.
Once warm, it forks one drawer per group of charts but the first (`GROUPS`; a fork shares the
loaded libraries), which wait too, so that no fork is left for the end of the run.
`ChartPainters.paint` sends the painter what the charts read (the tidy time series and the
scenarios); it passes the bytes on to its drawers, draws the first group itself, and they write
every chart (atomically, the same functions and arguments as `sim.analysis.outputs.save` uses in
this process, so the files are the same bytes) while the main process writes the data files.
`ChartPainters.collect` waits for the answer (at most `PAINT_TIMEOUT`) and returns the files
written.

Only where ``fork`` exists (Linux, macOS) and more than one core is available; otherwise
`start` returns None and ``save`` draws the charts itself, as it does for any chart a painter
could not draw (a painter or drawer that fails reports nothing for its charts, and they are
drawn again here, so an error surfaces here with its usual message). The painter ignores Ctrl-C
(this process handles it), is a daemon (it ends with this process) and leads its own process
group, so stopping it stops its drawers too.
"""

from __future__ import annotations

import contextlib
import gc
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

# Charts per drawer, about equal work each (the breach window is drawn only when a scenario has a
# breach). The painter draws the first group itself and forks a drawer for each other group.
# CPU s per chart of the 20,000-consumer baseline run, drawn again in a warm process (2026-12-05):
# trust 0.15, revenue 0.24, consent 0.25, breach window 0.17; the groups were trust and breach
# window (0.32) against revenue and consent (0.49), which the end of the run waited for.
# Two groups on two cores, not one process per chart: each forked process pays again for its
# first draw and for the pages it copies, so four processes cost ~0.1-0.15 s more CPU in all, and
# the end of the run (data files, summary and charts) took 0.11 s longer (docs/PERFORMANCE.md,
# "Two chart processes, not four").
GROUPS: tuple[tuple[str, ...], ...] = (
    ("trust.png", "revenue.png"),
    ("consent.png", "breach_window.png"),
)


PAINT_TIMEOUT = 120.0
"""Seconds `ChartPainters.collect` waits for the painter (drawing takes ~0.2 s a chart): a
painter that has not answered by then is stopped with its drawers and its charts are drawn in
this process."""


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # (not Linux)
        return os.cpu_count() or 1


class Charted:
    """What the charts of a run read: its tidy ``timeseries``, its ``scenarios`` by name and its
    ``manifest`` (provenance, written into each PNG; `sim.runner.RunResult` has all three).
    Sent to the painter instead of the run itself, so the painter never imports the model
    (Numba, Mesa) to unpickle it."""

    __slots__ = ("manifest", "scenarios", "timeseries")

    def __init__(self, timeseries: Any, scenarios: dict[str, Any], manifest: dict | None = None):
        self.timeseries = timeseries
        self.scenarios = scenarios
        self.manifest = manifest

    def __getstate__(self) -> tuple:
        return (self.timeseries, self.scenarios, self.manifest)

    def __setstate__(self, state: tuple) -> None:
        self.timeseries, self.scenarios, self.manifest = state


def draw(name: str, result: RunResult | Charted, folder: Path, band: str) -> Path | None:
    """Draw chart ``name`` of ``result`` and write it to ``folder`` (None: nothing to draw)."""
    from . import charts

    plot = {
        "trust.png": charts.plot_trust,
        "revenue.png": charts.plot_revenue,
        "consent.png": charts.plot_consent,
        "breach_window.png": charts.plot_breach_window,
    }[name]
    fig = plot(result) if name == "revenue.png" else plot(result, band=band)
    if fig is None:
        return None
    return charts.save_figure(fig, folder / name, manifest=getattr(result, "manifest", None))


def _draw_group(names: tuple[str, ...], job: tuple) -> dict[str, Path | None]:
    result, folder, band = job
    return {name: draw(name, result, folder, band) for name in names}


def _paint(conn, groups: tuple[tuple[str, ...], ...], parent: int) -> None:
    """The painter process: import the chart code and fork its drawers (one per group but the
    first) now, while the model runs, then hand each drawer what it is sent and draw the first
    group itself. It gives up when its parent is gone (killed before sending anything); its
    drawers end with it (their job pipe closes)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # SIGTERM (`ChartPainters._stop`) ends it and its drawers at once: not the command-line
    # program's handler it was forked with (`sim.cli.stop_on_sigterm`)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)  # its own process group: `ChartPainters._stop` stops its drawers too
    drawers: list[tuple[int, int, int]] = []
    # A painter and its drawers draw one run's charts and end: their garbage goes with them, so
    # the collector stays off (importing matplotlib and drawing a chart otherwise cost several
    # collections that free nothing, issue 14).
    gc.disable()
    try:
        _warm_up()
        # Objects alive now are never freed by the painter or its drawers: keep the collector off
        # them, so that a drawer's collections do not write to (copy) the pages it shares.
        gc.freeze()
        for names in groups[1:]:
            drawers.append(_fork_drawer(names, conn, [job for _, job, _ in drawers]))
        while not conn.poll(1.0):
            if os.getppid() != parent:
                return
        data = conn.recv_bytes()
        if not data:
            return
        for _, job_writer, _ in drawers:  # (a drawer that died: its charts go to the parent)
            with contextlib.suppress(OSError), os.fdopen(job_writer, "wb") as out:
                out.write(data)
        drawers = [(pid, -1, reader) for pid, _, reader in drawers]
        job = pickle.loads(data)
        done: dict[str, Path | None] = {}
        with contextlib.suppress(Exception):  # its charts are drawn by the parent
            done.update(_draw_group(groups[0], job))
        for pid, _, reader in drawers:
            done.update(_drawer_answer(pid, reader))
        conn.send(done)
    except BaseException:  # report nothing: the parent draws these charts itself
        pass
    finally:
        conn.close()


def _fork_drawer(names: tuple[str, ...], conn: Any, others: list[int]) -> tuple[int, int, int]:
    """Fork a drawer of ``names``: it waits for the job (the pickled bytes the painter was sent)
    on one pipe and writes its answer (pickled) to another. Returns its pid, the job pipe's
    writing end and the answer pipe's reading end. ``others``: the job pipes of the drawers
    forked before it, which it must not hold open (each ends when its own pipe closes empty)."""
    job_reader, job_writer = os.pipe()
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the drawer
        code = 1
        try:
            os.close(reader)
            os.close(job_writer)
            for fd in others:
                os.close(fd)
            conn.close()  # (only the painter answers the parent)
            with os.fdopen(job_reader, "rb") as inp:
                data = inp.read()  # until the painter closes the pipe
            if data:
                answer = pickle.dumps(_draw_group(names, pickle.loads(data)))
                with os.fdopen(writer, "wb") as out:
                    out.write(answer)
            code = 0
        finally:
            os._exit(code)  # no atexit handlers, no flush of the painter's buffers
    os.close(job_reader)
    os.close(writer)
    return pid, job_writer, reader


def _drawer_answer(pid: int, reader: int) -> dict[str, Path | None]:
    """A drawer's charts (nothing if it failed), once it has ended."""
    with os.fdopen(reader, "rb") as inp:
        data = inp.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        return {}
    try:
        return pickle.loads(data)
    except Exception:  # noqa: BLE001 - a cut-short answer: the parent draws these charts
        return {}


def _warm_up() -> None:
    """Import the chart code and draw one small throw-away PNG with the run charts' features
    (constrained layout, outside legend, band, caption), so fonts, the Agg renderer and the PNG
    encoder are loaded before any chart is asked for (~0.1 s less per drawer afterwards).
    Nothing of it is kept but matplotlib's caches, which do not change what a later figure
    looks like."""
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
    """A process started before a run that draws its charts after it (see the module doc)."""

    def __init__(self, groups: Sequence[tuple[str, ...]] = GROUPS):
        ctx = multiprocessing.get_context("fork")
        self._groups = tuple(tuple(g) for g in groups)
        self._folder: Path | None = None  # where the charts go (set by `paint`)
        here, there = ctx.Pipe()
        proc = ctx.Process(target=_paint, args=(there, self._groups, os.getpid()), daemon=True)
        proc.start()
        there.close()
        self._painter: tuple[Any, Any] | None = (proc, here)

    @classmethod
    def start(cls) -> ChartPainters | None:
        """A painter, when this machine has the cores and ``fork`` for it; else None."""
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
        return [name for names in self._groups for name in names] if self._painter else []

    def paint(self, result: RunResult | Charted, folder: Path, band: str) -> None:
        """Send the painter the run to draw (returns at once)."""
        if self._painter is None:
            return
        self._folder = Path(folder)
        if hasattr(result, "timeseries") and hasattr(result, "scenarios"):
            result = Charted(result.timeseries, result.scenarios, getattr(result, "manifest", None))
        job = pickle.dumps((result, Path(folder), band), protocol=pickle.HIGHEST_PROTOCOL)
        with contextlib.suppress(OSError):  # (a dead painter: the caller draws its charts)
            self._painter[1].send_bytes(job)

    def collect(self, timeout: float | None = None) -> dict[str, Path | None]:
        """Wait for the painter, at most ``timeout`` seconds (default `PAINT_TIMEOUT`); chart
        name -> file written (None: no chart), for the charts it drew. Charts missing from the
        answer were not drawn: a painter that has not answered in time is stopped with its
        drawers, their half-written files removed, and the caller draws its charts."""
        if self._painter is None:
            return {}
        proc, conn = self._painter
        deadline = time.monotonic() + (PAINT_TIMEOUT if timeout is None else timeout)
        done: dict[str, Path | None] = {}
        answered = False
        with contextlib.suppress(EOFError, OSError):
            if conn.poll(max(0.0, deadline - time.monotonic())):
                done.update(conn.recv())
                answered = True
        conn.close()
        self._stop(proc, wait=5.0 if answered else 0.0, answered=answered)
        self._painter = None
        return done

    def close(self) -> None:
        """Stop a painter that is still waiting or drawing (a run that failed or was
        interrupted), removing any chart file it was writing."""
        if self._painter is None:
            return
        proc, conn = self._painter
        with contextlib.suppress(OSError):
            conn.send_bytes(b"")  # (nothing to draw: stop)
        conn.close()
        self._stop(proc, wait=5.0, answered=False)
        self._painter = None

    def _stop(self, proc: Any, wait: float, answered: bool = True) -> None:
        """Let ``proc`` end within ``wait`` seconds; unless it ended after ``answered`` (its
        drawers done), stop it and its drawers (its process group: they outlive a painter that
        was killed, and would go on writing charts the caller draws itself) and delete the
        temporary files of the charts (an atomic write cut short leaves ``.<name>.*.tmp``)."""
        proc.join(timeout=wait)
        if answered and not proc.is_alive():
            return
        with contextlib.suppress(OSError):  # ProcessLookupError: the group is gone already
            os.killpg(proc.pid, signal.SIGTERM)  # the painter leads its group (see `_paint`)
        if proc.is_alive():
            proc.terminate()
        proc.join()
        until = time.monotonic() + 5.0
        with contextlib.suppress(OSError):  # ProcessLookupError: the group is gone
            while time.monotonic() < until:
                os.killpg(proc.pid, 0)  # drawers still ending
                time.sleep(0.01)
        if self._folder is not None:
            for names in self._groups:
                for name in names:
                    for tmp in self._folder.glob(f".{name}.*.tmp"):
                        tmp.unlink(missing_ok=True)
