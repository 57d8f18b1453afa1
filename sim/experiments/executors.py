"""Where runs execute: here, in a local process pool, or on a Dask cluster.

Every task is a pure function of its arguments (scenario + replication + seed, see
`sim.runner.simulate_task`), so the numbers do not depend on the executor or the worker count.
`make_map` returns a `TaskMap`, which is two things:

* a callable ``map(fn, tasks)`` yielding results in task order, the ``map_tasks`` that
  `sim.runner.run` accepts;
* ``as_completed(fn, tasks)`` yielding ``(index, result)`` as tasks finish, with a bounded number
  of tasks in flight, so that an experiment can write each run to disk as soon as it is done and
  never holds thousands of results in memory.

Process pools use the ``forkserver`` start method (``spawn`` where there is none), so they also
work from Jupyter; workers ignore SIGINT, so Ctrl-C reaches only the parent, which cancels what
is pending and stops the workers. A worker also ends by itself, within about a second, once the
process that started the pool is gone: a parent killed outright (``kill -9``, the OOM killer)
cannot stop its workers, and a pool's worker waits on a queue whose ends it holds itself, so it
would otherwise wait for ever (and keep the forkserver alive with it).
"""

from __future__ import annotations

import ast
import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


PARENT_POLL = 1.0
"""Seconds between a pool worker's checks that the process that started the pool still lives."""

CANCEL_GRACE = 5.0
"""Seconds a cancelled pool waits for each terminated worker to end before it kills it."""


def _start_time(pid: int) -> str | None:
    """The kernel's start time of process ``pid`` (Linux ``/proc``), None where there is none: with
    the pid it names one process, even if the pid is reused later."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


_PROC = os.path.exists("/proc/self/stat")  # Linux; macOS and Windows have no /proc


def _alive(pid: int, started: str | None) -> bool:
    """Whether process ``pid`` (started at ``started``, from `_start_time`) still runs."""
    if _PROC:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return fields[0] not in ("Z", "X") and (started is None or fields[19] == started)
        except FileNotFoundError:
            return False
        except (OSError, IndexError):  # unreadable: ask as below
            pass
    if sys.platform == "win32":  # signal 0 is CTRL_C_EVENT there: no cheap check, keep going
        return True
    try:  # a signal 0 asks whether the pid exists
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _exit_with(parent: int, started: str | None) -> None:
    """A worker's watch thread: end the worker once ``parent`` is gone."""
    while _alive(parent, started):
        time.sleep(PARENT_POLL)
    os._exit(1)


THREADS_ENV = "OMNITRUST_THREADS"  # sim.core.blocks.THREADS_ENV (not imported: it loads Numba)


def _worker_start(parent: int, started: str | None, threads: str | None = None) -> None:
    """Set a pool worker up: ignore Ctrl-C (the parent handles it), end with the parent, and take
    the thread count the pool's command set (``OMNITRUST_THREADS`` when the pool started, None:
    unset). The forkserver copies the environment once, when the process's first pool starts, so
    without this a later command's workers would keep the first command's count."""
    _ignore_sigint()
    if threads is None:
        os.environ.pop(THREADS_ENV, None)
    else:
        os.environ[THREADS_ENV] = threads
    threading.Thread(
        target=_exit_with, args=(parent, started), name="omnitrust-parent-watch", daemon=True
    ).start()


class TaskMap:
    """Runs ``fn`` over tasks somewhere; base class of the executors (this one runs them here)."""

    workers: int = 1
    name: str = "serial"

    def as_completed(self, fn: Callable, tasks: Iterable) -> Iterator[tuple[int, Any]]:
        """Yield ``(index, fn(task))`` as tasks finish (here: in order)."""
        for i, task in enumerate(tasks):
            yield i, fn(task)

    def __call__(self, fn: Callable, tasks: Iterable) -> Iterator[Any]:
        """Yield ``fn(task)`` for each task, in task order (an ordered ``map``)."""
        buffer: dict[int, Any] = {}
        nxt = 0
        for i, result in self.as_completed(fn, tasks):
            buffer[i] = result
            while nxt in buffer:
                yield buffer.pop(nxt)
                nxt += 1

    def close(self, cancel: bool = False) -> None:
        """Release the workers (``cancel``: stop running tasks now, e.g. after Ctrl-C)."""

    def describe(self) -> dict[str, Any]:
        """What ran the tasks, for the manifest."""
        return {"executor": self.name, "workers": self.workers}

    def __enter__(self) -> TaskMap:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(cancel=exc_type is not None)


class _Windowed(TaskMap):
    """Shared loop: keep ``window`` tasks in flight, yield each as it completes."""

    window: int = 2

    def _submit(self, fn: Callable, task: Any) -> Any:
        raise NotImplementedError

    def _wait(self, futures: Iterable) -> set:
        raise NotImplementedError

    def _cancel(self, futures: Iterable) -> None:
        for f in futures:
            f.cancel()

    def as_completed(self, fn: Callable, tasks: Iterable) -> Iterator[tuple[int, Any]]:
        source = enumerate(tasks)
        pending: dict[Any, int] = {}
        exhausted = False
        try:
            while True:
                while not exhausted and len(pending) < self.window:
                    try:
                        i, task = next(source)
                    except StopIteration:
                        exhausted = True
                        break
                    pending[self._submit(fn, task)] = i
                if not pending:
                    return
                done = self._wait(list(pending))
                for fut in sorted(done, key=pending.__getitem__):
                    i = pending.pop(fut)
                    result = fut.result()
                    del fut
                    yield i, result
        finally:
            if pending:
                self._cancel(list(pending))


UNGUARDED_MAIN = (
    '{script} has no `if __name__ == "__main__":` guard, and each worker process imports it '
    "again (its top level would start the runs again in every worker): a script that calls "
    "sim.run, sim.compare or sim.sweep with workers > 1 must make the calls under "
    '`if __name__ == "__main__":` (or pass workers=1)'
)


BROKEN_UNGUARDED = (
    "the worker processes stopped before any run finished: each worker imports the script, so "
    "a script that calls sim.run, sim.compare or sim.sweep with workers > 1 must make the calls "
    'under `if __name__ == "__main__":` (or pass workers=1)'
)


def _source(path: str) -> str | None:
    """The text of the script at ``path``, None if it cannot be read (given the benefit of the
    doubt by both guard checks)."""
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _is_main_test(test: ast.expr) -> bool:
    """Whether ``test`` is ``__name__ == "__main__"`` (either way round, either quotes)."""
    if not (
        isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)
    ):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    mains = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
    return len(names) == 1 and len(mains) == 1


def guarded(source: str) -> bool:
    """Whether ``source`` has a module-level ``if __name__ == "__main__":`` (either operand
    order, single or double quotes), read with `ast`: the words in a comment, a string or a
    function do not guard the script's top level. A source that does not parse is given the
    benefit of the doubt (Python reports its error when the script runs)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):  # (ValueError: a null byte in the source)
        return True
    return any(isinstance(node, ast.If) and _is_main_test(node.test) for node in tree.body)


def _has_guard(path: str) -> bool:
    """Whether the file at ``path`` has a module-level ``if __name__ == "__main__":`` (`guarded`;
    True when it cannot be read)."""
    source = _source(path)
    return source is None or guarded(source)


def main_rerun_by_workers() -> str | None:
    """The file of the ``__main__`` module if a spawned (or forkserver) worker process runs it
    again, as `multiprocessing.spawn` decides: a script (``python script.py``) or a module run
    with ``-m`` (``python -m pkg.mod``) is imported again as ``__mp_main__``; a package's
    ``__main__`` (``python -m pkg``), an interactive session or a notebook is not."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if not path:
        return None  # an interactive session or a notebook: nothing is imported again
    name = getattr(getattr(main, "__spec__", None), "name", None)
    if name is not None and (name == "__main__" or name.endswith(".__main__")):
        return None  # multiprocessing leaves a package's __main__ alone
    return path


def main_script_unguarded() -> str | None:
    """The script (the ``__main__`` file that worker processes import again,
    `main_rerun_by_workers`) if its source has no module-level ``if __name__ == "__main__":``
    (`guarded`: its top level would run again in every worker process), else None (also when it
    cannot be read or parsed). The guard in a comment or a string is none, nor is
    ``if multiprocessing.parent_process() is None:`` (while a spawned or forkserver worker
    imports the script, ``parent_process()`` is still None there, so the worker starts the runs
    again)."""
    path = main_rerun_by_workers()
    return None if path is None or _has_guard(path) else path


class PoolMap(_Windowed):
    """A local process pool of ``workers`` processes (started lazily, reused until closed)."""

    name = "process-pool"

    def __init__(self, workers: int):
        self.workers = int(workers)
        self.window = 2 * self.workers
        self._pool: ProcessPoolExecutor | None = None

    @property
    def pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            script = main_script_unguarded()
            if script is not None:  # refused before any worker starts (and prints a traceback)
                from ..core.errors import UserError

                raise UserError(UNGUARDED_MAIN.format(script=script))
            methods = multiprocessing.get_all_start_methods()
            method = (
                "forkserver" if "forkserver" in methods and sys.platform != "win32" else "spawn"
            )
            ctx = multiprocessing.get_context(method)
            me = os.getpid()
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=ctx,
                initializer=_worker_start,
                initargs=(me, _start_time(me), os.environ.get(THREADS_ENV)),
            )
        return self._pool

    def as_completed(self, fn: Callable, tasks: Iterable) -> Iterator[tuple[int, Any]]:
        """As `_Windowed`; a pool that breaks before any run finished, started from a script
        that has no module-level ``if __name__ == "__main__":`` now (`main_script_unguarded`
        refuses such a script before the pool starts; this catches one edited since), raises
        `UserError` naming the guard."""
        finished = 0
        try:
            for item in super().as_completed(fn, tasks):
                finished += 1
                yield item
        except BrokenProcessPool:
            path = main_rerun_by_workers()
            if finished == 0 and path is not None and not _has_guard(path):
                from ..core.errors import UserError

                raise UserError(BROKEN_UNGUARDED) from None
            raise

    def _submit(self, fn, task):
        return self.pool.submit(fn, task)

    def _wait(self, futures):
        done, _ = wait(futures, return_when=FIRST_COMPLETED)
        return done

    def close(self, cancel: bool = False) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if cancel:
            processes = list((getattr(pool, "_processes", None) or {}).values())
            manager = getattr(pool, "_executor_manager_thread", None)  # shutdown() drops these
            calls = getattr(pool, "_call_queue", None)
            results = getattr(pool, "_result_queue", None)
            pool.shutdown(wait=False, cancel_futures=True)
            for p in processes:  # stop the runs in progress now, not after they finish
                if p.is_alive():
                    p.terminate()
            for p in processes:  # and see them gone: a worker that outlives the command keeps
                p.join(CANCEL_GRACE)  # its stdout and stderr open for whoever reads them
                if p.is_alive():
                    p.kill()
                    p.join(CANCEL_GRACE)
            _end_manager(manager, calls, results, processes)
        else:
            pool.shutdown(wait=True)

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # interpreter shutdown
            self.close()


def _end_manager(manager: Any, calls: Any, results: Any, processes: list) -> None:
    """See a cancelled pool's manager thread end, once its workers are gone.

    A worker stopped part-way through writing its result leaves the start of a message in the
    result pipe, and the manager thread (`concurrent.futures.process`) waits in ``recv`` for the
    rest for ever; interpreter exit joins that thread, so the command would hang after it said
    "interrupted". With every worker dead, this process holds the pipe's only write end: closing
    it ends the read (EOF), the manager takes the pool for broken and stops. Its call-queue
    feeder may be blocked writing tasks no worker will read: not waited for (a daemon thread).
    """
    if manager is None or any(p.is_alive() for p in processes):
        return
    if calls is not None:
        calls.cancel_join_thread()
    # The broken pool fails its pending futures; on Python 3.11 one cancelled meanwhile raises
    # InvalidStateError in the manager thread (a traceback after "interrupted"). Drop them first,
    # as the manager itself does when it shuts down (a rebinding: atomic for the thread).
    pending = getattr(manager, "pending_work_items", None)
    if isinstance(pending, dict):
        manager.pending_work_items = {k: w for k, w in pending.items() if not w.future.cancelled()}
    writer = getattr(results, "_writer", None)
    if writer is not None:
        with contextlib.suppress(OSError):
            writer.close()
    manager.join(CANCEL_GRACE)


class DaskMap(_Windowed):
    """A ``dask.distributed`` client: one passed in, or one connected to ``scheduler``."""

    name = "dask"

    def __init__(self, client: Any = None, scheduler: str | None = None):
        from dask.distributed import Client

        self._own = client is None
        if client is None:
            try:
                client = Client(scheduler, timeout="10s")
            except (OSError, TimeoutError, ValueError) as exc:
                from ..core.errors import UserError

                raise UserError(
                    f"--scheduler = {scheduler}: cannot reach a Dask scheduler there "
                    f"({exc}); allowed: the address of a running scheduler, tcp://HOST:PORT "
                    "(start one with `dask scheduler`)"
                ) from None
        self.client = client
        self.workers = max(1, sum(self.client.nthreads().values()))
        self.window = 2 * self.workers

    def _submit(self, fn, task):
        return self.client.submit(fn, task, pure=False)

    def _wait(self, futures):
        from dask.distributed import wait as dask_wait

        return set(dask_wait(futures, return_when="FIRST_COMPLETED").done)

    def _cancel(self, futures):
        self.client.cancel(list(futures))

    def describe(self) -> dict[str, Any]:
        return {
            "executor": self.name,
            "workers": self.workers,
            "scheduler": str(self.client.scheduler.address),
        }

    def close(self, cancel: bool = False) -> None:
        if self._own:
            self.client.close()


def make_map(
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    tasks: int | None = None,
) -> TaskMap:
    """The executor for ``workers`` local processes, a Dask ``scheduler`` address or ``client``.

    ``workers=None`` (the default of `sim.run`, `sim.compare` and `sim.sweep`) means one process
    per core, but no more than ``tasks`` (the number of runs, when known); one process means
    this process (no pool). A Dask ``client`` or ``scheduler`` takes precedence over ``workers``.
    The result is an ordered ``map(fn, tasks)`` for `sim.runner.run` (``map_tasks=``) and has
    ``as_completed``; close it (or use it as a context manager) to release the workers.
    """
    if client is not None or scheduler is not None:
        return DaskMap(client=client, scheduler=scheduler)
    if workers is None:
        n = os.cpu_count() or 1
        if tasks is not None:
            n = max(1, min(n, int(tasks)))
    else:
        n = int(workers)
    if n < 1:
        from ..core.errors import UserError

        # (a Python caller's keyword; the command line checks and names --workers first: sim.cli)
        raise UserError(f"workers must be at least 1, got {workers}")
    return TaskMap() if n == 1 else PoolMap(n)


def run(
    scenarios: Any,
    replications: int | None = None,
    seed: int | None = None,
    days: int | None = None,
    consumers: int | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    progress: bool = True,
    map_tasks: Callable[[Callable, Iterable], Iterable] | None = None,
    warmups: Any = None,
):
    """`sim.run`: `sim.runner.run` on the executor that ``workers``, ``scheduler`` or
    ``client`` choose, with the same default as `sim.compare` and `sim.sweep` (one process per
    core, at most one per run; 1: this process). The numbers do not depend on it. ``map_tasks``
    (an ordered map) overrides the choice; ``warmups`` is a folder of saved warm-up states, used
    with the user cache (default: the user cache alone; `sim.model.warmup`). Returns a `sim.runner.RunResult`."""
    from ..runner import run as run_here

    kw = dict(replications=replications, seed=seed, days=days, consumers=consumers, warmups=warmups)
    if map_tasks is not None:
        return run_here(scenarios, **kw, progress=progress, map_tasks=map_tasks)
    from ..runner import resolve

    listed = [scenarios] if not isinstance(scenarios, (list, tuple)) else list(scenarios)
    tasks = sum(resolve(s, replications=replications).simulation.replications for s in listed)
    with make_map(workers=workers, scheduler=scheduler, client=client, tasks=tasks) as taskmap:
        return run_here(scenarios, **kw, progress=progress, map_tasks=taskmap)
