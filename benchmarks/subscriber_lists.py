"""The slow parts of a quiet market in ten-year runs from the initial state (docs/ODD.md 5.1): how far
Aurora's subscriber list and the brands' churned relations are from their long-run level at days
1,095, 1,460 and 1,825, and how fast a list loses subscribers to unsubscribes and complaints.

    python benchmarks/subscriber_lists.py               # 3,000 consumers, 3,650 days, 2 replications

Each scenario's market as it runs until something happens (`sim.analysis.stationarity.quiet_before`:
the policies before any change, no events, no stochastic breaches) from its initial state (no
warm-up) for ``--days`` days, as `omnitrust warmup` runs it; replication k uses the seed
``replication_seed(seed, k)``; the series are means over the replications. The long-run level is
the mean of the last 365 days; "at day d" is the mean of days d..d+29. The unsubscribe outflow
is the unsubscribes (complaints included, O2-O3) of days 1,095-1,459 over the mean list of those
days; the growth is the list at day 1,430 (days 1,430-1,459) minus the list at day 1,095.
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

from sim.analysis.stationarity import quiet_before  # noqa: E402
from sim.core.streams import replication_seed  # noqa: E402
from sim.mechanisms.metrics import EV, STOCKS  # noqa: E402
from sim.model import TrustModel  # noqa: E402
from sim.scenario.loading import load_scenario  # noqa: E402

SCENARIOS = (
    "baseline",
    "privacy_first",
    "transparent_personalization",
    "data_maximalist",
    "newsletter_blaster",
)
AT = (1095, 1460, 1825)
SUBS, CHURNED = STOCKS.index("subscribers"), STOCKS.index("churned")


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("scenarios", nargs="*", default=list(SCENARIOS))
    p.add_argument("--consumers", type=int, default=3000)
    p.add_argument("--days", type=int, default=3650)
    p.add_argument("--replications", type=int, default=2)
    p.add_argument("--seed", type=int, help="base seed (default: each scenario's)")
    a = p.parse_args(argv)
    if a.days < max(AT) + 365 + 30:
        p.error(f"--days must be at least {max(AT) + 365 + 30} (the long-run year after day 1,825)")
    wall, load = time.perf_counter(), os.getloadavg()[0]
    out = {}
    lines = []
    for name in a.scenarios:
        sc = quiet_before(load_scenario(name, consumers=a.consumers), days=a.days, warmup=0)
        seed = sc.simulation.seed if a.seed is None else a.seed
        stocks, unsubs = [], []
        for k in range(a.replications):
            m = TrustModel(sc, seed=replication_seed(seed, k))
            m.run()
            stocks.append(m.recorder.stocks.copy())
            unsubs.append(m.recorder.counts[:, :, EV["unsubscribes"]].copy())
        s = np.mean(stocks, axis=0)  # (days, brands, stocks)
        u = np.mean(unsubs, axis=0)  # (days, brands)
        brands = [b.name for b in sc.brands]

        def at(series, d):
            return float(series[d : d + 30].mean())

        for b, brand in enumerate(brands):
            subs, churned = s[:, b, SUBS], s[:, b, CHURNED]
            long_subs, long_churned = float(subs[-365:].mean()), float(churned[-365:].mean())
            year = slice(1095, 1460)
            row = {
                "subscribers_long_run": long_subs,
                "subscribers_at": {d: at(subs, d) for d in AT},
                "subscribers_gap": {d: at(subs, d) / long_subs - 1 for d in AT},
                "growth_after_1095": at(subs, 1430) - at(subs, 1095),
                "unsubscribe_outflow": float(u[year, b].sum() / subs[year].mean()),
                "churned_long_run": long_churned,
                "churned_gap": {d: at(churned, d) / long_churned - 1 for d in AT},
            }
            out[name, brand] = row
            gaps = ", ".join(f"{100 * row['subscribers_gap'][d]:+.1f}%" for d in AT)
            cgaps = ", ".join(f"{100 * row['churned_gap'][d]:+.1f}%" for d in AT)
            lines.append(
                f"{name:28s} {brand:9s} subscribers {row['subscribers_at'][1095]:7,.0f} at day "
                f"1,095, {row['growth_after_1095']:+6,.0f} in the next year, "
                f"{long_subs:7,.0f} long run; vs long run at days 1,095/1,460/1,825: {gaps}; "
                f"unsubscribe outflow {100 * row['unsubscribe_outflow']:.1f}% a year; "
                f"churned {long_churned:6,.0f} long run, at days 1,095/1,460/1,825: {cgaps}"
            )
    print(
        f"quiet markets from the initial state: {a.consumers:,} consumers x {a.days} days x "
        f"{a.replications} replications; {time.perf_counter() - wall:.0f} s, load {load:.1f}"
    )
    print("\n".join(lines))
    return out


if __name__ == "__main__":
    main()
