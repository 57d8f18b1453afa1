"""``omnitrust evidence``: the model's emergent figures next to the published ones."""

from __future__ import annotations

from pathlib import Path

from ..analysis.evidence import (
    BREACH_DAY,
    BREACH_SHARE,
    FOLLOW_UP_DAYS,
    breached_brands,
    exposed_by_the_scenario,
    format_table,
    measure,
)
from ..core.errors import UserError, check_output_file
from ..core.storage import write_csv
from ..scenario.loading import load_scenario
from .options import SCENARIO_HELP


def add_evidence_parser(subparsers) -> None:
    """Register ``omnitrust evidence`` on the CLI's subparsers."""
    p = subparsers.add_parser(
        "evidence",
        help="the model's emergent figures next to the published ones",
        description="Run a scenario (and, for each brand in turn, a copy with one breach of "
        f"{BREACH_SHARE:.0%} of that brand's records on day {BREACH_DAY}, every run branching "
        "from the replication's one warm-up) and print each published figure next to the "
        "model's, with a 95% interval across replications, then who each figure counts: the "
        "model measures every figure on its source's own population (the denominator). The "
        "breach figures pool the counts of the brands' breaches (--brand: one brand's only). "
        "Nothing is fitted: the gap column says how far the defaults are.",
    )
    p.add_argument(
        "scenario",
        nargs="?",
        type=Path,
        default=Path("baseline"),
        help=f"{SCENARIO_HELP} (default: the bundled baseline)",
    )
    p.add_argument(
        "--replications",
        "-r",
        type=int,
        default=3,
        metavar="R",
        help="replications of each measurement, paired on seeds (default: 3)",
    )
    p.add_argument("--seed", type=int, metavar="S", help="base seed (default: the scenario's)")
    p.add_argument("--consumers", type=int, metavar="N", help="consumers (default: the scenario's)")
    p.add_argument(
        "--brand",
        metavar="NAME",
        help="measure the breach figures on this brand's breach only (default: pooled over one "
        "breach of each brand in turn)",
    )
    p.add_argument("--out", type=Path, metavar="CSV", help="also write the table as CSV")
    p.set_defaults(handler=cmd_evidence)


def cmd_evidence(args) -> int:
    """``omnitrust evidence``: print (and optionally write) the evidence table."""
    if args.replications < 1:
        raise UserError(f"--replications = {args.replications}: must be at least 1")
    if args.out is not None:
        check_output_file(args.out)  # before the measurements, not after them
    scenario = load_scenario(args.scenario, consumers=args.consumers, seed=args.seed)
    if args.brand is not None and args.brand not in [b.name for b in scenario.brands]:
        raise UserError(
            f"--brand = {args.brand!r}: not a brand of {args.scenario} "
            f"(brands: {', '.join(b.name for b in scenario.brands)})"
        )
    left_out = exposed_by_the_scenario(scenario)
    if args.brand is not None and args.brand not in breached_brands(scenario):
        why = left_out.get(args.brand) or (
            "it collects no data (policy.data_collection is empty), so a breach of it exposes "
            "nothing"
        )
        raise UserError(
            f"--brand = {args.brand!r}: brand {args.brand!r} of {args.scenario} cannot be "
            f"measured: {why}; choose one of: {', '.join(breached_brands(scenario)) or '(none)'}"
        )
    breached = ", ".join(breached_brands(scenario)) or "no brand"
    if left_out and args.brand is None:
        breached += "; left out: " + "; ".join(f"{b} ({why})" for b, why in left_out.items())
    table = measure(scenario, replications=args.replications, seed=args.seed, brand=args.brand)
    print(
        f"{scenario.name}: {args.replications} replications x {scenario.simulation.days} days x "
        f"{scenario.simulation.consumers:,} consumers; breach of "
        f"{args.brand or 'each brand in turn, pooled (' + breached + ')'}: "
        f"{BREACH_SHARE:.0%} of records on day {BREACH_DAY}, followed {FOLLOW_UP_DAYS} days"
    )
    print(format_table(table))
    if args.out is not None:
        write_csv(args.out, table)
        print(f"\nwritten to {args.out}")
    return 0
