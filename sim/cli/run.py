"""``omnitrust run``: run scenarios, write the outputs folder, print the headline summary."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..analysis.outputs import default_folder, save
from ..analysis.painters import ChartPainters
from ..analysis.summary import text_summary
from ..core import timing
from ..core.errors import check_output_folder
from .options import apply_threads, executor_args, report_arg, size_args


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
    size_args(p, "the scenario's")
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="output folder (default: results/<first scenario name>)",
    )
    executor_args(p)
    report_arg(p)
    p.set_defaults(handler=cmd_run)
    return p


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
