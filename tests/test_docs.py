"""The docs match the code: every parameter documented, every submodel described, README true."""

from __future__ import annotations

import re

from pydantic import BaseModel

from sim.scenario import Brand, Policy, Scenario

from .conftest import ROOT


def _fields(model: type[BaseModel], prefix: str):
    for name, field in model.model_fields.items():
        yield f"{prefix}{name}", field


def test_every_parameter_is_in_parameters_md_with_its_default():
    text = (ROOT / "docs" / "PARAMETERS.md").read_text()
    missing = []
    for section in (
        "simulation",
        "world",
        "population",
        "journey",
        "trust",
        "consent",
        "outreach",
        "incidents",
        "costs",
    ):
        model = Scenario.model_fields[section].annotation
        for key, _field in _fields(model, ""):
            if not re.search(rf"\b{re.escape(key)}\b", text):
                missing.append(f"{section}.{key}")
    for key, _ in [*_fields(Policy, ""), *_fields(Brand, "")]:
        if key != "policy" and not re.search(rf"\b{re.escape(key)}\b", text):
            missing.append(f"brands.{key}")
    assert not missing, f"parameters missing from docs/PARAMETERS.md: {missing}"


def test_generated_parameter_tables_are_current():
    from sim.scenario.paramdoc import parameters_markdown

    text = (ROOT / "docs" / "PARAMETERS.md").read_text()
    begin, end = (
        "<!-- BEGIN GENERATED PARAMETER TABLES -->",
        "<!-- END GENERATED PARAMETER TABLES -->",
    )
    assert begin in text and end in text
    current = text.split(begin, 1)[1].split(end, 1)[0].strip()
    assert current == parameters_markdown().strip(), (
        "docs/PARAMETERS.md is out of date: run `omnitrust params --update docs/PARAMETERS.md`"
    )


def test_fitted_defaults_are_the_bundled_calibrations_parameters_and_say_so():
    import tomllib

    from sim.scenario.paramdoc import fitted_paths

    calibration = tomllib.loads((ROOT / "calibration" / "baseline.toml").read_text())
    paths = {p["path"] for p in calibration["parameters"]}
    assert paths and fitted_paths() == paths
    text = (ROOT / "docs" / "PARAMETERS.md").read_text()
    for path in paths:
        section, key = path.split(".")
        field = Scenario.model_fields[section].annotation.model_fields[key]
        source = field.json_schema_extra["source"]
        # the rationale names the command (with the --out it needs: without it `calibrate`
        # exits 2) and an interval; the table says "fitted" with the same command
        command = "omnitrust calibrate calibration/baseline.toml --out results/calibration-fit"
        assert command in source, path
        assert "95% interval" in source, path
        row = next(line for line in text.splitlines() if line.startswith(f"| `{key}` |"))
        if path in ("incidents.disclosure_evidence", "trust.covert_evidence"):  # the eighth fit
            command = "omnitrust calibrate calibration/breach.toml --out results/breach-fit"
            assert command in source, path
        assert f"| fitted (`{command} --workers 2`) |" in row, path


def test_odd_describes_every_submodel_and_equation():
    text = (ROOT / "docs" / "ODD.md").read_text()
    for section in ("7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "7.7", "7.8", "7.9", "7.10"):
        assert section in text, section
    for eq in (
        "J1",
        "J2",
        "J3",
        "J4",
        "C1",
        "C2",
        "C3",
        "C4",
        "O0",
        "O1",
        "O2",
        "O3",
        "W1",
        "T1",
        "T2",
        "L1",
        "L2",
        "L3",
        "L4",
        "I1",
        "I2",
        "I3",
        "I4",
        "I5",
        "I6",
        "I7",
    ):
        assert re.search(rf"\b{eq}\b", text), f"equation {eq} not in docs/ODD.md"


def test_the_committed_fit_loads_and_its_estimates_are_the_fitted_defaults(tmp_path):
    """docs/calibration/ holds the bundled fit's outputs (README and docs/CALIBRATION.md quote
    them): its ``calibrated.toml`` loads, copied to any folder, as the baseline with the
    estimates of ``manifest.json`` (named baseline_calibrated), which are those of
    ``parameters.csv``, and every fitted default of the schema is that estimate to four
    significant digits (as docs/CALIBRATION.md's `E=` line of "The seventh fit" prints it)."""
    import csv
    import json
    import shutil
    from functools import reduce

    from sim.experiments.posterior import with_parameters
    from sim.scenario.loading import load_scenario
    from sim.scenario.paramdoc import fitted_paths

    folder = ROOT / "docs" / "calibration"
    fitted = load_scenario(shutil.copy(folder / "calibrated.toml", tmp_path / "copy.toml"))
    default = load_scenario(ROOT / "scenarios" / "baseline.toml")  # sets none of the eleven
    estimates = json.loads((folder / "manifest.json").read_text())["estimate"]  # no integers
    # the fit ran before subscribers remembered their mail (round 24, docs/CALIBRATION.md, "The
    # e-mail rule after the seventh fit"): its file keeps the e-mail defaults it ran with
    ran_with = {
        "outreach.unsubscribe_per_email": 0.0024,
        "outreach.fatigue_exponent": 2.1,
        "outreach.relevant_unsubscribe_ratio": 0.6,
    }
    expected = with_parameters(default, estimates | ran_with).model_copy(
        update={"name": "baseline_calibrated"}
    )
    assert fitted.content_hash() == expected.content_hash()
    rows = list(csv.DictReader((folder / "parameters.csv").open()))
    assert {row["parameter"] for row in rows} == fitted_paths() and len(rows) == 11
    # the two breach shocks were fitted again after the TOLD fix (the eighth fit, below)
    eighth = {
        row["parameter"]: float(row["estimate"])
        for row in csv.DictReader((folder / "eighth" / "parameters.csv").open())
    }
    assert set(eighth) == {"incidents.disclosure_evidence", "trust.covert_evidence"}
    for row in rows:
        path, estimate = row["parameter"], float(row["estimate"])
        assert reduce(getattr, path.split("."), fitted) == estimate == estimates[path], path
        now = eighth.get(path, estimate)
        assert reduce(getattr, path.split("."), default) == float(f"{now:.4g}"), path


def test_the_eighth_fit_is_the_bundled_defaults_with_its_two_estimates(tmp_path):
    """docs/calibration/eighth/ holds the eighth fit's outputs (`omnitrust calibrate
    calibration/breach.toml`): its ``calibrated.toml`` loads, copied anywhere, as the baseline
    of the day it ran (the seventh fit's estimate as defaults) with its two estimates, those of
    its ``manifest.json`` and ``parameters.csv``."""
    import csv
    import json
    import shutil

    from sim.experiments.posterior import with_parameters
    from sim.scenario.loading import load_scenario

    folder = ROOT / "docs" / "calibration" / "eighth"
    fitted = load_scenario(shutil.copy(folder / "calibrated.toml", tmp_path / "copy.toml"))
    estimates = json.loads((folder / "manifest.json").read_text())["estimate"]
    rows = {r["parameter"]: float(r["estimate"]) for r in csv.DictReader(
        (folder / "parameters.csv").open()
    )}  # fmt: skip
    assert rows == estimates
    default = load_scenario(ROOT / "scenarios" / "baseline.toml")
    expected = with_parameters(default, estimates).model_copy(
        update={"name": "baseline_calibrated"}
    )
    assert fitted.content_hash() == expected.content_hash()
