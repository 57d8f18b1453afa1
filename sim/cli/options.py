"""Command-line options that several commands share, defined once: the size of a run
(``--replications --seed --days --consumers``), where it runs (``--workers --threads
--scheduler --no-progress``, and ``--posterior`` for experiments), ``--report``, and usage
errors on one line."""

from __future__ import annotations

import argparse
import contextlib
import os
from pathlib import Path

SCENARIOS_HELP = "scenario TOML file(s) or bundled scenario name(s), e.g. baseline"
SCENARIO_HELP = "scenario TOML file or bundled scenario name"
"""The help of a command's scenario arguments: every command that reads scenarios resolves a
bare name as a bundled scenario (`sim.scenario.loading.scenario_path`)."""


def resumes(args, out, kept: str = "finished runs are") -> None:
    """Mark ``args``'s command as resumable: stopped by Ctrl-C or SIGTERM where its own message
    does not say so (after its runs, while it makes tables), `sim.cli.main` prints "interrupted;
    <kept> kept in OUT; rerun the same command to resume"."""
    args.kept_on_interrupt = f"{kept} kept in {out}; rerun the same command to resume"


@contextlib.contextmanager
def results_folder(out: Path | None, kind: str):
    """`sim.core.errors.check_output_folder` for ``out`` and a command writing results of
    ``kind`` (None: nothing to check); then, within the block, bad input found later (a
    `UserError`: an option out of range, a bad file read by the command) removes the folder
    again if this command made it and nothing was written in it, so a refused command leaves no
    empty results folder behind."""
    from ..core.errors import UserError, check_output_folder

    made = out is not None and not Path(out).exists()
    try:
        if out is not None:
            check_output_folder(out, kind=kind)
        yield out
    except UserError:
        if made:
            with contextlib.suppress(OSError):  # (not empty: something was written, keep it)
                Path(out).rmdir()
        raise


DEFAULT_WORKERS_DOC = "one process per core, at most one per run; 1 runs in this process"
"""What ``--workers`` unset means (`sim.experiments.executors.make_map` with ``workers=None``)."""


def size_args(p: argparse.ArgumentParser, what: str) -> None:
    """``--replications/-r``, ``--seed``, ``--days``, ``--consumers``; unset means ``what``'s
    value (e.g. "the scenario's")."""
    p.add_argument(
        "--replications",
        "-r",
        type=int,
        metavar="R",
        help=f"replications per scenario (default: {what})",
    )
    p.add_argument("--seed", type=int, metavar="S", help=f"base seed (default: {what})")
    p.add_argument("--days", type=int, metavar="D", help=f"horizon in days (default: {what})")
    p.add_argument(
        "--consumers", type=int, metavar="N", help=f"number of consumers (default: {what})"
    )


def scheduler_arg(p: argparse.ArgumentParser) -> None:
    """``--scheduler tcp://HOST:PORT``: an existing Dask cluster instead of local processes."""
    p.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="run on an existing dask.distributed scheduler instead of local processes",
    )


def executor_args(p: argparse.ArgumentParser, posterior: bool = False) -> None:
    """``--workers``, ``--threads``, ``--scheduler``, ``--no-progress`` (run, compare, sweep)
    and, with ``posterior``, ``--posterior`` (compare, sweep)."""
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help=f"local worker processes (default: {DEFAULT_WORKERS_DOC})",
    )
    add_threads_arg(p)
    scheduler_arg(p)
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    if posterior:
        p.add_argument(
            "--posterior",
            type=Path,
            metavar="DIR/posterior.parquet",
            help="draw each replication's parameters from a calibration's posterior, so "
            "intervals include parameter uncertainty (see omnitrust calibrate)",
        )


def report_arg(p: argparse.ArgumentParser) -> None:
    """``--report``: also write the executives' report into the results folder."""
    p.add_argument(
        "--report",
        action="store_true",
        help="also write report.html (and report.pdf when Chromium is installed)",
    )


def add_threads_arg(p: argparse.ArgumentParser) -> None:
    """``--threads N``: threads each replication uses (shared by run, compare and sweep)."""
    p.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="threads each replication uses, 0 = every core (default: the cores shared among "
        "the replications that run at once, e.g. every core for one replication with "
        "--workers 1, 1 when --workers runs one per core; the numbers do not depend on it)",
    )


def default_threads(processes: int, cores: int | None = None) -> int:
    """Threads per model when ``--threads`` is not given: the ``cores`` this process may use
    (default `available_cores`) shared evenly among the ``processes`` models that run at once,
    at least 1. One replication (or ``--workers 1``) on 2 cores gets 2 threads; two worker
    processes on 2 cores get 1 each, so models never ask for more threads than there are
    cores. The numbers do not depend on it (`sim.core.blocks`)."""
    if cores is None:
        from ..analysis.painters import available_cores

        cores = available_cores()
    return max(1, cores // max(1, processes))


def local_processes(workers: int | None, tasks: int | None = None) -> int:
    """How many models run at once for ``tasks`` runs (None: not known yet, as many as there are
    processes) on ``workers`` local processes (unset: one per core, at most one per run; as
    `sim.experiments.executors.make_map` chooses)."""
    n = (os.cpu_count() or 1) if workers is None else workers
    return max(1, n if tasks is None else min(n, tasks))


THREADS_ENV = "OMNITRUST_THREADS"  # sim.core.blocks.THREADS_ENV (not imported: it loads Numba)


@contextlib.contextmanager
def threads_of_one_command():
    """``OMNITRUST_THREADS`` as it was before, once the command in the ``with`` block is done:
    what `apply_threads` sets (``--threads``, or the default for the command's processes) is for
    that command, its models and the worker processes it starts, not for a later command that
    `sim.cli.main` runs in the same process (a notebook, tests), which would take it for the
    user's own setting."""
    before = os.environ.get(THREADS_ENV)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(THREADS_ENV, None)
        else:
            os.environ[THREADS_ENV] = before


def apply_threads(threads: int | None, processes: int | None = None) -> None:
    """Make ``--threads`` the thread count of every model of this command, in this process and
    in the local worker processes it starts (through ``OMNITRUST_THREADS``). Unset, and with
    ``processes`` (the models that run at once on this machine) known: `default_threads`,
    unless ``OMNITRUST_THREADS`` is already set (the user's choice wins). For the command only:
    `sim.cli.main` restores the variable afterwards (`threads_of_one_command`)."""
    from ..core.errors import UserError

    if threads is not None and threads < 0:
        raise UserError(f"--threads must be 0 (every core) or a positive number, got {threads}")
    env = THREADS_ENV
    if threads is None:
        if processes is None or os.environ.get(env, "").strip():
            return
        threads = default_threads(processes)
    os.environ[env] = str(threads)


def one_line_errors(p: argparse.ArgumentParser) -> None:
    """Usage errors as one line (option, value, what is allowed), exit 2, no usage dump. Applied
    to every command's parser by `sim.cli.build_parser`, so a command's registrar need not."""

    def error(message: str):
        p.exit(2, f"{p.prog}: error: {message} (see --help)\n")

    p.error = error  # type: ignore[method-assign]
