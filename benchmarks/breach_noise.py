"""Monte Carlo noise of the breach figures: one brand's breach against the brands' breaches pooled.

    python benchmarks/breach_noise.py --consumers 3000 --replications 8

For each replication k (seed ``replication_seed(seed, k)``, as `omnitrust calibrate` uses), spins
the warm-up of the calibration file's scenario up once, branches one breach run per brand from it
(`sim.analysis.evidence.breach_figures`), and reports each breach figure's mean and standard
deviation across the replications, for each brand's breach alone (what `omnitrust evidence --brand
NAME` measures; the first brand's is what the evidence and the calibration measured before the
figures were pooled) and pooled over the brands (what they measure now), with the notified
customers counted per replication. Prints one JSON object with the load average and the process
CPU time (the machine is shared: quote them).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.analysis import evidence  # noqa: E402
from sim.calibration.spec import load_calibration  # noqa: E402
from sim.core.streams import replication_seed  # noqa: E402
from sim.model import TrustModel  # noqa: E402

FIGURES = ("breach_abnormal_churn", "breach_stopped_dealing", "fraud_after_notice")


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--file", type=Path, default=ROOT / "calibration" / "baseline.toml")
    p.add_argument("--consumers", type=int, default=3000)
    p.add_argument("--replications", type=int, default=8)
    p.add_argument("--threads", type=int, default=1, help="threads per run")
    a = p.parse_args(argv)
    os.environ["OMNITRUST_THREADS"] = str(a.threads)
    scenario = load_calibration(a.file).scenario.with_overrides(consumers=a.consumers)
    names = [b.name for b in scenario.brands]
    load_before = os.getloadavg()
    wall, cpu = time.perf_counter(), time.process_time()
    per: dict[str, list[dict]] = {n: [] for n in [*names, "pooled"]}
    notified: dict[str, list[int]] = {n: [] for n in [*names, "pooled"]}
    for k in range(a.replications):
        rs = replication_seed(scenario.simulation.seed, k)
        _, warm = evidence.start(scenario, rs, k)
        quiet = evidence.churned_at_end(  # the same market without the breach
            TrustModel(evidence.follow_up_scenario(scenario), seed=rs, warm_start=warm)
        )
        counts = [
            evidence.breach_counts(
                TrustModel(evidence.breach_scenario(scenario, name), seed=rs, warm_start=warm),
                b,
                quiet,
            )
            for b, name in enumerate(names)
        ]
        for name, c in zip(names, counts, strict=True):
            per[name].append(evidence.pool([c]))
            notified[name].append(c["notified_customers"])
        per["pooled"].append(evidence.pool(counts))
        notified["pooled"].append(sum(c["notified_customers"] for c in counts))
    out = {
        "file": str(a.file.relative_to(ROOT)) if a.file.is_relative_to(ROOT) else str(a.file),
        "consumers": a.consumers,
        "replications": a.replications,
        "wall_s": round(time.perf_counter() - wall, 1),
        "cpu_s": round(time.process_time() - cpu, 1),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "breaches": {},
    }
    for name, rows in per.items():
        entry = {"notified_customers_per_replication": float(np.mean(notified[name]))}
        for fig in FIGURES:
            v = np.array([r[fig] for r in rows], dtype=float)
            entry[fig] = {
                "mean": round(float(np.mean(v)), 5),
                "sd": round(float(np.std(v, ddof=1)), 5) if len(v) > 1 else None,
                "values": [round(float(x), 5) for x in v],
            }
        out["breaches"][name] = entry
    print(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
