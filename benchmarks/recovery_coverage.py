"""Recovery coverage of the calibration method: do its 95% intervals cover known parameter values?

    python benchmarks/recovery_coverage.py                        # 6 seeds at the small size below
    python benchmarks/recovery_coverage.py --seeds 1 2 3 --consumers 1000 --trials 12

For each seed S, ``omnitrust calibrate FILE --recover --seed S`` (here: `sim.calibration.calibrate`
with ``recover=True``) draws a "true" parameter set from the file's prior, makes pseudo-data by
running the model there with independent random numbers, calibrates against it and says whether
each parameter's 95% interval covers the truth (``recovery.csv``). This script repeats that over
several seeds and reports the share of (seed, parameter) intervals that cover the truth, per
parameter and overall, with the mean interval width as a share of the prior range (an interval as
wide as the prior covers trivially: the width says how much the data taught).

The sizes are small (a demonstration of the method's coverage, not of the full-size fit): the
file's parameters, targets and priors, with ``--consumers``, ``--replications``, ``--trials`` and
the posterior's ``--population`` and ``--generations`` overriding the file's. Every seed's run is
kept under ``--out`` (``seed-S/``) and resumes when the script is run again; the summary is
written to ``--out``/coverage.csv and printed. A well-calibrated method covers about 95%.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.calibration.fit import calibrate  # noqa: E402


def small_file(source: Path, population: int, generations: int, folder: Path) -> Path:
    """A copy of the calibration file ``source`` with a smaller posterior and no confirmation
    step (same folder-relative scenario: the copy names the scenario by its absolute path)."""
    text = source.read_text()
    scenario = re.search(r'^scenario\s*=\s*"([^"]+)"', text, re.MULTILINE)
    if scenario is None:
        raise SystemExit(f"{source}: no scenario line")
    absolute = (source.parent / scenario.group(1)).resolve()
    text = text.replace(scenario.group(0), f'scenario = "{absolute}"', 1)
    text = re.sub(r"^population\s*=\s*\d+", f"population = {population}", text, flags=re.M)
    text = re.sub(r"^generations\s*=\s*\d+", f"generations = {generations}", text, flags=re.M)
    # the estimate plays no part in coverage: no confirmation (docs/CALIBRATION.md, Method 3)
    if re.search(r"^\[confirm\]", text, flags=re.M):
        text = re.sub(r"^top\s*=\s*\d+", "top = 0", text, flags=re.M)
    else:
        text += "\n[confirm]\ntop = 0\n"
    path = folder / source.name
    path.write_text(text)
    return path


def coverage(tables: dict[int, pd.DataFrame], priors: pd.DataFrame) -> pd.DataFrame:
    """Per parameter and overall: intervals, how many cover the truth, the share, and the mean
    interval width over the prior range."""
    rows = []
    every = pd.concat([t.assign(seed=s) for s, t in tables.items()], ignore_index=True)
    every = every.merge(priors, on="parameter")
    every["width"] = (every["high"] - every["low"]) / (every["prior_high"] - every["prior_low"])
    for name, group in [*every.groupby("parameter", sort=False), ("all", every)]:
        rows.append(
            {
                "parameter": name,
                "intervals": len(group),
                "covered": int(group["covered"].sum()),
                "coverage": float(group["covered"].mean()),
                "mean_width_of_prior": float(group["width"].mean()),
            }
        )
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--file", type=Path, default=ROOT / "calibration" / "baseline.toml")
    p.add_argument("--out", type=Path, default=ROOT / "results" / "recovery-coverage")
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5, 6])
    p.add_argument("--consumers", type=int, default=500)
    p.add_argument("--replications", type=int, default=1)
    p.add_argument("--trials", type=int, default=8)
    p.add_argument("--population", type=int, default=8)
    p.add_argument("--generations", type=int, default=2)
    p.add_argument("--workers", type=int, default=1)
    args = p.parse_args(argv)
    started = time.perf_counter()
    tables: dict[int, pd.DataFrame] = {}
    priors = None
    with tempfile.TemporaryDirectory() as tmp:
        file = small_file(args.file, args.population, args.generations, Path(tmp))
        for seed in args.seeds:
            t0 = time.perf_counter()
            result = calibrate(
                file,
                args.out / f"seed-{seed}",
                trials=args.trials,
                workers=args.workers,
                seed=seed,
                consumers=args.consumers,
                replications=args.replications,
                recover=True,
                progress=False,
            )
            tables[seed] = result.recovery
            priors = result.parameters[["parameter", "prior_low", "prior_high"]]
            hit = int(result.recovery["covered"].sum())
            print(
                f"seed {seed}: {hit} of {len(result.recovery)} intervals cover the truth "
                f"(final ABC tolerance {result.manifest['abc']['final_epsilon']:.3g}, "
                f"{time.perf_counter() - t0:.0f} s)",
                flush=True,
            )
    table = coverage(tables, priors)
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "coverage.csv", index=False)
    every = pd.concat([t.assign(seed=s) for s, t in tables.items()], ignore_index=True)
    every.to_csv(args.out / "recovery.csv", index=False)
    print(
        f"\nrecovery coverage: {len(args.seeds)} seeds, {args.consumers} consumers, "
        f"{args.replications} replication(s), {args.trials} trials, posterior "
        f"{args.population} x {args.generations} ({time.perf_counter() - started:.0f} s)"
    )
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
