"""calibration/union/ and calibration/seventh-estimate/ hold scenario files that are not bundled
scenarios: bundled scenarios at a parameter point, or at parts of it (docs/CALIBRATION.md, "Would
the union point change the verdicts?" and "Would the seventh fit's estimate change the
verdicts?"). Each must load, and differ from the bundled scenario it extends, at the defaults the
checks ran on (the sixth fit's, calibration/sixth-defaults/baseline.toml: the files pin them, so
a change of defaults does not change the checks), only in its name and the values its prefix
names, so the documented comparisons stay the ones run. The union point's
values are written here, from the section's J and S lines and the churn values it states; the
seventh fit's are read from the `E=` line of "The seventh fit", so the files and the documented
estimate cannot drift apart."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from sim.scenario.loading import load_scenario

ROOT = Path(__file__).resolve().parents[1]

JOURNEY = {
    "journey.research_days": 2.78,
    "journey.store_touch": 0.979,
    "population.digital_affinity": 0.428,
    "population.affinity_concentration": 0.510,
    "population.need_rate": 0.0585,
}
SHOCKS = {"incidents.disclosure_evidence": 0.06619, "trust.covert_evidence": 0.8451}
CHURN = {"trust.churn_threshold": 0.31, "trust.churn_rate": 0.1}


def _estimate() -> dict[str, float]:
    """The first `E=` line of the subsection "### The seventh fit"."""
    text = (ROOT / "docs" / "CALIBRATION.md").read_text()
    section = text.split("\n### The seventh fit\n", 1)[1].split("\n## ", 1)[0]
    lines = re.findall(r"^E=(\S+)$", section, re.MULTILINE)
    assert lines, 'no E= line in "### The seventh fit"'
    pairs = dict(item.split("=") for item in lines[0].split(","))
    return {key: float(value) for key, value in pairs.items()}


ESTIMATE = _estimate()
FOLDERS = {
    "union": {
        "union": JOURNEY | SHOCKS | CHURN,
        "without_churn": JOURNEY | SHOCKS,
        "churn_only": CHURN,
        "shocks_only": SHOCKS,
        "journey_only": JOURNEY,
    },
    "seventh-estimate": {
        "seventh": ESTIMATE,
        "covert_only": {"trust.covert_evidence": ESTIMATE["trust.covert_evidence"]},
        "disclosure_only": {
            "incidents.disclosure_evidence": ESTIMATE["incidents.disclosure_evidence"]
        },
    },
}
FILES = [
    (folder, path)
    for folder in FOLDERS
    for path in sorted((ROOT / "calibration" / folder).glob("*.toml"))
]


def _flat(scenario) -> dict:
    out = {}
    for section, value in scenario.model_dump().items():
        if isinstance(value, dict):
            out |= {f"{section}.{k}": v for k, v in value.items()}
        else:
            out[section] = value
    return out


def _pinned() -> dict[str, float]:
    """The values of calibration/sixth-defaults/baseline.toml, flat."""
    table = tomllib.loads((ROOT / "calibration" / "sixth-defaults" / "baseline.toml").read_text())
    return {f"{s}.{k}": v for s, t in table.items() if isinstance(t, dict) for k, v in t.items()}


# the lever costs before they were doubled with the seventh fit's revenue (accounting only)
COSTS_BEFORE = {
    "incidents.security_budget_per_consumer_year": 10.0,
    "costs.personalization_cost_per_consumer_year": 8.0,
    "costs.integration_cost_per_consumer_year": 8.0,
    "costs.transparency_cost_per_consumer_year": 1.0,
}


def test_the_estimate_has_its_eleven_parameters():
    assert len(ESTIMATE) == 11
    assert set(_pinned()) == set(ESTIMATE) | set(COSTS_BEFORE)


def test_the_sixth_defaults_are_the_sixth_fits_estimate_and_the_values_before_the_seventh():
    """calibration/sixth-defaults/baseline.toml: the sixth fit's estimate (its committed
    parameters.csv, to three significant digits, as the defaults then had it) and, for the five
    levers only the seventh fit frees, the values they had until then (main 7f72d59: need for
    touch off, one journey a month, a customer below the threshold leaving after 50 days), and
    the lever costs before they were doubled with the seventh fit's revenue."""
    import csv

    rows = csv.DictReader((ROOT / "docs" / "calibration-sixth" / "parameters.csv").open())
    sixth = {r["parameter"]: float(f"{float(r['estimate']):.3g}") for r in rows}
    assert len(sixth) == 6
    before = {
        "journey.store_touch": 0.0,
        "journey.touch_share": 1.0,
        "population.need_rate": 0.033,
        "trust.churn_threshold": 0.3,
        "trust.churn_rate": 0.02,
    }
    assert _pinned() == sixth | before | COSTS_BEFORE
    scenario = load_scenario(ROOT / "calibration" / "sixth-defaults" / "baseline.toml")
    assert scenario.name == "sixth_defaults_baseline"


def test_the_folders_hold_the_documented_comparisons():
    policies = ["baseline", "privacy_first", "data_maximalist", "transparent_personalization"]
    breaches = ["breach_data_maximalist", "breach_fast_response", "breach_candid_response"]
    for folder, prefix in (("union", "union"), ("seventh-estimate", "seventh")):
        stems = {p.stem for p in (ROOT / "calibration" / folder).glob("*.toml")}
        assert {f"{prefix}_{n}" for n in policies + breaches} <= stems, folder


@pytest.mark.parametrize(("folder", "path"), FILES, ids=lambda v: getattr(v, "stem", v))
def test_variant_is_its_bundled_scenario_with_the_named_values(folder, path):
    parts = FOLDERS[folder]
    prefix = next(p for p in sorted(parts, key=len, reverse=True) if path.stem.startswith(p + "_"))
    bundled = path.stem.removeprefix(prefix + "_")
    assert tomllib.loads(path.read_text())["extends"] == bundled
    variant = _flat(load_scenario(path))
    base = _flat(load_scenario(ROOT / "scenarios" / f"{bundled}.toml")) | _pinned()
    changed = {k: v for k, v in variant.items() if v != base[k]}
    assert changed == {"name": path.stem} | parts[prefix]
