"""A quiet market must stand still (issue 9, part 1): measure the second-year drift.

    python benchmarks/quiet_market.py                 # 8,000 consumers, 730 days, 3 replications
    python benchmarks/quiet_market.py --mser          # also the MSER-5 warm-up diagnostic

The baseline (scenarios/baseline.toml) with ``world.attack_pressure = 0`` and no events: nothing
happens, so nothing should move. Per brand and key stock (trust, consent rate, e-mail subscribers,
active customers) the script compares the mean of days 335-364 (last month of the first year) with
the mean of days 700-729 (last month of the second), averaged over replications, and checks the
targets: |change| < 3% for trust and consent rate, < 5% for subscribers and active customers, for
every brand. Exit code 1 when a target is missed.

A change is partly Monte Carlo noise (a small brand's subscriber list is a few hundred consumers
at 8,000), so each change is printed with its standard error (SE): the standard deviation of the
replications' own changes divided by sqrt(replications), which are independent. A target is
MISSED only when the change is beyond the tolerance by more than 2 SE (|change| - 2 SE >
tolerance), the rule of `omnitrust run`'s drift warning (`sim.analysis.stationarity`,
docs/ODD.md 5.1); a change beyond the tolerance but within 2 SE of it is flagged "within 2 SE":
noise cannot be ruled out, more consumers or replications tell. With one replication the SE is
unknown and the change is compared with the tolerance alone.

``--mser`` runs the same market from its artificial initial state with no warm-up for
``--mser-days`` days (default six years) and reports the
MSER-5 truncation point (`sim.stationarity.mser5`) of every brand's key stocks (means over
replications): the warm-up ``simulation.warmup_days`` should be at least the largest of them.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.analysis.stationarity import (  # noqa: E402
    KEY_STOCKS,
    TOLERANCE,
    mser5,
    mser5_bound,
    relative_change,
)
from sim.core.streams import replication_seed  # noqa: E402
from sim.loading import load_scenario  # noqa: E402
from sim.mechanisms.metrics import STOCKS  # noqa: E402
from sim.model import TrustModel  # noqa: E402

EARLY, LATE = 335, 700  # windows of 30 days: days 335-364 and 700-729


def quiet_scenario(path: Path, consumers: int, days: int, warmup: int | None = None):
    """``path`` with no attacks, no events, and the given size."""
    sc = load_scenario(path, consumers=consumers, days=days)
    data = sc.model_dump(mode="python")
    data["world"]["attack_pressure"] = 0.0
    data["events"] = []
    if warmup is not None:
        data["simulation"]["warmup_days"] = warmup
    return type(sc).model_validate(data)


def stocks(scenario, replications: int) -> np.ndarray:
    """Daily stocks (replications, days, brands, stocks) of ``scenario``."""
    out = []
    for k in range(replications):
        model = TrustModel(scenario, seed=replication_seed(scenario.simulation.seed, k))
        model.run()
        out.append(model.recorder.stocks[: model.recorder.days_recorded].copy())
    return np.array(out)


def change_se(early: np.ndarray, late: np.ndarray) -> float:
    """Standard error of the mean relative change over independent replications, from each
    replication's window means ``early`` and ``late``: SD (n - 1) of the n changes / sqrt(n);
    NaN (unknown) for one replication or when a change is not finite."""
    per_rep = relative_change(early, late)
    if per_rep.size < 2 or not np.all(np.isfinite(per_rep)):
        return float("nan")
    return float(per_rep.std(ddof=1) / np.sqrt(per_rep.size))


def missed(change: float, se: float, tolerance: float) -> bool:
    """Whether a target is missed: the change is beyond the tolerance by more than 2 SE
    (|change| - 2 SE > tolerance); with the SE unknown (NaN), beyond the tolerance at all."""
    margin = 2.0 * se if np.isfinite(se) else 0.0
    return bool(abs(change) - margin > tolerance)


LEGEND = [
    "change = of the means over replications; SE = its standard error across the independent",
    "replications ('unknown' with one). MISSED only when |change| - 2 SE > target (SE unknown:",
    "|change| > target); 'within 2 SE' = beyond the target, but not by 2 SE: could be noise",
]


def drift_table(scenario, data: np.ndarray) -> tuple[list[str], bool]:
    """Lines of the drift table and whether every target holds (none ``missed``)."""
    mean = data.mean(axis=0)  # over replications: (days, brands, stocks)
    lines = [f"{'brand':10s} {'metric':18s} {'days 335-364':>13s} {'days 700-729':>13s} "
             f"{'change':>8s} {'SE':>7s} {'target':>7s}"]  # fmt: skip
    ok = True
    for b, brand in enumerate(scenario.brands):
        for metric in KEY_STOCKS:
            j = STOCKS.index(metric)
            early = mean[EARLY : EARLY + 30, b, j].mean()
            late = mean[LATE : LATE + 30, b, j].mean()
            change = float(relative_change(early, late))
            se = change_se(
                data[:, EARLY : EARLY + 30, b, j].mean(axis=1),
                data[:, LATE : LATE + 30, b, j].mean(axis=1),
            )
            tolerance = TOLERANCE[metric]
            miss = missed(change, se, tolerance)
            ok &= not miss
            flag = "  MISSED" if miss else "  within 2 SE" if abs(change) > tolerance else ""
            se_text = format(se, ".2%") if np.isfinite(se) else "unknown"
            lines.append(
                f"{brand.name:10s} {metric:18s} {early:13.4f} {late:13.4f} {change:+8.2%} "
                f"{se_text:>7s} {'<' + format(tolerance, '.0%'):>6s}{flag}"
            )
    lines.extend(LEGEND)
    return lines, ok


def mser_table(scenario, data: np.ndarray) -> list[str]:
    mean = data.mean(axis=0)
    lines = [f"{'brand':10s} " + " ".join(f"{m:>17s}" for m in KEY_STOCKS)]
    worst = 0
    bound = mser5_bound(mean.shape[0])
    for b, brand in enumerate(scenario.brands):
        cells = []
        for metric in KEY_STOCKS:
            d = mser5(mean[:, b, STOCKS.index(metric)])
            worst = max(worst, d)
            cells.append(f"{str(d) + ('*' if d == bound else ''):>17}")
        lines.append(f"{brand.name:10s} " + " ".join(cells))
    lines.append(
        f"largest MSER-5 truncation point: {worst} days (* = at the bound {bound}: the series "
        "still moves at its middle)"
    )
    return lines


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "baseline.toml")
    p.add_argument("--consumers", type=int, default=8000)
    p.add_argument("--days", type=int, default=730)
    p.add_argument("--replications", type=int, default=3)
    p.add_argument("--warmup", type=int, default=None, help="override simulation.warmup_days")
    p.add_argument("--mser", action="store_true", help="also run the MSER-5 warm-up diagnostic")
    p.add_argument(
        "--mser-days", type=int, default=2190, help="length of the cold run for MSER-5 (days)"
    )
    args = p.parse_args(argv)
    if args.days < LATE + 30:
        p.error(f"--days must be at least {LATE + 30}")
    sc = quiet_scenario(args.scenario, args.consumers, args.days, args.warmup)
    started = time.perf_counter()
    data = stocks(sc, args.replications)
    print(
        f"quiet market: {args.scenario.name}, attack_pressure 0, no events, {args.consumers} "
        f"consumers, {args.days} days after a warm-up of {sc.simulation.warmup_days} days, "
        f"{args.replications} replications ({time.perf_counter() - started:.0f} s)"
    )
    lines, ok = drift_table(sc, data)
    print("\n".join(lines))
    print("all targets met" if ok else "TARGETS MISSED")
    if args.mser:
        cold = quiet_scenario(args.scenario, args.consumers, args.mser_days, warmup=0)
        print(f"\nMSER-5 truncation points (days from the artificial start, no warm-up, "
              f"{args.mser_days} days, means over {args.replications} replications):")  # fmt: skip
        print("\n".join(mser_table(cold, stocks(cold, args.replications))))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
