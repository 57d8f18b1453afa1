"""Command-line options that several commands share, defined once: the size of a run
(``--replications --seed --days --consumers``), where it runs (``--workers --threads
--scheduler --no-progress``, and ``--posterior`` for experiments), ``--report``, and usage
errors on one line."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..experiments.executors import DEFAULT_WORKERS_DOC


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
        help="threads each replication uses, 0 = every core (default 1; the numbers do not "
        "depend on it)",
    )


def apply_threads(threads: int | None) -> None:
    """Make ``--threads`` the thread count of every model of this command, in this process and
    in the local worker processes it starts (through ``OMNITRUST_THREADS``)."""
    if threads is None:
        return
    from ..core.errors import UserError

    if threads < 0:
        raise UserError(f"--threads must be 0 (every core) or a positive number, got {threads}")
    from ..core.blocks import THREADS_ENV

    os.environ[THREADS_ENV] = str(threads)


def one_line_errors(p: argparse.ArgumentParser) -> None:
    """Usage errors as one line (option, value, what is allowed), exit 2, no usage dump."""

    def error(message: str):
        p.exit(2, f"{p.prog}: error: {message} (see --help)\n")

    p.error = error  # type: ignore[method-assign]
