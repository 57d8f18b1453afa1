"""E-mail rates per email at the baseline and as targeting and frequency change (docs/ODD.md 7.4).

    python benchmarks/email_rates.py                     # 8,000 consumers, 365 days, 4 replications

The baseline with no attacks (``world.attack_pressure`` = 0; no events), its default warm-up, and
five variants of Aurora's policy: ``email_targeting`` 1.0 and 0.0 (fully segmented against
unsegmented mail), ``emails_per_week`` 3 (against the baseline's 1), and 5 and 12 mailings a
month (ClickZ's two frequencies). ``--set KEY=VALUE`` sets a parameter of every variant. Replication k of every
variant uses the seed ``replication_seed(seed, k)`` (common random numbers, as `omnitrust
compare`). Prints, per variant and brand, the year's clicks, unsubscribes and complaints per email
sent (totals over the replications divided by the emails sent), then the ratios ODD 7.4 quotes,
then the probability that a fully segmented email is relevant, skill x V(H) (O1 at targeting 1),
averaged over each brand's subscribers on the last day, pooled over the replications.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tomllib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.core.constants import SUBSCRIBED  # noqa: E402
from sim.core.errors import UserError  # noqa: E402
from sim.core.streams import replication_seed  # noqa: E402
from sim.mechanisms.consent import held_masks  # noqa: E402
from sim.mechanisms.metrics import EV  # noqa: E402
from sim.model import TrustModel  # noqa: E402
from sim.scenario.loading import apply_overrides, load_scenario  # noqa: E402
from sim.state.parameters import VALUE_OF_MASK  # noqa: E402

VARIANTS = {
    "baseline": {},
    "targeting 1.0": {"brands.Aurora.policy.email_targeting": 1.0},
    "targeting 0.0": {"brands.Aurora.policy.email_targeting": 0.0},
    "3 a week": {"brands.Aurora.policy.emails_per_week": 3.0},
    # ClickZ's two frequencies (via Mailchimp): 5 and 12 mailings a month
    "5 a month": {"brands.Aurora.policy.emails_per_week": 5 * 7 / 30.4},
    "12 a month": {"brands.Aurora.policy.emails_per_week": 12 * 7 / 30.4},
}
COUNTS = ("emails_sent", "email_clicks", "unsubscribes", "spam_complaints")


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--consumers", type=int, default=8000)
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--replications", type=int, default=4)
    p.add_argument("--seed", type=int, help="base seed (default: the scenario's)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a parameter of every variant, e.g. outreach.complaint_per_email=0.0003 (repeatable)",
    )
    a = p.parse_args(argv)
    base = load_scenario("baseline", consumers=a.consumers, days=a.days)
    extra = {}
    for item in a.set:
        key, eq, value = item.partition("=")
        if not eq:
            p.error(f"--set {item!r}: not KEY=VALUE (e.g. outreach.complaint_per_email=0.0003)")
        try:  # a TOML value, as in a scenario file: 4 is an integer, 0.5 a float, "x" a string
            extra[key.strip()] = tomllib.loads(f"v = {value.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            extra[key.strip()] = value.strip()  # the scenario's validation names what is allowed
    try:
        base = apply_overrides(base, {"world.attack_pressure": 0.0, **extra}, source="--set")
    except UserError as exc:
        p.exit(2, f"{p.prog}: error: {exc}\n")
    seed = base.simulation.seed if a.seed is None else a.seed
    brands = [b.name for b in base.brands]
    wall, load = time.perf_counter(), os.getloadavg()[0]
    totals, relevance = {}, {}
    for label, overrides in VARIANTS.items():
        sc = apply_overrides(base, overrides)
        tot = 0.0
        rel = np.zeros((2, len(brands)))  # sum of skill x V(H) over subscribers, their number
        for k in range(a.replications):
            m = TrustModel(sc, seed=replication_seed(seed, k))
            m.run()
            tot = tot + m.recorder.counts.sum(axis=0)  # (brands, counters)
            pop, levers = m.population, m.brand_levers
            for b in range(len(brands)):
                sub = (pop.flags[:, b] & SUBSCRIBED) != 0
                value = VALUE_OF_MASK[held_masks(pop, levers, b)][sub]
                rel[:, b] += levers.personalization_skill[b] * value.sum(), sub.sum()
        totals[label] = {c: tot[:, EV[c]] for c in COUNTS}
        relevance[label] = rel
    print(
        f"baseline, no attacks: {a.consumers:,} consumers x {a.days} days x {a.replications} "
        f"replications (seed {seed}, warm-up {base.simulation.warmup_days} days); "
        f"{time.perf_counter() - wall:.0f} s, load {load:.1f}"
    )
    print("per email sent:        brand     emails  clicks  unsubscribes  complaints")
    rates = {}
    for label, t in totals.items():
        for b, name in enumerate([*brands, "market"]):
            pick = (lambda x: x.sum()) if name == "market" else (lambda x, b=b: x[b])  # noqa: E731
            e = pick(t["emails_sent"])
            r = {c: pick(t[c]) / e for c in COUNTS[1:]}
            r["complaints_n"] = pick(t["spam_complaints"])
            rates[label, name] = r
            print(
                f"  {label:15s} {name:9s} {e:10,.0f}  {100 * r['email_clicks']:5.2f}%  "
                f"{100 * r['unsubscribes']:10.3f}%  {100 * r['spam_complaints']:9.4f}% "
                f"({r['complaints_n']:.0f})"
            )
    seg, unseg = rates["targeting 1.0", "Aurora"], rates["targeting 0.0", "Aurora"]
    often, once = rates["3 a week", "Aurora"], rates["baseline", "Aurora"]
    print("Aurora, segmented (targeting 1.0) vs unsegmented (0.0): clicks x"
          f"{seg['email_clicks'] / unseg['email_clicks']:.2f}, unsubscribes x"
          f"{seg['unsubscribes'] / unseg['unsubscribes']:.3f}")  # fmt: skip
    print("Aurora, 3 a week vs 1: unsubscribes per email x"
          f"{often['unsubscribes'] / once['unsubscribes']:.2f}, complaints per email x"
          f"{often['spam_complaints'] / once['spam_complaints']:.1f} "
          f"({often['complaints_n']:.0f} against {once['complaints_n']:.0f} complaints)")  # fmt: skip
    lo, hi = rates["5 a month", "Aurora"], rates["12 a month", "Aurora"]
    print("Aurora, 12 a month vs 5 (ClickZ: complaints x6.3): unsubscribes per email x"
          f"{hi['unsubscribes'] / lo['unsubscribes']:.2f}, complaints per email x"
          f"{hi['spam_complaints'] / max(lo['spam_complaints'], 1e-300):.1f} "
          f"({hi['complaints_n']:.0f} against {lo['complaints_n']:.0f} complaints)")  # fmt: skip
    rel = relevance["baseline"]
    shares = [f"{n} {s / c:.3f}" for n, s, c in zip(brands, *rel, strict=True)]
    seg_rel = relevance["targeting 1.0"][:, brands.index("Aurora")]
    c_rel, ratio = base.outreach.click_rate, base.outreach.irrelevant_click_ratio
    implied = (seg["email_clicks"] / c_rel - ratio) / (1 - ratio)
    print("a fully segmented email is relevant with probability skill x V(H), mean over the "
          f"subscribers on the last day: baseline {', '.join(shares)}, market "
          f"{rel[0].sum() / rel[1].sum():.3f}; Aurora at targeting 1.0 {seg_rel[0] / seg_rel[1]:.3f}"
          f" (its clicks imply {implied:.3f} = (clicks / {c_rel} - {ratio}) / (1 - {ratio}))")  # fmt: skip
    return rates


if __name__ == "__main__":
    main()
