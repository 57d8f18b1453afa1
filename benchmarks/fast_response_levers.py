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

    python benchmarks/fast_response_levers.py --parts [GROUP ...]

instead compares `breach_fast_response` with `breach_data_maximalist` (Aurora, fast minus late) at
the defaults and with groups of the eleven parameters the seventh fit moved (defaults: none,
covert: covert_evidence, breach: the three breach parameters, need: need_rate, churn: churn_rate and
churn_threshold, journey: the six journey and population parameters, all) put back, on both
sides, to their values before it (calibration/sixth-defaults/baseline.toml): which change makes
the fast response lose revenue. Prints revenue (the year, days 0-149 and days 150-364: before and
after the late notice lands on day 150), margin and net value. GROUP: one or more of the group
names (default: all).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sim  # noqa: E402
from sim.analysis.stats import t_interval  # noqa: E402
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


# the defaults before the seventh fit
SIXTH = ROOT / "calibration" / "sixth-defaults" / "baseline.toml"
PARTS = {
    "defaults": (),
    "covert": ("trust.covert_evidence",),
    "breach": (  # the three breach parameters
        "trust.covert_evidence",
        "incidents.disclosure_evidence",
        "incidents.fraud_probability",
    ),
    "need": ("population.need_rate",),
    "churn": ("trust.churn_rate", "trust.churn_threshold"),
    "journey": (  # journey and population
        "journey.research_days",
        "journey.store_touch",
        "journey.touch_share",
        "population.digital_affinity",
        "population.affinity_concentration",
        "population.need_rate",
    ),
    "all": None,  # all eleven
}


def sixth_values() -> dict:
    """The eleven parameters at their values before the seventh fit, as dotted paths (the file
    also pins the lever costs of then, which are not among them)."""
    from sim.scenario.paramdoc import fitted_paths

    t = tomllib.loads(SIXTH.read_text())
    pinned = {
        f"{s}.{k}": v for s, tab in t.items() if isinstance(tab, dict) for k, v in tab.items()
    }
    return {k: v for k, v in pinned.items() if k in fitted_paths()}


def ci(x) -> str:
    mean, _, _, h = t_interval(np.asarray(x, float) / 1000)
    return f"{mean:+.1f}k ({mean - h:.1f}k to {mean + h:.1f}k)"


def parts(a, groups) -> dict:
    old = sixth_values()
    late, fast = load_scenario("breach_data_maximalist"), load_scenario("breach_fast_response")
    seed = late.simulation.seed
    print(
        f"breach_fast_response - breach_data_maximalist, Aurora, {a.consumers:,} consumers x "
        f"{late.simulation.days} days x {a.replications} replications (seed {seed}); EUR, 95% paired "
        "t; both sides with these parameters at their values before the seventh fit:"
    )
    out = {}
    for g in groups:
        o = {p: old[p] for p in (PARTS[g] if PARTS[g] is not None else old)}
        wall, load = time.perf_counter(), os.getloadavg()[0]
        with tempfile.TemporaryDirectory() as tmp:
            compare(
                [
                    apply_overrides(late, {"name": "late", **o}),
                    apply_overrides(fast, {"name": "fast", **o}),
                ],
                a,
                out=tmp,
            )
            per = {}
            for s in ("late", "fast"):
                d = pd.concat(
                    pd.read_parquet(f)
                    for f in sorted(Path(tmp, "runs", s).glob(f"s{seed}-*.parquet"))
                )
                d = d[(d["brand"] == "Aurora") & (d["channel"] == "all")]
                per[s] = {
                    (m, lo, hi): d[(d["metric"] == m) & (d["day"] >= lo) & (d["day"] <= hi)]
                    .groupby("replication")["value"]
                    .sum()
                    for m in ("revenue", "margin", "net_value")
                    for lo, hi in ((0, 364), (0, 149), (150, 364))
                }
        diff = {key: per["fast"][key] - per["late"][key] for key in per["fast"]}
        out[g] = {f"{m} {lo}-{hi}": float(v.mean()) for (m, lo, hi), v in diff.items()}
        print(
            f"  {g}: revenue {ci(diff['revenue', 0, 364])} (days 0-149 {ci(diff['revenue', 0, 149])}, "
            f"150-364 {ci(diff['revenue', 150, 364])}); margin {ci(diff['margin', 0, 364])}; net value "
            f"{ci(diff['net_value', 0, 364])}  [{time.perf_counter() - wall:.0f} s, load {load:.1f}]",
            flush=True,
        )
    return out


def k(v: float) -> str:
    return f"{v / 1000:+.1f}k"


def compare(scenarios, a, **kwargs):
    """A paired comparison at the script's sizes, without charts or bootstrap."""
    return sim.compare(
        scenarios,
        replications=a.replications,
        consumers=a.consumers,
        workers=a.workers,
        bootstrap=0,
        independent=False,
        charts=False,
        progress=False,
        **kwargs,
    )


def run(scenarios, a):
    return compare(scenarios, a).differences


def row(d, scenario, brand, metric):
    r = d[(d["scenario"] == scenario) & (d["brand"] == brand) & (d["metric"] == metric)]
    return r.iloc[0]


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--consumers", type=int, default=3000)
    p.add_argument("--replications", type=int, default=4)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument(
        "--parts",
        nargs="*",
        choices=list(PARTS),
        metavar="GROUP",
        default=None,
        help="compare fast and late with groups of parameters at the sixth fit's values: "
        + "; ".join(PARTS),
    )
    a = p.parse_args(argv)
    if a.parts is not None:
        return parts(a, a.parts or list(PARTS))
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
