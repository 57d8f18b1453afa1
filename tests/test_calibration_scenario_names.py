"""The scenario a calibration or sensitivity file names is found as ``extends`` finds its parent.

A file of that name next to the calibration file wins; else a bare name (``"baseline"`` or
``"baseline.toml"``) is the bundled scenario; a folder of that name does not hide it; a name that
is neither exits 2 with one line naming the file, the field, the value, where it looked and the
bundled names. Expected scenarios are loaded straight from the repository's ``scenarios/`` files
by their full paths, not through the resolver under test. The real runs are the cheapest the
commands allow (10 consumers, 5 days, one trial, one replication).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sim.cli import main
from sim.scenario.loading import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "scenarios"
BUNDLED_NAMES = sorted(p.stem for p in BUNDLED.glob("*.toml"))
SIZES = {"days": 5, "consumers": 10}

CALIBRATION = """
scenario = "{scenario}"
replications = 1
days = 5
consumers = 10
trials = 1
batch = 1
[posterior]
population = 5
generations = 1
draws = 10
[confirm]
top = 0
[[parameters]]
path = "trust.negative_weight"
low = 1.0
high = 6.0
[[targets]]
name = "aurora_trust"
metric = "trust"
brand = "Aurora"
value = 0.52
low = 0.50
high = 0.54
"""

SENSITIVITY = """
scenario = "{scenario}"
replications = 1
days = 5
consumers = 10
method = "sobol"
samples = 2
bootstrap = 10
[[parameters]]
path = "trust.negative_weight"
low = 1.0
high = 6.0
[[outputs]]
name = "trust"
metric = "trust"
brand = "Aurora"
[[outputs]]
name = "tp_gain"
metric = "trust"
brand = "Aurora"
scenario = "{other}"
reference = "{reference}"
"""


def _folder(tmp_path: Path) -> Path:
    """A user's folder with no scenario in it, but a results folder called ``baseline``."""
    mine = tmp_path / "mine"
    (mine / "baseline").mkdir(parents=True)
    return mine


def _elsewhere(tmp_path: Path, monkeypatch) -> None:
    """Run from a folder that is neither the file's nor the repository."""
    away = tmp_path / "elsewhere"
    away.mkdir()
    monkeypatch.chdir(away)


def _one_error_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# ----------------------------------------------------------------------------- the real CLI
def test_calibrate_runs_on_a_bundled_scenario_named_in_a_copied_file(tmp_path, monkeypatch):
    cal = _folder(tmp_path) / "cal.toml"
    cal.write_text(CALIBRATION.format(scenario="baseline"))
    _elsewhere(tmp_path, monkeypatch)
    out = tmp_path / "out"
    assert main(["calibrate", str(cal), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    expected = load_scenario(BUNDLED / "baseline.toml", **SIZES)
    assert manifest["scenario"]["hash"] == expected.content_hash()
    assert Path(manifest["scenario"]["path"]) == (BUNDLED / "baseline.toml").resolve()
    assert manifest["spec"]["scenario"] == "baseline"  # as the user wrote it
    header = (out / "calibrated.toml").read_text().splitlines()[3]
    assert header.startswith("# Base scenario: ") and header.split()[3].endswith(
        "scenarios/baseline.toml,"
    ), header


def test_sensitivity_runs_on_bundled_scenarios_named_either_way(tmp_path, monkeypatch):
    """``baseline.toml`` (the file's scenario) and ``baseline`` (an output's reference) are the
    same bundled file: measured once, as the main scenario; ``transparent_personalization`` is
    the one other scenario."""
    sens = _folder(tmp_path) / "sens.toml"
    sens.write_text(
        SENSITIVITY.format(
            scenario="baseline.toml", other="transparent_personalization", reference="baseline"
        )
    )
    _elsewhere(tmp_path, monkeypatch)
    out = tmp_path / "out"
    assert main(["sensitivity", str(sens), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    base = load_scenario(BUNDLED / "baseline.toml", **SIZES)
    tp = load_scenario(BUNDLED / "transparent_personalization.toml", **SIZES)
    assert manifest["scenario"]["hash"] == base.content_hash()
    assert Path(manifest["scenario"]["path"]) == (BUNDLED / "baseline.toml").resolve()
    assert manifest["references"] == {"transparent_personalization": tp.content_hash()}
    assert (out / "indices.csv").stat().st_size > 0


@pytest.mark.parametrize(
    ("command", "text", "field", "value"),
    [
        ("calibrate", CALIBRATION.format(scenario="basline"), "scenario", "basline"),
        (
            "sensitivity",
            SENSITIVITY.format(scenario="baseline", other="baseline", reference="nowhere.toml"),
            "outputs[1].reference",
            "nowhere.toml",
        ),
    ],
)
def test_a_name_that_is_no_file_and_no_bundled_scenario_exits_2_in_one_line(
    tmp_path, capsys, command, text, field, value
):
    path = _folder(tmp_path) / f"{command}.toml"
    path.write_text(text)
    out = tmp_path / "out"
    assert main([command, str(path), "--out", str(out)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line.startswith(
        f'{path}: {field} = "{value}": no such scenario file: {path.parent / value}; '
        f"looked in {path.parent} and among the bundled scenarios"
    ), line
    assert "the name of a bundled scenario" in line
    assert f"bundled names: {', '.join(BUNDLED_NAMES)})" in line, line
    assert ("did you mean 'baseline'?" in line) == (value == "basline"), line
    assert not out.exists()  # nothing made before the input is known good


# ----------------------------------------------------------------------------- which file
@pytest.mark.parametrize("name", ["baseline", "baseline.toml"])
def test_a_file_next_to_the_calibration_file_wins_over_the_bundled_one(tmp_path, name):
    """Only a file of exactly that name: ``baseline.toml`` next to it is read for
    ``"baseline.toml"``; for ``"baseline"`` (no such file there) the bundled one is."""
    from sim.calibration.spec import load_calibration

    mine = _folder(tmp_path)
    (mine / "baseline.toml").write_text(
        'extends = "baseline"\n[[brands]]\nname = "Aurora"\npresence = 0.5\n'
    )
    loaded = load_calibration(_write(mine / "cal.toml", CALIBRATION.format(scenario=name)))
    local = name == "baseline.toml"
    expected = mine / "baseline.toml" if local else BUNDLED / "baseline.toml"
    assert loaded.scenario_file.resolve() == expected.resolve()  # sim/scenarios is a link
    aurora = next(b for b in loaded.scenario.brands if b.name == "Aurora")
    bundled = next(b for b in load_scenario(BUNDLED / "baseline.toml").brands if b.name == "Aurora")
    assert bundled.presence != 0.5
    assert aurora.presence == (0.5 if local else bundled.presence)


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# ----------------------------------------------------------------------------- resume
def test_a_resume_compares_the_scenario_by_content_not_by_name_or_folder(tmp_path, monkeypatch):
    """A fit begun with ``"baseline"`` resumes when the file says ``"baseline.toml"`` or the
    bundled file's full path, from another folder; a ``baseline.toml`` with other content put
    next to the file is another scenario under the same name: refused, naming where it is read."""
    from sim.calibration import fit
    from sim.calibration.spec import load_calibration
    from sim.core.errors import ScenarioError

    mine = _folder(tmp_path)
    cal = mine / "cal.toml"
    root = tmp_path / "out"
    root.mkdir()

    def bind(scenario: str) -> None:
        loaded = load_calibration(_write(cal, CALIBRATION.format(scenario=scenario)))
        scn = loaded.scenario
        settings = fit.study_settings(loaded.spec, scn, scn.simulation.seed, 1, False)
        fit.bind_settings(root, settings, cal, loaded.spec.scenario, loaded.scenario_file)

    monkeypatch.chdir(mine)
    bind("baseline")
    _elsewhere(tmp_path, monkeypatch)
    for same in ("baseline.toml", "baseline", str(BUNDLED / "baseline.toml")):
        bind(same)  # no error
    shutil.copy(BUNDLED / "transparent_personalization.toml", mine / "baseline.toml")
    (mine / "baseline.toml").write_text(
        (mine / "baseline.toml")
        .read_text()
        .replace('extends = "baseline.toml"', 'extends = "baseline"')
    )
    with pytest.raises(ScenarioError) as err:
        bind("baseline.toml")
    text = str(err.value)
    assert err.value.field == "scenario" and err.value.value == "baseline.toml", text
    assert f"read from {mine / 'baseline.toml'}" in text and "new --out" in text, text
    bind("baseline")  # the bundled one again: still the study's scenario
