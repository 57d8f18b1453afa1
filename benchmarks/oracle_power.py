"""How large a rule change the engine/reference agreement test detects ("oracle power").

    python benchmarks/oracle_power.py [--seeds 24]
    python benchmarks/oracle_power.py --at journey.store_touch=0.7 --agreement-only

Runs the agreement test's comparison (tests/test_reference_agreement.py: same scenario, seeds,
tolerance) with one parameter changed in the reference only, as if the engine had that bug, and
prints which metrics then fail, each with its z, its mean paired difference d and the SE of d
(for a mutation no metric flags, the metric of largest |z|). A mutation no metric flags is below
the test's resolution. The first row is the comparison unmutated, the agreement test itself: it
must flag nothing, and its largest |z| says how close the test is to a false alarm.
``--at section.key=value`` (repeatable) moves the agreement scenario itself, for engine and
reference alike, e.g. to a rule the test's scenario leaves off (`journey.store_touch`, default 0);
``--agreement-only`` stops after the unmutated row; ``--mutate section.key=value`` runs that one
mutation instead of the list below.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.test_reference_agreement import (  # noqa: E402
    ABS_SLACK,
    REL_SLACK,
    SEEDS,
    Z,
    agreement_scenario,
)

# (label, section, key, new value as a function of the old)
MUTATIONS = (
    ("purchase_evidence x1.10", "trust", "purchase_evidence", lambda v: 1.10 * v),
    ("negative_weight x1.05", "trust", "negative_weight", lambda v: 1.05 * v),
    ("half_life_days x1.10", "trust", "half_life_days", lambda v: 1.10 * v),
    ("consent intercept +0.2 log-odds", "consent", "intercept", lambda v: v + 0.2),
    ("unsubscribe_per_email x1.25", "outreach", "unsubscribe_per_email", lambda v: 1.25 * v),
    ("disclosure_evidence x1.25", "incidents", "disclosure_evidence", lambda v: 1.25 * v),
    ("talk_rate x1.25", "trust", "talk_rate", lambda v: 1.25 * v),
)


def run_pair(args):
    engine_data, reference_data, seed = args
    from sim.model import TrustModel
    from sim.reference import ReferenceModel, engine_summary
    from sim.scenario import Scenario

    engine = TrustModel(Scenario.model_validate(engine_data), seed=seed)
    engine.run()
    reference = ReferenceModel(Scenario.model_validate(reference_data), seed=seed)
    reference.run()
    return engine_summary(engine), reference.summary()


def flagged(pairs):
    from sim.reference import summary_array

    keys, eng = summary_array([p[0] for p in pairs])
    _, ref = summary_array([p[1] for p in pairs])
    diff = eng - ref
    d = diff.mean(axis=0)
    se = diff.std(axis=0, ddof=1) / np.sqrt(len(pairs))
    scale = np.maximum(np.abs(eng.mean(axis=0)), np.abs(ref.mean(axis=0)))
    tol = Z * se + REL_SLACK * scale + ABS_SLACK * (scale >= 1.0) + 1e-9
    z = np.where(se > 0, d / np.where(se > 0, se, 1.0), 0.0)
    j = int(np.argmax(np.abs(z)))
    hits = [(k, z[i], d[i], se[i]) for i, k in enumerate(keys) if abs(d[i]) > tol[i]]
    return hits, (keys[j], z[j], d[j], se[j])


def shown(k, z, d, se) -> str:
    """A metric with its z, mean paired difference (engine - reference) and its SE."""
    return f"{k} (z={z:.1f}, d={d:.3g}, SE={se:.2g})"


def _setting(ap, flag: str, item: str, base: dict) -> tuple[str, str, float]:
    """``section.key=value`` of ``--at`` or ``--mutate``, checked against the scenario."""
    path, _, value = item.partition("=")
    section, _, key = path.partition(".")
    if section not in base or not isinstance(base[section], dict) or key not in base[section]:
        ap.error(f"{flag} {item}: no scenario parameter {path!r}")
    try:
        return section, key, float(value)
    except ValueError:
        ap.error(f"{flag} {item}: {value!r} is not a number")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=len(SEEDS), help="how many seeds")
    ap.add_argument("--first-seed", type=int, default=0, help="seeds FIRST .. FIRST + SEEDS - 1")
    ap.add_argument("--at", action="append", default=[], help="section.key=value, both sides")
    ap.add_argument("--agreement-only", action="store_true", help="the unmutated row only")
    ap.add_argument("--mutate", help="section.key=value in the reference only")
    args = ap.parse_args()
    base = agreement_scenario().model_dump(mode="json")
    for item in args.at:
        section, key, value = _setting(ap, "--at", item, base)
        base[section][key] = value
    mutations = MUTATIONS
    if args.mutate:
        section, key, value = _setting(ap, "--mutate", args.mutate, base)
        mutations = ((args.mutate, section, key, lambda v: value),)
    unmutated = "none (unmutated)" + (f" at {', '.join(args.at)}" if args.at else "")
    rows = ((unmutated, None, None, None), *([] if args.agreement_only else mutations))
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=ctx) as pool:
        for label, section, key, change in rows:
            mutated = (
                base
                if section is None
                else {**base, section: {**base[section], key: change(base[section][key])}}
            )
            pairs = list(
                pool.map(
                    run_pair,
                    [
                        (base, mutated, s)
                        for s in range(args.first_seed, args.first_seed + args.seeds)
                    ],
                )
            )
            hits, zmax = flagged(pairs)
            top = ", ".join(shown(*h) for h in sorted(hits, key=lambda h: -abs(h[1]))[:4])
            print(
                f"{label:34s} {'DETECTED' if hits else 'not detected':13s} "
                f"{len(hits):2d} metrics{': ' + top if hits else ''}"
                f"{'' if hits else f' (largest |z|: {shown(*zmax)})'}",
                flush=True,
            )


if __name__ == "__main__":
    main()
