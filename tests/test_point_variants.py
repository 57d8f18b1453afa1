"""calibration/union/ and calibration/seventh-estimate/ hold scenario files that are not bundled
scenarios: bundled scenarios at a parameter point, or at parts of it (docs/CALIBRATION.md, "Would
the union point change the verdicts?" and "Would the seventh fit's estimate change the
verdicts?"). Each must load, and differ from the bundled scenario it extends only in its name and
the values its prefix names, so the documented comparisons stay the ones run. The union point's
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


def test_the_estimate_has_its_eleven_parameters():
    assert len(ESTIMATE) == 11


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
    base = _flat(load_scenario(ROOT / "scenarios" / f"{bundled}.toml"))
    changed = {k: v for k, v in variant.items() if v != base[k]}
    assert changed == {"name": path.stem} | parts[prefix]
