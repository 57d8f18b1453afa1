"""How much transparency moves trust, and through what (docs/ODD.md 7.3, "Transparency acts on
trust").

    python benchmarks/transparency_effect.py            # 8,000 consumers, 240 days, 2 replications

The baseline with no attacks (``world.attack_pressure`` = 0; no events) and its default warm-up,
Aurora at ``transparency`` 0.9 against 0.0 (same data and skill), under three settings: the
defaults; ``trust.informed_relief`` = 0.5 (a consumer who knowingly shared is spared half, not 80%,
of the spam evidence); ``trust.covert_evidence`` = 0 (covert data that comes to light costs no
trust). Replication k of every run uses the seed ``replication_seed(seed, k)`` (common random
numbers, as `omnitrust compare`). Prints, per setting, Aurora's trust (mean of the last 30 days)
at 0.9 and 0.0 and their difference per replication, its consent rate and subscribers (last 30
days), its covert discoveries a day (over the recorded days) and, at the end of each run, the mean
slope of trust in new negative evidence, t/(r + s + W) (docs/ODD.md 7.3), over its subscribers
and over all consumers. ``--informed-relief X ...`` adds a setting for each value X.

    python benchmarks/transparency_effect.py --informed-relief 0.4 0.3
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

from sim.core.constants import SUBSCRIBED  # noqa: E402
from sim.core.streams import replication_seed  # noqa: E402
from sim.mechanisms.metrics import EV, STOCKS  # noqa: E402
from sim.mechanisms.trust import trust_of  # noqa: E402
from sim.model import TrustModel  # noqa: E402
from sim.scenario.loading import apply_overrides, load_scenario  # noqa: E402

SETTINGS = {
    "defaults": {},
    "informed_relief 0.5": {"trust.informed_relief": 0.5},
    "covert_evidence 0": {"trust.covert_evidence": 0.0},
}
LEVELS = (0.9, 0.0)


def aurora(m: TrustModel) -> dict[str, float]:
    s = m.recorder.stocks[-30:, 0]
    pop, trust = m.population, m.params.trust
    r, e = pop.r[:, 0].astype(np.float64), pop.s[:, 0].astype(np.float64)
    slope = trust_of(r, e, trust.prior, trust.prior_weight) / (r + e + trust.prior_weight)
    subscribed = (pop.flags[:, 0] & SUBSCRIBED) > 0
    return {
        "slope_subscribers": float(slope[subscribed].mean()),
        "slope_all": float(slope.mean()),
        "trust": float(s[:, STOCKS.index("trust")].mean()),
        "consent_rate": float(s[:, STOCKS.index("consent_rate")].mean()),
        "subscribers": float(s[:, STOCKS.index("subscribers")].mean()),
        "covert_per_day": float(m.recorder.counts[:, 0, EV["covert_discoveries"]].mean()),
    }


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--consumers", type=int, default=8000)
    p.add_argument("--days", type=int, default=240)
    p.add_argument("--replications", type=int, default=2)
    p.add_argument("--seed", type=int, help="base seed (default: the scenario's)")
    p.add_argument(
        "--informed-relief",
        type=float,
        nargs="+",
        default=[],
        metavar="X",
        help="add a setting with trust.informed_relief = X for each X",
    )
    a = p.parse_args(argv)
    settings = dict(SETTINGS)
    for x in a.informed_relief:
        settings[f"informed_relief {x:g}"] = {"trust.informed_relief": x}
    base = load_scenario("baseline", consumers=a.consumers, days=a.days)
    base = apply_overrides(base, {"world.attack_pressure": 0.0})
    seed = base.simulation.seed if a.seed is None else a.seed
    wall, load = time.perf_counter(), os.getloadavg()[0]
    out = {}
    for label, overrides in settings.items():
        for x in LEVELS:
            sc = apply_overrides(base, {**overrides, "brands.Aurora.policy.transparency": x})
            runs = []
            for k in range(a.replications):
                m = TrustModel(sc, seed=replication_seed(seed, k))
                m.run()
                runs.append(aurora(m))
            out[label, x] = runs
    print(
        f"baseline, no attacks: {a.consumers:,} consumers x {a.days} days x {a.replications} "
        f"replications (seed {seed}, warm-up {base.simulation.warmup_days} days); "
        f"{time.perf_counter() - wall:.0f} s, load {load:.1f}"
    )
    print("Aurora, transparency 0.9 against 0.0 (means over replications; last 30 days):")
    for label in settings:
        hi, lo = out[label, 0.9], out[label, 0.0]
        diffs = [h["trust"] - o["trust"] for h, o in zip(hi, lo, strict=True)]

        def mean(runs, key):
            return float(np.mean([r[key] for r in runs]))

        print(
            f"  {label:20s} trust {mean(hi, 'trust'):.4f} vs {mean(lo, 'trust'):.4f}: "
            f"{np.mean(diffs):+.4f} ({', '.join(f'{d:+.4f}' for d in diffs)}); "
            f"consent rate {mean(hi, 'consent_rate'):.3f} vs {mean(lo, 'consent_rate'):.3f}; "
            f"subscribers {mean(hi, 'subscribers'):,.0f} vs {mean(lo, 'subscribers'):,.0f} "
            f"({100 * mean(hi, 'subscribers') / a.consumers:.0f}% vs "
            f"{100 * mean(lo, 'subscribers') / a.consumers:.0f}% of consumers); "
            f"covert discoveries a day {mean(hi, 'covert_per_day'):.2f} vs "
            f"{mean(lo, 'covert_per_day'):.2f}; t/(r+s+W) over subscribers "
            f"{mean(hi, 'slope_subscribers'):.3f} vs {mean(lo, 'slope_subscribers'):.3f}, over all "
            f"{mean(hi, 'slope_all'):.3f} vs {mean(lo, 'slope_all'):.3f}"
        )
    d = {
        label: float(
            np.mean(
                [
                    h["trust"] - o["trust"]
                    for h, o in zip(out[label, 0.9], out[label, 0.0], strict=True)
                ]
            )
        )
        for label in settings
    }
    print(
        f"part of the difference due to covert surprises (defaults - covert_evidence 0): "
        f"{d['defaults'] - d['covert_evidence 0']:+.4f}"
    )
    return out


if __name__ == "__main__":
    main()
