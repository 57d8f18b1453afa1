"""E-mail figures the outreach parameters' rationales quote (docs/PARAMETERS.md, ODD 7.4).

    python benchmarks/email_rates.py [--consumers 20000] [--replications 3] [--seed 20161]

1. The bundled baseline as it is (default warm-up, 365 recorded days): clicks and unsubscribes
   per e-mail, for the market and for each brand, summed over the year and the replications
   (`outreach.click_rate`, `irrelevant_click_ratio`, `unsubscribe_per_email`).
2. Aurora fully segmented (`email_targeting` 1.0) against unsegmented (0.0), no breaches
   (`world.attack_pressure` 0), on the same random numbers: the ratio of its clicks per e-mail
   and of its unsubscribes per e-mail (`outreach.relevant_unsubscribe_ratio`; Mailchimp 2017:
   clicks +101%, unsubscribes -9.4%). tests/test_email.py checks the same directions with bands.

The figures are ratios of sums: (sum of clicks) / (sum of e-mails sent) over every day and
replication. Runs are in this process, one after the other.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.loading import load_scenario  # noqa: E402
from sim.runner import simulate  # noqa: E402
from sim.scenario.loading import apply_overrides  # noqa: E402

METRICS = ("emails_sent", "email_clicks", "unsubscribes")


def totals(scenario, replications: int):
    """Sums over days and replications of the e-mail metrics, by brand."""
    out = None
    for k in range(replications):
        t = simulate(scenario, k)
        t = t[(t["channel"] == "all") & t["metric"].isin(METRICS)]
        t = t[t["brand"] != "all"]
        s = t.groupby(["brand", "metric"], observed=True)["value"].sum()
        out = s if out is None else out + s
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--consumers", type=int, default=20_000)
    ap.add_argument("--replications", type=int, default=3)
    ap.add_argument("--seed", type=int, default=20161)
    a = ap.parse_args()
    start, cpu = time.time(), time.process_time()
    sc = load_scenario(ROOT / "scenarios" / "baseline.toml", consumers=a.consumers, seed=a.seed)
    print(
        f"baseline, {a.consumers} consumers, {sc.simulation.warmup_days}-day warm-up, "
        f"{sc.simulation.days} days, {a.replications} replications, seed {a.seed}"
    )
    base = totals(sc, a.replications)
    market = base.groupby(level="metric").sum()
    print(f"{'brand':10s} {'emails':>10s} {'clicks/email':>13s} {'unsubs/email':>13s}")
    for b in ["market", *sorted({k[0] for k in base.index})]:
        x = market if b == "market" else base[b]
        print(
            f"{b:10s} {x['emails_sent']:10.0f} {x['email_clicks'] / x['emails_sent']:13.4%} "
            f"{x['unsubscribes'] / x['emails_sent']:13.4%}"
        )
    quiet = {"world.attack_pressure": 0.0}
    rates = {}
    for targeting in (1.0, 0.0):
        s = apply_overrides(
            sc, {**quiet, "brands.Aurora.policy.email_targeting": targeting}, "email_rates"
        )
        x = totals(s, a.replications)["Aurora"]
        rates[targeting] = (
            x["email_clicks"] / x["emails_sent"],
            x["unsubscribes"] / x["emails_sent"],
        )
        print(
            f"Aurora, email_targeting {targeting}, no breaches: clicks/email "
            f"{rates[targeting][0]:.4%}, unsubscribes/email {rates[targeting][1]:.4%}"
        )
    (c1, u1), (c0, u0) = rates[1.0], rates[0.0]
    print(
        f"segmented vs unsegmented: clicks x{c1 / c0:.3f} ({c1 / c0 - 1:+.1%}), "
        f"unsubscribes x{u1 / u0:.3f} ({u1 / u0 - 1:+.1%})"
    )
    print(
        f"{time.time() - start:.0f} s wall, {time.process_time() - cpu:.0f} s CPU, "
        f"load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
