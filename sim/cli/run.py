"""``omnitrust run``: run scenarios, write the outputs folder, print the headline summary."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..analysis.outputs import default_folder, save
from ..analysis.painters import ChartPainters
from ..analysis.summary import text_summary
from ..core import timing
from ..core.errors import check_output_folder
from ..experiments.executors import DEFAULT_WORKERS_DOC


def add_run_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``omnitrust run`` on the CLI's subparsers."""
    p = subparsers.add_parser(
        "run",
        help="run scenarios and write data, summary and charts to a folder",
        description="Run one or more scenario files and write timeseries.parquet, summary.csv, "
        "manifest.json and PNG charts (and the report, HTML and PDF, with --report) to a folder.",
    )
    p.add_argument(
        "scenarios",
        nargs="+",
        metavar="SCENARIO",
        help="scenario TOML file(s) or bundled scenario name(s), e.g. baseline",
    )
    p.add_argument(
        "--replications",
        "-r",
        type=int,
        metavar="R",
        help="replications per scenario (default: the scenario's)",
    )
    p.add_argument("--seed", type=int, metavar="S", help="base seed (default: the scenario's)")
    p.add_argument(
        "--days", type=int, metavar="D", help="horizon in days (default: the scenario's)"
    )
    p.add_argument(
        "--consumers", type=int, metavar="N", help="number of consumers (default: the scenario's)"
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="output folder (default: results/<first scenario name>)",
    )
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help=f"local worker processes (default: {DEFAULT_WORKERS_DOC})",
    )
    add_threads_arg(p)
    p.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="send the replications to an existing Dask cluster",
    )
    p.add_argument(
        "--report",
        action="store_true",
        help="also write report.html (and report.pdf when Chromium is installed)",
    )
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    p.set_defaults(handler=cmd_run)
    return p


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


def cmd_run(args: argparse.Namespace) -> int:
    """``omnitrust run``: run, save, print the summary and the folder."""
    from ..core.errors import UserError
    from ..experiments import run
    from ..scenario.loading import load_scenario

    overrides = {
        "days": args.days,
        "consumers": args.consumers,
        "replications": args.replications,
        "seed": args.seed,
    }
    apply_threads(args.threads)
    scenarios = [load_scenario(path, **overrides) for path in args.scenarios]
    timing.mark("scenario load")
    names = [s.name for s in scenarios]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise UserError(
            f"two scenarios are named {', '.join(repeated)}; names must be unique "
            "in one run (set `name` in the file)"
        )
    folder = args.out if args.out is not None else default_folder(names)
    check_output_folder(folder)
    painters = ChartPainters.start()  # they load matplotlib while the model runs
    try:
        result = run(
            scenarios,
            workers=args.workers,
            scheduler=args.scheduler,
            progress=args.progress,
            warmups=folder / "warmups",
        )
        written = save(result, folder, report=args.report, painters=painters)
    finally:
        if painters is not None:
            painters.close()
    print(text_summary(result))
    from ..analysis.stationarity import trend_warnings

    for line in trend_warnings(result.timeseries, result.scenarios.values()):
        print(line, file=sys.stderr)
    print(f"\nOutputs in {folder}/: {', '.join(written)}")
    sys.stdout.flush()
    timing.mark("summary")
    return 0
