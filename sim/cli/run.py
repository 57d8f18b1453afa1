"""``omnitrust run``: run scenarios, write the outputs folder, print the headline summary.

Registering the command imports nothing heavy (``omnitrust run --help`` and a usage error stay
quick). `cmd_run` reads the scenarios, then starts the chart painter (`sim.analysis.painters`)
*before* it imports the model, Numba and the chart-free analysis code, so the painter loads
matplotlib on a second core while this process loads the model and Numba's cached kernels.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core import timing
from .options import (
    SCENARIOS_HELP,
    apply_threads,
    executor_args,
    local_processes,
    report_arg,
    size_args,
)


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
        help=SCENARIOS_HELP,
    )
    size_args(p, "the scenario's")
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="output folder (default: results/<scenario name>; for several scenarios, "
        "results/<first scenario name>-and-<N>-more)",
    )
    executor_args(p)
    report_arg(p)
    p.set_defaults(handler=cmd_run)
    return p


def cmd_run(args: argparse.Namespace) -> int:
    """``omnitrust run``: run, save, print the summary and the folder."""
    from ..core.startup import loading

    painters = None
    try:
        with loading():  # what is loaded here lives until the command ends: not collected
            from ..analysis.painters import ChartPainters
            from ..core.errors import UserError, check_output_folder
            from ..core.numba_start import quick_start
            from ..scenario.loading import load_scenario

            overrides = {
                "days": args.days,
                "consumers": args.consumers,
                "replications": args.replications,
                "seed": args.seed,
            }
            if args.threads is not None:
                apply_threads(args.threads)  # (a bad value is reported before anything is read)
            scenarios = [load_scenario(path, **overrides) for path in args.scenarios]
            timing.mark("scenario load")
            names = [s.name for s in scenarios]
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                raise UserError(
                    f"two scenarios are named {', '.join(repeated)}; names must be unique "
                    "in one run (set `name` in the file)"
                )
            if args.report:  # the report sets them side by side: one size (before any run)
                from ..analysis.findings import check_one_size

                check_one_size({s.name: s for s in scenarios})
            from ..analysis.outputs import default_folder

            folder = args.out if args.out is not None else default_folder(names)
            check_output_folder(folder, kind="run")
            if args.threads is None and args.scheduler is None:  # the cores, shared by local runs
                tasks = sum(s.simulation.replications for s in scenarios)
                apply_threads(None, local_processes(args.workers, tasks))
            painters = ChartPainters.start()  # loads matplotlib while this process loads the model
            quick_start()  # Numba's set-up without scipy.linalg's start-up and cffi
            from ..analysis.outputs import save
            from ..experiments import run
        timing.mark("imports")
        result = run(
            scenarios,
            workers=args.workers,
            scheduler=args.scheduler,
            progress=args.progress,
            warmups=folder / "warmups",
        )
        texts: list[str] = []
        warnings: list[str] = []

        def summarise() -> None:  # (while the painters draw the charts)
            from ..analysis.stationarity import trend_warnings
            from ..analysis.summary import text_summary

            texts.append(text_summary(result))
            warnings.extend(trend_warnings(result.timeseries, result.scenarios.values()))
            timing.mark("summary")

        written = save(result, folder, report=args.report, painters=painters, meanwhile=summarise)
    finally:
        if painters is not None:
            painters.close()
    print(*texts)
    for line in warnings:
        print(line, file=sys.stderr)
    print(f"\nOutputs in {folder}/: {', '.join(written)}")
    sys.stdout.flush()
    timing.mark("summary")
    return 0
