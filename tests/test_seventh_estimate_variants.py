"""calibration/seventh-estimate/ holds scenario files that are not bundled scenarios: bundled
scenarios at the seventh fit's estimate, or with one of its breach shocks (docs/CALIBRATION.md,
"Would the seventh fit's estimate change the verdicts?"). Each must load, and differ from the
bundled scenario it extends only in its name and the values its prefix names. Those values are
read from the `E=` line of "The seventh fit" in docs/CALIBRATION.md, so the files and the
documented estimate cannot drift apart."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from sim.scenario.loading import load_scenario

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "calibration" / "seventh-estimate"


def _estimate() -> dict[str, float]:
    """The first `E=` line of the subsection "### The seventh fit"."""
    text = (ROOT / "docs" / "CALIBRATION.md").read_text()
    section = text.split("\n### The seventh fit\n", 1)[1].split("\n## ", 1)[0]
    lines = re.findall(r"^E=(\S+)$", section, re.MULTILINE)
    assert lines, 'no E= line in "### The seventh fit"'
    pairs = dict(item.split("=") for item in lines[0].split(","))
    return {key: float(value) for key, value in pairs.items()}


ESTIMATE = _estimate()
PARTS = {
    "seventh": ESTIMATE,
    "covert_only": {"trust.covert_evidence": ESTIMATE["trust.covert_evidence"]},
    "disclosure_only": {"incidents.disclosure_evidence": ESTIMATE["incidents.disclosure_evidence"]},
}


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


def test_the_folder_holds_the_documented_comparisons():
    stems = {p.stem for p in FOLDER.glob("*.toml")}
    policies = ["baseline", "privacy_first", "data_maximalist", "transparent_personalization"]
    breaches = ["breach_data_maximalist", "breach_fast_response", "breach_candid_response"]
    assert {f"seventh_{n}" for n in policies + breaches} <= stems


@pytest.mark.parametrize("path", sorted(FOLDER.glob("*.toml")), ids=lambda p: p.stem)
def test_variant_is_its_bundled_scenario_with_the_estimates_values(path):
    prefix = next(p for p in sorted(PARTS, key=len, reverse=True) if path.stem.startswith(p + "_"))
    bundled = path.stem.removeprefix(prefix + "_")
    assert tomllib.loads(path.read_text())["extends"] == bundled
    variant = _flat(load_scenario(path))
    base = _flat(load_scenario(ROOT / "scenarios" / f"{bundled}.toml"))
    changed = {k: v for k, v in variant.items() if v != base[k]}
    assert changed == {"name": path.stem} | PARTS[prefix]
