"""``omnitrust compare`` and ``omnitrust sweep``: registered on the CLI by `add_parsers`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..analysis.outcomes import OUTCOMES
from ..core.errors import UserError
from ..experiments.store import HEADLINE
from .options import (
    SCENARIOS_HELP,
    apply_threads,
    executor_args,
    local_processes,
    report_arg,
    results_folder,
    resumes,
    size_args,
)

MAX_REPLICATIONS = 100
"""``--max-replications`` unless given: the cap of the replication rule (``--target-width``)."""


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Register ``compare`` and ``sweep`` (each with ``handler=``) on the CLI's subparsers."""
    p = subparsers.add_parser(
        "compare",
        help="compare scenarios with common random numbers (paired differences)",
        description="Run scenarios with the same replication seeds; write and print levels and "
        "paired differences vs a reference with 95% intervals, the pairing gain "
        "(width ratio vs independent seeds), risk views and charts. Rerunning the "
        "same command into the same --out resumes.",
    )
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO", help=SCENARIOS_HELP)
    p.add_argument(
        "--out", type=Path, metavar="DIR", help="results folder (default: results/compare-<names>)"
    )
    p.add_argument(
        "--reference", metavar="NAME", help="reference scenario name (default: the first)"
    )
    size_args(p, "the reference scenario's")
    p.add_argument(
        "--focus-brand",
        metavar="BRAND",
        help="brand shown in printed tables and charts (default: every brand)",
    )
    p.add_argument(
        "--outcome",
        choices=OUTCOMES,
        default="auto",
        help="per-run outcome: auto = horizon total for flows (revenue, net_value, "
        "breach_cost, ...), mean of the last 30 days (all days of a shorter run) for "
        "stocks (trust, ...); "
        "window or total for every metric",
    )
    p.add_argument(
        "--target-width",
        type=float,
        metavar="W",
        help="add replications until the 95%% half-width of the --metric "
        "difference(s) is at most W",
    )
    p.add_argument(
        "--metric",
        action="append",
        metavar="NAME",
        help="metric(s) of the replication rule (repeatable; default: trust)",
    )
    p.add_argument(
        "--max-replications",
        type=int,
        default=MAX_REPLICATIONS,
        metavar="M",
        help=f"cap of the replication rule (default: {MAX_REPLICATIONS})",
    )
    p.add_argument(
        "--batch",
        type=int,
        metavar="B",
        help="replications added per step (default: --replications)",
    )
    p.add_argument(
        "--bootstrap",
        type=int,
        default=2000,
        metavar="B",
        help="bootstrap resamples for difference intervals (0: none; default 2000)",
    )
    p.add_argument(
        "--no-independent",
        dest="independent",
        action="store_false",
        help="skip the independent-seeds rerun of the reference (no width ratio)",
    )
    p.add_argument(
        "--risk",
        action="store_true",
        help="also run no-incident counterfactuals: losses, VaR, ES, exceedance",
    )
    p.add_argument(
        "--threshold",
        type=float,
        default=0.4,
        metavar="T",
        help="trust threshold of P(trust < T by day) (default 0.4)",
    )
    p.add_argument(
        "--by-day", type=int, metavar="D", help="day of P(trust < T by day) (default: last day)"
    )
    p.add_argument("--no-charts", dest="charts", action="store_false", help="no PNG charts")
    report_arg(p)
    executor_args(p, posterior=True)
    p.set_defaults(handler=cmd_compare)

    s = subparsers.add_parser(
        "sweep",
        help="run an experiment file: grid or Latin hypercube over levers and worlds",
        description="Run an experiment TOML file (base scenario, factors, policies x worlds) "
        "and write one tidy table (one row per run, brand and metric, with the "
        "design values) plus robustness/regret tables. Rerunning resumes.",
    )
    s.add_argument("experiment", metavar="EXPERIMENT", help="experiment TOML file")
    s.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="results folder (default: results/<experiment name>)",
    )
    size_args(s, "the experiment's")
    s.add_argument(
        "--outcome",
        choices=OUTCOMES,
        default="auto",
        help="per-run outcome (see compare --outcome)",
    )
    executor_args(s, posterior=True)
    s.set_defaults(handler=cmd_sweep)


def _interrupted(exc) -> int:
    print(f"\n{exc}", file=sys.stderr)
    return 130


def cmd_compare(args: argparse.Namespace) -> int:
    """``omnitrust compare``: run, write tables and charts, print the report."""
    from ..experiments.compare import compare
    from ..experiments.engine import Interrupted

    apply_threads(args.threads, None if args.scheduler else local_processes(args.workers))
    if args.target_width is None:
        given = (("--metric", args.metric), ("--batch", args.batch))
        unused = [option for option, value in given if value is not None]
        unused += ["--max-replications"] if args.max_replications != MAX_REPLICATIONS else []
        if unused:
            raise UserError(
                f"{', '.join(unused)}: options of the replication rule, used only with "
                "--target-width W (give it, or leave them out)"
            )
    out = args.out
    if out is None:
        out = Path("results") / ("compare-" + "-".join(Path(s).stem for s in args.scenarios))
    # (stopped after the runs, while the tables are made: main() says what is kept)
    resumes(args, out)
    try:
        with results_folder(out, "compare"):  # (bad input found later: no empty folder left behind)
            result = compare(
                args.scenarios,
                replications=args.replications,
                seed=args.seed,
                reference=args.reference,
                out=out,
                days=args.days,
                consumers=args.consumers,
                workers=args.workers,
                scheduler=args.scheduler,
                outcome=args.outcome,
                independent=args.independent,
                bootstrap=args.bootstrap,
                target_width=args.target_width,
                target_metrics=args.metric or ["trust"],
                max_replications=args.max_replications,
                batch=args.batch,
                focus_brand=args.focus_brand,
                risk=args.risk,
                threshold=args.threshold,
                by_day=args.by_day,
                charts=args.charts,
                progress=args.progress,
                posterior=args.posterior,
            )
    except Interrupted as exc:
        return _interrupted(exc)
    print(result.report_text(HEADLINE))
    print(
        f"\nTables in {result.out}/: levels.csv, differences.csv, runs.parquet, "
        f"trust_threshold.csv" + (", risk.csv, losses.csv" if result.risk is not None else "")
    )
    if args.report:
        from ..analysis.report import write_folder_report

        written = write_folder_report(result.out, result.out, brand=args.focus_brand)
        print(f"Report in {result.out}/: {', '.join(written)}")
    sys.stdout.flush()
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    """``omnitrust sweep``: run an experiment file, write and summarise its tables."""
    from ..experiments.engine import Interrupted
    from ..experiments.sweep import sweep

    apply_threads(args.threads, None if args.scheduler else local_processes(args.workers))
    try:
        with results_folder(
            args.out, "sweep"
        ) as out:  # (a bad experiment file: no empty folder left)
            resumes(args, out)
            result = sweep(
                args.experiment,
                out=out,
                replications=args.replications,
                seed=args.seed,
                days=args.days,
                consumers=args.consumers,
                workers=args.workers,
                scheduler=args.scheduler,
                outcome=args.outcome,
                progress=args.progress,
                posterior=args.posterior,
            )
    except Interrupted as exc:
        return _interrupted(exc)
    print(result.report_text())
    sys.stdout.flush()
    return 0
