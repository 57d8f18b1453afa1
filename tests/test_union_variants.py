"""calibration/union/ holds scenario files that are not bundled scenarios: bundled scenarios at
the joint fit's union point, or at parts of it (docs/CALIBRATION.md, "Would the union point
change the verdicts?"). Each must load, and differ from the bundled scenario it extends only in
its name and the parameters its prefix names, so the documented comparison stays the one run."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from sim.scenario.loading import load_scenario

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "calibration" / "union"

JOURNEY = {
    "journey.research_days": 2.78,
    "journey.store_touch": 0.979,
    "population.digital_affinity": 0.428,
    "population.affinity_concentration": 0.510,
    "population.need_rate": 0.0585,
}
SHOCKS = {"incidents.disclosure_evidence": 0.06619, "trust.covert_evidence": 0.8451}
CHURN = {"trust.churn_threshold": 0.31, "trust.churn_rate": 0.1}
PARTS = {
    "union": JOURNEY | SHOCKS | CHURN,
    "without_churn": JOURNEY | SHOCKS,
    "churn_only": CHURN,
    "shocks_only": SHOCKS,
    "journey_only": JOURNEY,
}


def _flat(scenario) -> dict:
    out = {}
    for section, value in scenario.model_dump().items():
        if isinstance(value, dict):
            out |= {f"{section}.{k}": v for k, v in value.items()}
        else:
            out[section] = value
    return out


@pytest.mark.parametrize("path", sorted(FOLDER.glob("*.toml")), ids=lambda p: p.stem)
def test_union_variant_is_its_bundled_scenario_with_the_named_parameters(path):
    prefix = next(p for p in sorted(PARTS, key=len, reverse=True) if path.stem.startswith(p + "_"))
    bundled = path.stem.removeprefix(prefix + "_")
    assert tomllib.loads(path.read_text())["extends"] == bundled
    variant = _flat(load_scenario(path))
    base = _flat(load_scenario(ROOT / "scenarios" / f"{bundled}.toml"))
    changed = {k: v for k, v in variant.items() if v != base[k]}
    assert changed == {"name": path.stem} | PARTS[prefix]
