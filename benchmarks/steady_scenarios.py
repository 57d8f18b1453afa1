"""Every bundled scenario runs steadily until something happens (issue 9, "Done when").

    python benchmarks/steady_scenarios.py                       # 5,000 consumers, 5 replications
    python benchmarks/steady_scenarios.py --warmup 1825         # the same with another warm-up
    python benchmarks/steady_scenarios.py scenarios/privacy_first.toml --consumers 3000

For each scenario (default: every file in scenarios/), the market as it runs until something is
scheduled to happen (`sim.analysis.stationarity.quiet_before`: the policies before any change,
no scheduled events, no stochastic breaches - those are things happening) is run with the
scenario's own warm-up, over its steady days (`steady_days`: up to its first event or policy
change, else its horizon). Per brand and key stock the mean of the first 30 of those days is
compared with the mean of the last 30 (means over replications, the measure of `omnitrust run`'s
trend warning) against the quiet-market tolerances: 3% for trust and consent rate, 5% for
subscribers and active customers. Scenarios whose steady market is the same (same warm-up, same
policies before the change) are run once, for the longest of their steady spans. Exit code 1 when
a tolerance is exceeded.

The changes of a 30-day mean over a year are partly noise: a brand's subscriber list is a stock of
a few hundred to a few thousand consumers at these sizes, and its fluctuations last as long as its
turnover (years). ``--noise`` also prints, per scenario, the standard deviation of the change
across replications divided by sqrt(R): the noise level of the mean change.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.analysis.stationarity import (  # noqa: E402
    KEY_STOCKS,
    TOLERANCE,
    WINDOW_DAYS,
    quiet_before,
    relative_change,
    steady_days,
)
from sim.loading import load_scenario  # noqa: E402
from sim.runner import daily_stocks  # noqa: E402

SHORT = {"trust": "trust", "consent_rate": "consent", "subscribers": "subscr", "active_customers":
         "active"}  # fmt: skip


def group_key(quiet) -> str:
    """What the steady market depends on: the quiet scenario without name, text and horizon."""
    data = quiet.model_dump(mode="json")
    for key in ("name", "description"):
        data.pop(key, None)
    data["simulation"].pop("days", None)
    return json.dumps(data, sort_keys=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("scenarios", nargs="*", type=Path, help="scenario files (default: all bundled)")
    p.add_argument("--consumers", type=int, default=5000)
    p.add_argument("--replications", type=int, default=5)
    p.add_argument("--seed", type=int, default=None, help="base seed (default: the scenario's)")
    p.add_argument("--warmup", type=int, default=None, help="override simulation.warmup_days")
    p.add_argument("--noise", action="store_true", help="also print the noise of the changes")
    args = p.parse_args(argv)
    paths = args.scenarios or sorted((ROOT / "scenarios").glob("*.toml"))
    scenarios = [load_scenario(path, consumers=args.consumers) for path in paths]

    groups: dict[str, list] = {}  # key -> [(scenario, steady days)]
    for sc in scenarios:
        stop = steady_days(sc)
        if stop < 3 * WINDOW_DAYS:
            print(f"{sc.name}: only {stop} steady days (< {3 * WINDOW_DAYS}), not checked")
            continue
        groups.setdefault(group_key(quiet_before(sc, warmup=args.warmup)), []).append((sc, stop))

    started = time.perf_counter()
    warmups = set()
    lines, ok, worst = [], True, {}
    for members in groups.values():
        longest = max(stop for _, stop in members)
        quiet = quiet_before(members[0][0], days=longest, warmup=args.warmup)
        warmups.add(quiet.simulation.warmup_days)
        data, names = daily_stocks(quiet, args.replications, seed=args.seed)
        for sc, stop in members:
            for b, brand in enumerate(quiet.brands):
                cells = []
                for metric in KEY_STOCKS:
                    j = names.index(metric)
                    early = data[:, :WINDOW_DAYS, b, j].mean(axis=1)
                    late = data[:, stop - WINDOW_DAYS : stop, b, j].mean(axis=1)
                    change = float(relative_change(early.mean(), late.mean()))
                    per_rep = relative_change(early, late)
                    noise = float(per_rep.std(ddof=1) / np.sqrt(len(per_rep))) if (
                        len(per_rep) > 1) else float("nan")  # fmt: skip
                    hit = abs(change) < TOLERANCE[metric]
                    ok &= hit
                    key = (sc.name, metric)
                    worst[key] = max(worst.get(key, 0.0), abs(change))
                    cells.append(
                        f"{SHORT[metric]} {change:+6.1%}{'' if hit else '!'}"
                        + (f" ±{noise:4.1%}" if args.noise else "")
                    )
                lines.append(
                    f"{sc.name:28s} {stop:4d} {quiet.simulation.warmup_days:5d} {brand.name:9s} "
                    + "  ".join(cells)
                )
    print(
        f"steady market until something happens: {len(scenarios)} scenarios "
        f"({len(groups)} distinct markets), {args.consumers} consumers, {args.replications} "
        f"replications, attack_pressure 0, warm-up {'/'.join(map(str, sorted(warmups)))} days "
        f"({time.perf_counter() - started:.0f} s)"
    )
    print(
        f"change of the mean of the last {WINDOW_DAYS} steady days against the first "
        f"{WINDOW_DAYS} ('!' = beyond the tolerance: trust, consent 3%; subscribers, active 5%)"
    )
    print(f"{'scenario':28s} {'days':>4s} {'warm':>5s} {'brand':9s} changes")
    print("\n".join(lines))
    print("largest |change| per scenario (trust, consent, subscribers, active):")
    for sc in dict.fromkeys(name for name, _ in worst):
        print(f"  {sc:28s} " + " ".join(f"{worst[(sc, m)]:6.1%}" for m in KEY_STOCKS))
    print("all steady" if ok else "SOME SCENARIOS MOVE BEYOND THE TOLERANCES")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
