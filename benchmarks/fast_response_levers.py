"""The fast breach response taken apart: its two levers separately, and the rules that make an early
notice cost margin switched off (docs/EXPERIMENTS.md, "Why the fast breach response ranks low").

    python benchmarks/fast_response_levers.py       # 3,000 consumers, 4 replications (~1 min)

`sim.compare` (common random numbers, the scenarios' seed and horizon, as `omnitrust compare
scenarios/breach_data_maximalist.toml scenarios/breach_fast_response.toml --consumers 3000
--replications 4`) of `breach_data_maximalist` (Aurora breached on day 120, notice after 30 days,
no compensation) against three variants of Aurora's policy: credit monitoring with the late
notice, a notice in 3 days without compensation, and both (`breach_fast_response`). Then the
3-day notice without compensation against the late one with, on both sides, (a)
``incidents.attribution_unnotified`` = 0.8 (victims not yet told blame Aurora as often as told
ones) and (b) ``incidents.media_leak_rate`` = 0 and ``incidents.late_notice_penalty`` = 0.
Prints Aurora's paired differences (EUR over the horizon; 95% paired t interval): net value,
margin, breach costs (notification, compensation, detection, card reissue, fines) and marketing
costs; and, for both levers together, the rivals' net value and the market's revenue.
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
from sim.scenario.loading import apply_overrides, load_scenario  # noqa: E402

AURORA = "brands.Aurora.policy."
LEVERS = {
    "late notice + credit monitoring": {AURORA + "compensation": "credit_monitoring"},
    "notice in 3 days, no compensation": {AURORA + "notify_within_days": 3},
    "notice in 3 days + credit monitoring": {
        AURORA + "notify_within_days": 3,
        AURORA + "compensation": "credit_monitoring",
    },
}
SWITCHES = {
    "attribution_unnotified = 0.8": {"incidents.attribution_unnotified": 0.8},
    "media_leak_rate = 0, late_notice_penalty = 0": {
        "incidents.media_leak_rate": 0.0,
        "incidents.late_notice_penalty": 0.0,
    },
}


def k(v: float) -> str:
    return f"{v / 1000:+.1f}k"


def run(scenarios, a):
    return sim.compare(
        scenarios,
        replications=a.replications,
        consumers=a.consumers,
        workers=a.workers,
        bootstrap=0,
        independent=False,
        charts=False,
        progress=False,
    ).differences


def row(d, scenario, brand, metric):
    r = d[(d["scenario"] == scenario) & (d["brand"] == brand) & (d["metric"] == metric)]
    return r.iloc[0]


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--consumers", type=int, default=3000)
    p.add_argument("--replications", type=int, default=4)
    p.add_argument("--workers", type=int, default=1)
    a = p.parse_args(argv)
    late = load_scenario("breach_data_maximalist")
    wall, load = time.perf_counter(), os.getloadavg()[0]
    variants = [
        apply_overrides(late, {"name": f"v{i}", **o}) for i, o in enumerate(LEVERS.values())
    ]
    d = run([late, *variants], a)
    print(
        f"breach_data_maximalist (late notice, no compensation) vs variants: {a.consumers:,} "
        f"consumers x {late.simulation.days} days x {a.replications} replications (seed "
        f"{late.simulation.seed})"
    )
    print("Aurora vs late notice without compensation (EUR over the horizon; 95% paired t):")
    out = {}
    for i, label in enumerate(LEVERS):
        n, m, bc, mk = (
            row(d, f"v{i}", "Aurora", x)
            for x in ("net_value", "margin", "breach_cost", "marketing_cost")
        )
        out[label] = {
            "net": n["diff"],
            "margin": m["diff"],
            "breach": bc["diff"],
            "mkt": mk["diff"],
        }
        print(
            f"  {label:38s} net value {k(n['diff'])} ({k(n['ci_low'])} to {k(n['ci_high'])}), "
            f"margin {k(m['diff'])}, breach costs {k(-bc['diff'])}, marketing {k(-mk['diff'])}"
        )
    both = f"v{len(LEVERS) - 1}"
    rev = row(d, both, "all", "revenue")
    print(
        f"  rivals, both levers: Borealis net value {k(row(d, both, 'Borealis', 'net_value')['diff'])},"
        f" Cirrus {k(row(d, both, 'Cirrus', 'net_value')['diff'])}; market revenue "
        f"{k(rev['diff'])} ({k(rev['ci_low'])} to {k(rev['ci_high'])})"
    )
    print("notice in 3 days, no compensation, vs late, with on both sides:")
    fast = LEVERS["notice in 3 days, no compensation"]
    for label, o in SWITCHES.items():
        pair = [apply_overrides(late, {"name": "late", **o}),
                apply_overrides(late, {"name": "fast", **o, **fast})]  # fmt: skip
        n = row(run(pair, a), "fast", "Aurora", "net_value")
        out[label] = float(n["diff"])
        print(f"  {label:44s} net value {k(n['diff'])} ({k(n['ci_low'])} to {k(n['ci_high'])})")
    print(f"({time.perf_counter() - wall:.0f} s, load {load:.1f})")
    return out


if __name__ == "__main__":
    main()
