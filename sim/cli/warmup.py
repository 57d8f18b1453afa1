"""``omnitrust warmup``: is a scenario's warm-up long enough? The MSER-5 diagnostic, rerunnable.

For each scenario, its market as it runs until something is scheduled to happen (the policies
before any change, no events, no stochastic breaches: `sim.analysis.stationarity.quiet_before`)
is run from the artificial initial state with no warm-up for ``--days`` days; for every brand's
trust, consent rate, subscribers and active customers (means over the replications) the MSER-5
truncation point is printed, and whether ``simulation.warmup_days`` covers the largest; then the
shortest warm-up from which the scenario's steady days (up to its first event or policy change)
stay within the quiet-market tolerances (`sim.analysis.stationarity.tolerance_warmup`; docs/ODD.md
5.1, "A quiet market stands still: the warm-up length").
"""

from __future__ import annotations

import argparse
import time

from .options import SCENARIOS_HELP

DEFAULT_DAYS = MAX_DAYS = 3650


def add_warmup_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``omnitrust warmup`` on the CLI's subparsers."""
    p = subparsers.add_parser(
        "warmup",
        help="check a scenario's warm-up length with the MSER-5 diagnostic",
        description="Run each scenario's market from its initial state (no warm-up, no events, no "
        "stochastic breaches, the policies before any change) and print the MSER-5 truncation "
        "point of every brand's trust, consent rate, subscribers and active customers, and "
        "whether simulation.warmup_days covers the largest, and the shortest warm-up that keeps "
        "the scenario's steady days within the quiet-market tolerances.",
    )
    p.add_argument(
        "scenarios",
        nargs="+",
        metavar="SCENARIO",
        help=SCENARIOS_HELP,
    )
    p.add_argument(
        "--days",
        type=int,
        default=DEFAULT_DAYS,
        metavar="D",
        help=f"length of the run from the initial state (default {DEFAULT_DAYS}; MSER-5 searches "
        "its first half)",
    )
    p.add_argument(
        "--consumers", type=int, metavar="N", help="number of consumers (default: the scenario's)"
    )
    p.add_argument(
        "--replications",
        "-r",
        type=int,
        metavar="R",
        help="replications, averaged before the diagnostic (default: the scenario's)",
    )
    p.add_argument("--seed", type=int, metavar="S", help="base seed (default: the scenario's)")
    p.set_defaults(handler=cmd_warmup)
    return p


def cmd_warmup(args: argparse.Namespace) -> int:
    """``omnitrust warmup``: print the MSER-5 table and the verdict of each scenario."""
    from ..analysis.stationarity import (
        mser_table,
        quiet_before,
        steady_days,
        tolerance_warmup,
        warmup_verdict,
    )
    from ..core.errors import UserError
    from ..runner import daily_stocks
    from ..scenario.loading import load_scenario

    if not 10 <= args.days <= MAX_DAYS:
        raise UserError(
            f"--days must be 10 (two MSER-5 batches) to {MAX_DAYS} (simulation.days), "
            f"got {args.days}"
        )
    overrides = {"consumers": args.consumers, "replications": args.replications, "seed": args.seed}
    scenarios = [load_scenario(path, **overrides) for path in args.scenarios]
    for k, scenario in enumerate(scenarios):
        cold = quiet_before(scenario, days=args.days, warmup=0)
        reps = scenario.simulation.replications
        started = time.perf_counter()
        stocks, names = daily_stocks(cold, reps)
        table = mser_table(stocks.mean(axis=0), [b.name for b in cold.brands], names)
        wide = table.pivot(index="brand", columns="metric", values="truncation")
        wide = wide.loc[[b.name for b in cold.brands], list(dict.fromkeys(table["metric"]))]
        mark = table.set_index(["brand", "metric"])["at_bound"]
        print(("\n" if k else "") + (
            f"{scenario.name}: MSER-5 truncation points in days from the initial state "
            f"({args.days} days without warm-up, events or stochastic breaches, "
            f"{scenario.simulation.consumers} consumers, means over {reps} replications, "
            f"{time.perf_counter() - started:.0f} s; * = at the bound, half the run)"
        ))  # fmt: skip
        print(f"{'brand':12s}" + "".join(f"{m:>18s}" for m in wide.columns))
        for brand, row in wide.iterrows():
            cells = (f"{v}{'*' if mark[(brand, m)] else ''}" for m, v in row.items())
            print(f"{brand:12s}" + "".join(f"{c:>18s}" for c in cells))
        print(warmup_verdict(table, scenario.simulation.warmup_days))
        span = steady_days(scenario)
        w = tolerance_warmup(stocks.mean(axis=0), names, span)
        if w is None:
            print(
                f"tolerances: no warm-up within this run keeps its {span} steady days within the "
                "quiet-market tolerances (trust, consent 3%; subscribers, active 5%); run longer"
            )
        else:
            print(
                f"tolerances: from a warm-up of {w} days on, its {span} steady days stay within "
                "the quiet-market tolerances (trust, consent 3%; subscribers, active 5%; "
                f"simulation.warmup_days = {scenario.simulation.warmup_days})"
            )
    return 0
