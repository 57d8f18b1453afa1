"""How the report's first-order attributions compare with switching the mechanism off.

    python benchmarks/attribution.py [--consumers 3000] [--days 90] [--seed 5]

Runs the baseline twice on the same seed: as it is, and with no spam evidence at all (every
brand's irrelevant mail and complaints leave trust alone: trust.spam_evidence = 0 and
outreach.complaint_penalty = 0), and prints, for every brand, the horizon totals of margin, margin
from personalization and losses to spam (docs/ODD.md 7.9) next to the margin gained without spam.
The losses to spam are first-order and per brand (only that brand's spam removed, the rivals'
kept, at the consumer's state of the moment); the switch-off removes every brand's spam at once,
so rivals win back customers too, and lets trust, subscriptions and word of mouth adjust.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.loading import load_scenario  # noqa: E402
from sim.runner import simulate  # noqa: E402
from sim.scenario.loading import apply_overrides  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--consumers", type=int, default=3000)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--seed", type=int, default=5)
    a = ap.parse_args()
    sc = load_scenario(
        ROOT / "scenarios" / "baseline.toml", consumers=a.consumers, days=a.days, seed=a.seed
    )
    quiet = apply_overrides(sc, {"trust.spam_evidence": 0.0, "outreach.complaint_penalty": 0.0})
    totals = {}
    for name, s in (("as is", sc), ("no spam", quiet)):
        t = simulate(s, 0)
        t = t[(t["channel"] == "all") & (t["brand"] != "all")]
        totals[name] = t.groupby(["brand", "metric"], observed=True)["value"].sum()
    print(f"baseline, {a.consumers} consumers, {a.days} days, seed {a.seed}; EUR over the horizon")
    print(
        f"{'brand':10s} {'margin':>10s} {'from pers.':>10s} {'spam loss':>10s} {'no-spam gain':>13s}"
    )
    for b in sorted({k[0] for k in totals["as is"].index}):
        x, y = totals["as is"][b], totals["no spam"][b]
        print(
            f"{b:10s} {x['margin']:10.0f} {x['personalization_margin']:10.0f} "
            f"{x['spam_losses']:10.0f} {y['margin'] - x['margin']:13.0f}"
        )


if __name__ == "__main__":
    main()
