"""Abnormal churn after a breach, three ways: as `omnitrust evidence` counted it until 2026-12-04,
with one definition for both groups, and against the same consumers in a run without the breach
(what it counts now).

    python benchmarks/breach_churn_definition.py                              # 2,000 x 2, < 1 min
    python benchmarks/breach_churn_definition.py --consumers 5000 --replications 4

Each replication k uses the seeds and the warm-up of `omnitrust evidence` (`replication_seed(seed,
k)`, `sim.analysis.evidence.start`): one warm-up, from which one breach run per brand
(`evidence.breach_scenario`: 30% of the brand's records on day 120, followed 365 days) and one run
of the same market with no scheduled breach (same horizon, same seed) branch. The breach runs are
counted by `evidence.breach_counts` itself, and the script checks that its own groups give the
same counts and that 3 (churned) is exactly the figure `omnitrust evidence` reports. Groups, as there
(docs/ODD.md 7.9): the *notified customers* (customers of the brand, not churned, at the start of
day 120; exposed by that breach; notified; in the market all year) and the *unexposed customers*
(customers then, exposed in no breach from day 120 on, in the market all year). At the end of the
run a relation is *churned* (CHURNED) or *without a record* (no ACCOUNT: retention deletes a record
730 days after the brand last saw the consumer, L4; a churning exposed customer may delete it, L1).

Prints, pooled over the brands' breaches as the evidence pools them (per replication: numerators
summed over the brands over denominators summed; then the mean over replications):

1. as coded until 2026-12-04: notified customers churned *or without a record*, minus unexposed
   customers *churned* (record loss counted as leaving for the notified only);
2. one definition for both groups: churned minus churned, and churned-or-no-record minus the same;
3. the breach's effect: the notified customers in the breach run minus the same consumers (same
   rows, same seeds) in the run without the breach, churned (`sim/analysis/evidence.py` since
   2026-12-04) and churned-or-no-record.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.analysis import evidence  # noqa: E402
from sim.core.streams import replication_seed  # noqa: E402
from sim.mechanisms.turnover import reborn_between  # noqa: E402
from sim.model import TrustModel  # noqa: E402
from sim.scenario.loading import load_scenario  # noqa: E402
from sim.state.population import ACCOUNT, CHURNED, CUSTOMER, NOTIFIED  # noqa: E402

GROUPS = ("notified", "unexposed", "notified_without_breach")
KINDS = ("n", "churned", "no_record_only")  # no_record_only: no ACCOUNT and not CHURNED


def groups_of_one_breach(scenario, rs, warm, name, b, quiet_flags):
    """Run the breach branch of brand ``b`` through `evidence.breach_counts` and return, per group,
    its size, how many are churned and how many have no record but are not churned; the
    ``notified_without_breach`` group is the notified customers' rows in the no-breach run
    (``quiet_flags``, its relation flags at the end)."""
    m = TrustModel(evidence.breach_scenario(scenario, name), seed=rs, warm_start=warm)
    while m.day < evidence.BREACH_DAY:
        m.step()
    pop = m.population
    flags = pop.flags  # the live array: read at the end below
    customers = ((flags[:, b] & CUSTOMER) != 0) & ((flags[:, b] & CHURNED) == 0)
    t0 = evidence.BREACH_DAY + m.warmup
    taken = {}
    run = m.run

    def run_and_take_exposed():  # breach_counts calls run() right after the breach day
        taken["exposed"] = pop.exposed_day[:, b] == t0
        run()

    m.run = run_and_take_exposed
    counts = evidence.breach_counts(m, b, (quiet_flags & CHURNED) != 0)
    exposed = taken["exposed"]
    exposed_any = (pop.exposed_day >= t0).any(axis=1)
    stayed = ~reborn_between(m.seed_value, t0, m.t, pop.size, m.params.derived.turnover)
    notified = ((flags[:, b] & NOTIFIED) != 0) & exposed & stayed
    groups = {
        "notified": customers & notified,
        "unexposed": customers & ~exposed_any & stayed,
    }
    out = {}
    for label, rows, f in (
        ("notified", groups["notified"], flags[:, b]),
        ("unexposed", groups["unexposed"], flags[:, b]),
        ("notified_without_breach", groups["notified"], quiet_flags[:, b]),
    ):
        churned = (f & CHURNED) != 0
        no_record = (f & ACCOUNT) == 0
        out[label] = {
            "n": int(rows.sum()),
            "churned": int((churned & rows).sum()),
            "no_record_only": int((no_record & ~churned & rows).sum()),
        }
    # the groups are evidence.py's: the same notified customers, churned in either run
    n, w = out["notified"], out["notified_without_breach"]
    assert counts["notified_customers"] == n["n"], (counts, out)
    assert counts["notified_customers_churned"] == n["churned"], (counts, out)
    assert counts["notified_customers_churned_without_breach"] == w["churned"], (counts, out)
    return out, counts


def share(tot, group, *kinds):
    return sum(tot[group][k] for k in kinds) / tot[group]["n"] if tot[group]["n"] else np.nan


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("scenario", nargs="?", default="baseline", help="default: the bundled baseline")
    p.add_argument("--consumers", type=int, default=2000)
    p.add_argument("--replications", type=int, default=2)
    p.add_argument("--seed", type=int, help="base seed (default: the scenario's, as evidence)")
    a = p.parse_args(argv)
    scenario = load_scenario(a.scenario, consumers=a.consumers)
    seed = scenario.simulation.seed if a.seed is None else a.seed
    horizon = evidence.BREACH_DAY + evidence.FOLLOW_UP_DAYS + 1
    quiet = scenario.with_overrides(days=horizon)  # the breach runs' market without the breach
    wall, cpu, load = time.perf_counter(), time.process_time(), os.getloadavg()[0]
    rows = []
    for k in range(a.replications):
        rs = replication_seed(seed, k)
        _, warm = evidence.start(scenario, rs)  # as `evidence.measure`
        q = TrustModel(quiet, seed=rs, warm_start=warm)
        q.run()
        per_brand = []
        for name in evidence.breached_brands(scenario):
            b = [x.name for x in scenario.brands].index(name)
            per_brand.append(groups_of_one_breach(scenario, rs, warm, name, b, q.population.flags))
        tot = {g: {kind: sum(o[g][kind] for o, _ in per_brand) for kind in KINDS} for g in GROUPS}
        coded = evidence.pool([c for _, c in per_brand])["breach_abnormal_churn"]
        both = ("churned", "no_record_only")
        r = {
            "notified_churned": share(tot, "notified", "churned"),
            "notified_no_record": share(tot, "notified", "no_record_only"),
            "unexposed_churned": share(tot, "unexposed", "churned"),
            "unexposed_no_record": share(tot, "unexposed", "no_record_only"),
            "same_churned": share(tot, "notified_without_breach", "churned"),
            "same_no_record": share(tot, "notified_without_breach", "no_record_only"),
            "notified_customers": tot["notified"]["n"],
            "unexposed_customers": tot["unexposed"]["n"],
        }
        r["stopped_dealing_before"] = share(tot, "notified", *both)  # until 2026-12-04
        r["as_coded"] = r["stopped_dealing_before"] - r["unexposed_churned"]
        r["churned_vs_churned"] = r["notified_churned"] - r["unexposed_churned"]
        r["left_vs_left"] = share(tot, "notified", *both) - share(tot, "unexposed", *both)
        r["causal_churned"] = r["notified_churned"] - r["same_churned"]
        assert abs(r["causal_churned"] - coded) < 1e-12, (r["causal_churned"], coded)
        r["causal_left"] = share(tot, "notified", *both) - share(
            tot, "notified_without_breach", *both
        )
        rows.append(r)

    def pct(key):
        v = np.array([r[key] for r in rows], dtype=float)
        if v.size < 2:
            return f"{100 * v.mean():6.2f}%"
        return f"{100 * v.mean():6.2f}% (SE {100 * v.std(ddof=1) / np.sqrt(v.size):.2f})"

    def n(key):
        return f"{np.mean([r[key] for r in rows]):,.0f}"

    print(
        f"{scenario.name}: {a.consumers:,} consumers x {a.replications} replications (seed {seed}); "
        f"breach of each brand in turn ({', '.join(evidence.breached_brands(scenario))}), pooled; "
        f"means over replications; {time.perf_counter() - wall:.0f} s wall, "
        f"{time.process_time() - cpu:.0f} s CPU, load {load:.1f}"
    )
    print(f"notified customers per replication {n('notified_customers')}, "
          f"unexposed customers {n('unexposed_customers')}")  # fmt: skip
    print("shares at the end of the run:")
    print(f"  notified customers, breach run:           churned {pct('notified_churned')}, "
          f"no record (not churned) {pct('notified_no_record')}; stopped dealing as coded before "
          f"{pct('stopped_dealing_before')}")  # fmt: skip
    print(f"  unexposed customers, breach run:          churned {pct('unexposed_churned')}, "
          f"no record (not churned) {pct('unexposed_no_record')}")  # fmt: skip
    print(f"  the notified customers, run w/o breach:   churned {pct('same_churned')}, "
          f"no record (not churned) {pct('same_no_record')}")  # fmt: skip
    print("abnormal churn (percentage points):")
    print(f"  1. until 2026-12-04 (notified churned or no record - unexposed churned)      "
          f"{pct('as_coded')}")  # fmt: skip
    print(f"  2. one definition:  churned - churned                                        "
          f"{pct('churned_vs_churned')}")  # fmt: skip
    print(f"                      churned or no record - churned or no record              "
          f"{pct('left_vs_left')}")  # fmt: skip
    print("  3. the breach's effect on the notified customers (vs the same consumers and seeds "
          "without it):")  # fmt: skip
    print(f"                      churned (evidence.py now)                                "
          f"{pct('causal_churned')}")  # fmt: skip
    print(f"                      churned or no record                                     "
          f"{pct('causal_left')}")  # fmt: skip
    return {"rows": rows}


if __name__ == "__main__":
    main()
