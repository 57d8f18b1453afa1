"""What a warm-up of its own for one scenario does to a paired comparison (docs/ODD.md 5.1, "The
default is therefore 1 825 days, for every scenario").

    python benchmarks/warmup_pairing.py     # 3,000 consumers, 60 days, 6 replications, seed 11

Runs ``omnitrust compare baseline transparent_personalization`` (`sim.compare`, with the
independent-seeds reference that measures the pairing) twice: both scenarios with the default
warm-up, and the variant alone with ``--extra`` more warm-up days (its random-stream keys are then
shifted, ODD 4.9, and its market is older). Prints, for each, the median width ratio of the paired
intervals on the headline differences over every brand (paired / independent-seeds width: near 1,
pairing bought nothing) and the variant's effect on each brand's consent rate.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sim  # noqa: E402
from sim.experiments.store import HEADLINE  # noqa: E402
from sim.scenario.loading import apply_overrides, load_scenario  # noqa: E402


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--consumers", type=int, default=3000)
    p.add_argument("--days", type=int, default=60)
    p.add_argument("--replications", type=int, default=6)
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--extra", type=int, default=730, help="extra warm-up days for the variant")
    a = p.parse_args(argv)
    base = load_scenario("baseline")
    variant = load_scenario("transparent_personalization")
    warmup = variant.simulation.warmup_days
    longer = apply_overrides(variant, {"simulation.warmup_days": warmup + a.extra})
    wall, load = time.perf_counter(), os.getloadavg()[0]
    out = {}
    for label, v in (
        (f"both {warmup} days", variant),
        (f"variant alone {warmup + a.extra}", longer),
    ):
        c = sim.compare(
            [base, v],
            replications=a.replications,
            seed=a.seed,
            days=a.days,
            consumers=a.consumers,
            workers=1,
            bootstrap=0,
            charts=False,
            progress=False,
        )
        d = c.differences
        ratio = d[d["metric"].isin(HEADLINE)]["width_ratio"].dropna()
        consent = d[d["metric"] == "consent_rate"].set_index("brand")["diff"]
        out[label] = {"median_width_ratio": float(ratio.median()), "consent_rate": consent}
    print(
        f"baseline vs transparent_personalization: {a.consumers:,} consumers x {a.days} days x "
        f"{a.replications} replications, seed {a.seed}; {time.perf_counter() - wall:.0f} s, "
        f"load {load:.1f}"
    )
    for label, r in out.items():
        effects = ", ".join(f"{b} {v:+.4f}" for b, v in r["consent_rate"].items())
        print(
            f"  warm-up {label:22s} median width ratio {r['median_width_ratio']:.3f}; "
            f"effect on consent rate: {effects}"
        )
    return out


if __name__ == "__main__":
    main()
