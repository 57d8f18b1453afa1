"""`omnitrust validate`, `schema` and `params`: exit codes, messages on stderr, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import jsonschema
import pytest

from sim import cli
from sim.cli import main
from sim.core.errors import UserError

from .conftest import ROOT

BRAND = '[[brands]]\nname = "Alpha"\n'

# name -> (files to write, the file to validate, parts the message must contain)
BAD_FILES: dict[str, tuple[dict[str, str], str, list[str]]] = {
    "toml_syntax": (
        {"s.toml": 'name = "x"\ndays = \n'},
        "s.toml",
        ["line 2, column 8", "invalid TOML", "Invalid value"],
    ),
    "unknown_key": (
        {"s.toml": BRAND + "[brands.policy]\ntransparncy = 0.5\n"},
        "s.toml",
        [
            'brands[0] (name="Alpha").policy.transparncy = 0.5',
            "did you mean 'transparency'?",
            "allowed keys",
        ],
    ),
    "wrong_type": (
        {"s.toml": '[world]\ncontagion = "some"\n' + BRAND},
        "s.toml",
        ['world.contagion = "some"', "must be a number", "[0, 1]"],
    ),
    "out_of_range": (
        {"s.toml": BRAND + "[brands.policy]\ntransparency = 1.5\n"},
        "s.toml",
        [
            'brands[0] (name="Alpha").policy.transparency = 1.5',
            "must be <= 1",
            "a number in [0, 1], unit: level",
        ],
    ),
    "shares": (
        {"s.toml": "[population]\nfundamentalist = 0.1\npragmatist = 0.1\n" + BRAND},
        "s.toml",
        ["population", "must sum to 1", "0.1 + 0.1 + 0.1"],
    ),
    "duplicate_brand": (
        {"s.toml": BRAND + BRAND},
        "s.toml",
        ['brands[1] (name="Alpha").name = "Alpha"', "must be unique"],
    ),
    "event_brand": (
        {
            "s.toml": BRAND + '[[events]]\nkind = "breach"\nday = 1\nbrand = "Zed"\n'
            'records_share = 0.1\ndata_types = ["contact"]\n'
        },
        "s.toml",
        ['events[0].brand = "Zed"', "is not a brand", "brands: Alpha"],
    ),
    "media_story_brand_without_covert": (
        {
            "s.toml": BRAND + '[[events]]\nkind = "media_story"\nday = 1\nseverity = 0.5\n'
            'brand = "Alpha"\n'
        },
        "s.toml",
        ['events[0].brand = "Alpha"', "not allowed without reveals_covert = true", "allowed:"],
    ),
    "event_channel": (
        {
            "s.toml": BRAND + '[[events]]\nkind = "breach"\nday = 1\nbrand = "Alpha"\n'
            'records_share = 0.1\ndata_types = ["contact"]\nchannel = "kiosk"\n'
        },
        "s.toml",
        ['events[0].channel = "kiosk"', "store", "web", "app"],
    ),
    "event_kind": (
        {"s.toml": BRAND + '[[events]]\nkind = "flood"\nday = 1\n'},
        "s.toml",
        ['events[0].kind = "flood"', "breach, third_party_leak, media_story"],
    ),
    "data_type": (
        {"s.toml": BRAND + '[brands.policy]\ndata_collection = ["dna"]\n'},
        "s.toml",
        ['policy.data_collection[0] = "dna"', "purchase_history"],
    ),
    "extends_cycle": (
        {"a.toml": 'extends = "b.toml"\n' + BRAND, "b.toml": 'extends = "a.toml"\n'},
        "a.toml",
        ['extends = "a.toml"', "extends cycle", "a.toml -> ", "b.toml"],
    ),
    "extends_missing": (
        {"s.toml": 'extends = "gone.toml"\n' + BRAND},
        "s.toml",
        ['extends = "gone.toml"', "no such scenario file", "gone.toml"],
    ),
}


def _write(tmp_path: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_validate_bad_file_exits_2_and_explains(tmp_path, capsys, case):
    files, target, expected = BAD_FILES[case]
    _write(tmp_path, files)
    code = main(["validate", str(tmp_path / target)])
    out, err = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in err and "ok  " not in out
    assert str(tmp_path / target) in err or (case == "extends_cycle" and str(tmp_path) in err)
    for part in expected:
        assert part in err, err


@pytest.mark.parametrize("case", ["out_of_range", "extends_cycle"])
def test_python_m_sim_validate_bad_file(tmp_path, case):
    files, target, expected = BAD_FILES[case]
    _write(tmp_path, files)
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "validate", str(tmp_path / target)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    for part in expected:
        assert part in proc.stderr, proc.stderr


def test_python_m_sim_reports_a_toml_error_without_traceback(tmp_path):
    files, target, expected = BAD_FILES["toml_syntax"]
    _write(tmp_path, files)
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "validate", str(tmp_path / target)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"{tmp_path / target}: line 2, column 8: invalid TOML" in proc.stderr


def test_validate_good_files_prints_ok_lines(capsys):
    files = sorted((ROOT / "scenarios").glob("*.toml"))
    assert main(["validate", *map(str, files)]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == len(files) and not err
    first = lines[0].split("  ")
    assert first[0] == "ok" and first[1] == str(files[0])
    assert first[2].startswith(f"({files[0].stem}, ") and first[2].endswith(" 3 brands)")
    assert len(first[2].split(", ")[1]) == 12  # hash prefix


def test_validate_mixed_files_reports_each_and_exits_2(tmp_path, capsys):
    _write(tmp_path, {"bad.toml": BRAND + "[brands.policy]\ntransparency = 2.0\n"})
    good = ROOT / "scenarios" / "baseline.toml"
    assert main(["validate", str(good), str(tmp_path / "bad.toml")]) == 2
    out, err = capsys.readouterr()
    assert out.startswith(f"ok  {good}  (baseline, ")
    assert "bad.toml: " in err and "1 of 2 file(s) have problems" in err


def test_user_error_in_any_handler_exits_2_with_message_only(monkeypatch, capsys):
    def boom(args):
        raise UserError("--workers must be at least 1, got 0")

    monkeypatch.setattr(cli, "cmd_schema", boom)
    assert main(["schema"]) == 2
    _, err = capsys.readouterr()
    assert err.strip() == "omnitrust schema: error: --workers must be at least 1, got 0"


def test_keyboard_interrupt_exits_130(monkeypatch, capsys):
    """A command that keeps nothing claims nothing kept (it said 'finished runs are kept' for
    every command, `run` and `report` included, which keep nothing); a resumable command names
    what it keeps and where."""

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "cmd_params", interrupted)
    assert main(["params"]) == 130
    assert capsys.readouterr().err == "\ninterrupted\n"

    def interrupted_with_something_kept(args):
        args.kept_on_interrupt = "what finished is kept in DIR; rerun the same command to resume"
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "cmd_params", interrupted_with_something_kept)
    assert main(["params"]) == 130
    err = capsys.readouterr().err
    assert err == "\ninterrupted; what finished is kept in DIR; rerun the same command to resume\n"


def test_compare_stopped_after_its_runs_says_they_are_kept(monkeypatch, tmp_path, capsys):
    """Review: Ctrl-C while compare made its tables (its runs all on disk, a rerun resumes)
    said only 'interrupted'."""
    import importlib

    compare_module = importlib.import_module("sim.experiments.compare")  # (not the function)

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(compare_module, "compare", stopped)
    good = ROOT / "scenarios" / "baseline.toml"
    out = tmp_path / "cmp"
    assert main(["compare", str(good), str(good), "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert (
        err == f"\ninterrupted; finished runs are kept in {out}; rerun the same command to resume\n"
    )


def test_usage_errors_and_help_return_codes(capsys):
    assert main([]) == 2
    assert main(["no-such-command"]) == 2
    assert main(["validate"]) == 2  # FILE is required
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in ("validate", "run", "compare", "sweep", "schema", "params"):
        assert name in out


@pytest.mark.parametrize(
    ("argv", "option", "value"),
    [
        (["run", "baseline", "--consumers", "abc"], "--consumers", "abc"),
        (["run", "baseline", "--replications", "1.5"], "--replications/-r", "1.5"),
        (
            ["calibrate", "x.toml", "--out", "o", "--replications", "1.5"],
            "--replications/-r",
            "1.5",
        ),
        (["calibrate", "x.toml", "--out", "o", "--consumers", "abc"], "--consumers", "abc"),
        (["sensitivity", "x.toml", "--out", "o", "--samples", "q"], "--samples", "q"),
        (["warmup", "baseline", "--days", "2.5"], "--days", "2.5"),
        (["evidence", "--consumers", "abc"], "--consumers", "abc"),
        (["dashboard", "--port", "x"], "--port", "x"),
        (["compare", "baseline", "--consumers", "abc"], "--consumers", "abc"),
        (["sweep", "x.toml", "--replications", "1.5"], "--replications/-r", "1.5"),
    ],
)
def test_a_non_integer_for_an_integer_option_is_one_line_in_every_command(
    argv, option, value, capsys
):
    # review: run and calibrate printed argparse's usage block (5-6 lines) before the error,
    # compare and sweep one line; now every command as compare and sweep (argparse's wording)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == (
        f"omnitrust {argv[0]}: error: argument {option}: invalid int value: {value!r} "
        "(see --help)\n"
    )


def test_an_unknown_option_or_command_is_one_line(capsys):
    """An unknown option is named by the command it was given to (argparse's top-level parser
    said "omnitrust: error", as if the option had been given to omnitrust itself)."""
    assert main(["report", "folder", "--foo"]) == 2
    assert (
        capsys.readouterr().err
        == "omnitrust report: error: unrecognized arguments: --foo (see --help)\n"
    )
    assert main(["run", "baseline", "--bogus", "3"]) == 2
    assert (
        capsys.readouterr().err
        == "omnitrust run: error: unrecognized arguments: --bogus 3 (see --help)\n"
    )
    assert main(["runn"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "invalid choice: 'runn'" in err and "'run'" in err


def test_a_usage_error_exits_2_in_one_line_from_the_program():
    env = {**os.environ, "OMNITRUST_SERVER": "off"}
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "run", "baseline", "--consumers", "abc"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "omnitrust run: error: argument --consumers: invalid int value: 'abc' (see --help)"
    ]


def test_help_does_not_import_the_simulation():
    code = (
        "import sys; from sim.cli import main; main(['--help']); "
        "print(sorted(m for m in ('pandas', 'matplotlib', 'sim.model') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("[]"), proc.stdout


def test_missing_command_module_is_a_clear_error(monkeypatch, capsys):
    missing = cli.Command("later", "a command not written yet", "sim.not_written_yet:add_parser")
    monkeypatch.setattr(cli, "COMMANDS", (*cli.COMMANDS, missing))
    assert main(["--help"]) == 0
    assert "later" in capsys.readouterr().out
    assert main(["later", "x"]) == 2
    assert "'later' is not available" in capsys.readouterr().err


def test_schema_is_json_and_validates_scenarios(tmp_path, capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["title"] == "omnitrust scenario"
    validator = jsonschema.Draft202012Validator(schema)
    good = tomllib.loads((ROOT / "scenarios" / "baseline.toml").read_text())
    validator.validate(good)
    good["brands"][1]["policy"]["transparency"] = 1.5
    assert not validator.is_valid(good)
    out = tmp_path / "sub" / "scenario.schema.json"
    assert main(["schema", "--out", str(out)]) == 0
    assert json.loads(out.read_text()) == schema


def test_params_prints_and_updates_the_generated_part(tmp_path, capsys):
    from sim.scenario.paramdoc import BEGIN, END, parameters_markdown

    assert main(["params"]) == 0
    assert capsys.readouterr().out == parameters_markdown()
    doc = tmp_path / "PARAMETERS.md"
    doc.write_text(
        f"# Parameters\n\n{BEGIN}\nOUTDATED-GENERATED-PART\n{END}\n\nHand-written tail.\n"
    )
    assert main(["params", "--update", str(doc)]) == 0
    text = doc.read_text()
    assert "OUTDATED-GENERATED-PART" not in text and "Hand-written tail." in text
    assert "| `transparency` | 0.5 | level | [0, 1] |" in text
    doc.write_text("no markers here\n")
    assert main(["params", "--update", str(doc)]) == 2
    assert "no generated part" in capsys.readouterr().err


@pytest.mark.parametrize(
    "command", ["run", "compare", "validate", "warmup", "evidence", "dashboard"]
)
def test_scenario_arguments_say_bundled_names_are_allowed(capsys, command):
    """Every command that reads scenarios resolves bare bundled names (README, "Scenarios"; the
    compare examples of docs/EXPERIMENTS.md use them): its help says so."""
    assert main([command, "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "scenario TOML file" in help_text and "bundled scenario name" in help_text, help_text


# An experiment, calibration or sensitivity file given where a scenario is expected: one line
# naming the command that reads it (not a line per key it does not share with a scenario).
OTHER_FILES = [
    *(("run", f"experiments/{p.name}", "an experiment file", "omnitrust sweep")
      for p in sorted((ROOT / "experiments").glob("*.toml"))),
    ("run", "calibration/baseline.toml", "a calibration file", "omnitrust calibrate"),
    ("run", "sensitivity/baseline.toml", "a sensitivity file", "omnitrust sensitivity"),
    ("validate", "experiments/security_vs_attack.toml", "an experiment file", "omnitrust sweep"),
    ("validate", "calibration/baseline.toml", "a calibration file", "omnitrust calibrate"),
]  # fmt: skip


@pytest.mark.parametrize(("command", "file", "kind", "use"), OTHER_FILES)
def test_another_kind_of_file_says_which_command_reads_it(
    tmp_path, capsys, command, file, kind, use
):
    path = ROOT / file
    args = [command, str(path)] + (["--out", str(tmp_path / "out")] if command == "run" else [])
    assert main(args) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if not line.endswith("file(s) have problems")]
    assert len(lines) == 1 and lines[0].startswith(f"{path}: this is {kind}"), err
    assert "not a scenario; run it with " in err and "unknown key" not in err
    assert lines[0].endswith(f"`{use} {path}`" if use.endswith("sweep") else " --out DIR`"), err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("other", "kind", "use"),
    [
        ("experiments/security_vs_attack.toml", "an experiment file", "omnitrust sweep"),
        ("calibration/baseline.toml", "a calibration file", "omnitrust calibrate"),
    ],
)
@pytest.mark.parametrize("command", ["run", "validate"])
def test_a_scenario_extending_another_kind_of_file_names_its_own_extends(
    tmp_path, capsys, command, other, kind, use
):
    """The place to fix is the scenario's ``extends`` line, not the file it points to: the one
    line names the scenario file, its ``extends`` and the value, then what that file is."""
    target = tmp_path / Path(other).name
    target.write_text((ROOT / other).read_text().replace('"../scenarios/', f'"{ROOT}/scenarios/'))
    child = tmp_path / "child.toml"
    child.write_text(f'extends = "{target.name}"\n[simulation]\ndays = 30\n')
    grand = tmp_path / "grand.toml"  # a chain: the file whose extends is wrong is the middle one
    grand.write_text('extends = "child.toml"\n')
    for path in (child, grand):
        args = [command, str(path)] + (["--out", str(tmp_path / "out")] if command == "run" else [])
        assert main(args) == 2
        err = capsys.readouterr().err
        lines = [line for line in err.splitlines() if not line.endswith("file(s) have problems")]
        assert len(lines) == 1, err
        assert lines[0].startswith(f'{child}: extends = "{target.name}": {target} is {kind}'), err
        assert f"not a scenario to extend; it runs with `{use} {target}" in lines[0], err
        assert "Traceback" not in err and "a path relative to this file's folder" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("referrer", "field", "command"),
    [
        ("calibration/baseline.toml", "scenario", ["calibrate"]),
        ("experiments/security_vs_attack.toml", "base", ["sweep"]),
    ],
)
def test_a_file_whose_scenario_names_another_kind_of_file_is_told_on_that_line(
    tmp_path, capsys, referrer, field, command
):
    """A calibration file's ``scenario`` or an experiment's ``base`` naming a calibration file:
    the one line names the referring file, its field and value (the place to fix), then what
    the named file is; nothing runs."""
    other = tmp_path / "other.toml"
    other.write_text((ROOT / "calibration/baseline.toml").read_text())
    text = (ROOT / referrer).read_text()
    line = next(x for x in text.splitlines() if x.startswith(f"{field} ="))
    path = tmp_path / Path(referrer).name
    path.write_text(text.replace(line, f'{field} = "other.toml"'))
    assert main([*command, str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f'{path}: {field} = "other.toml": {other} is a calibration file'), err
    assert f"not a scenario; it runs with `omnitrust calibrate {other}" in err, err
    assert "Traceback" not in err and not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("field", "named", "kind", "runs_with"),
    [
        ("scenario", "experiments/security_vs_attack.toml", "an experiment file", "sweep"),
        ("scenario", "calibration/baseline.toml", "a calibration file", "calibrate"),
        ("reference", "sensitivity/baseline.toml", "a sensitivity file", "sensitivity"),
    ],
)
def test_a_sensitivity_output_naming_another_kind_of_file_is_told_on_that_line(
    tmp_path, field, named, kind, runs_with
):
    """A sensitivity file's ``outputs[1].scenario`` (or ``reference``) naming an experiment,
    calibration or sensitivity file, through the command line: exit code 2, one line naming the
    file, the field, the value and what is allowed, no traceback; nothing runs."""
    text = (ROOT / "sensitivity/baseline.toml").read_text()
    old = {
        "scenario": 'scenario = "../scenarios/transparent_personalization.toml"',
        "reference": 'reference = "../scenarios/baseline.toml"',
    }[field]
    assert text.count(old) == 2  # outputs[1] and outputs[2]; the first is replaced
    other = tmp_path / Path(named).name
    other.write_text((ROOT / named).read_text())
    path = tmp_path / "sens.toml"
    path.write_text(
        text.replace('"../scenarios/', f'"{(ROOT / "scenarios").as_posix()}/').replace(
            old.replace('"../scenarios/', f'"{(ROOT / "scenarios").as_posix()}/'),
            f'{field} = "{other.name}"',
            1,
        )
    )
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "sensitivity", str(path), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "out").exists()
    (line,) = proc.stderr.splitlines()
    assert line.startswith(f'{path}: outputs[1].{field} = "{other.name}": {other} is {kind}'), line
    assert f"not a scenario; it runs with `omnitrust {runs_with} {other}" in line, line
    assert 'a path relative to this file\'s folder, e.g. "baseline.toml", or the name of a ' in line


def test_the_keys_that_tell_the_kinds_of_file_apart():
    """The detection reads keys that each kind requires and no scenario has."""
    from sim.calibration.spec import CalibrationSpec, SensitivitySpec
    from sim.experiments.design import Experiment
    from sim.scenario import Scenario

    def required(model):
        return {k for k, f in model.model_fields.items() if f.is_required()}

    assert "base" in required(Experiment)
    assert {"scenario", "parameters", "targets"} <= required(CalibrationSpec)
    assert {"scenario", "parameters", "outputs"} <= required(SensitivitySpec)
    assert not {"base", "scenario", "parameters", "targets", "outputs"} & set(Scenario.model_fields)


def test_a_scenario_with_a_stray_base_key_is_still_a_scenario(tmp_path, capsys):
    (tmp_path / "s.toml").write_text('base = "x"\n' + BRAND)
    assert main(["validate", str(tmp_path / "s.toml")]) == 2
    assert 'base = "x": unknown key' in capsys.readouterr().err
