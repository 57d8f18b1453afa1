"""Mistakes a new user makes get a clear exit-2 message instead of a silent surprise."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from sim.cli import main

from .conftest import ROOT, SCENARIOS


def test_event_after_the_horizon_is_an_error(capsys):
    code = main(["run", str(SCENARIOS / "breach_data_maximalist.toml"), "--days", "120"])
    err = capsys.readouterr().err
    assert code == 2
    assert "events[0].day = 120" in err and "0-119" in err and "Traceback" not in err


def test_brand_name_differing_only_in_case_is_an_error(tmp_path, capsys):
    f = tmp_path / "typo.toml"
    f.write_text(
        f'extends = "{(SCENARIOS / "baseline.toml").as_posix()}"\n'
        '[[brands]]\nname = "aurora"\n[brands.policy]\ntransparency = 0.9\n'
    )
    assert main(["validate", str(f)]) == 2
    err = capsys.readouterr().err
    assert "'Aurora' and 'aurora'" in err and str(f) in err


def test_output_folder_that_is_a_file_is_an_error(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    args = ["--days", "5", "--consumers", "100", "--out", str(afile)]
    assert main(["run", str(SCENARIOS / "baseline.toml"), *args]) == 2
    assert "is a file" in capsys.readouterr().err
    assert (
        main(["compare", str(SCENARIOS / "baseline.toml"), str(SCENARIOS / "siloed.toml"), *args])
        == 2
    )
    assert "is a file" in capsys.readouterr().err


# --- options out of range, folders that cannot take the results (a new user's review, round 22)
EXPERIMENT = ROOT / "experiments" / "security_vs_attack.toml"


def _refused(capsys, argv: list[str], *said: str) -> str:
    """``main(argv)`` exits 2 with every piece of ``said`` in its message and no traceback."""
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    for piece in said:
        assert piece in err, err
    return err


@pytest.mark.parametrize(
    ("option", "said"),
    [
        (["--days", "0"], "simulation.days = 0: must be >= 1"),  # was: the file's size, silently
        (["--consumers", "0"], "simulation.consumers = 0: must be >= 10"),
        (["--replications", "0"], "replications = 0: must be at least 1"),
        (["--days", "-5"], "simulation.days = -5"),  # was: pydantic's traceback, exit 1
        (["--days", "99999"], "must be <= 3650"),
        (["--seed", "-1"], "simulation.seed = -1: must be >= 0"),
        (["--replications", "-3"], "replications = -3"),  # was: a pandas ValueError
    ],
)
def test_sweep_refuses_sizes_out_of_range_and_leaves_no_folder(tmp_path, capsys, option, said):
    out = tmp_path / "sweep"
    _refused(capsys, ["sweep", str(EXPERIMENT), "--out", str(out), *option], said)
    assert not out.exists()


@pytest.mark.parametrize(
    ("command", "file"),
    [("calibrate", "calibration/baseline.toml"), ("sensitivity", "sensitivity/baseline.toml")],
)
@pytest.mark.parametrize(
    ("option", "said"),
    [
        (["--consumers", "2"], "simulation.consumers = 2: must be >= 10"),
        (["--seed", "-1"], "simulation.seed = -1: must be >= 0"),
    ],
)
def test_fits_refuse_sizes_out_of_range_and_leave_no_folder(
    tmp_path, capsys, command, file, option, said
):
    out = tmp_path / command
    _refused(capsys, [command, str(ROOT / file), "--out", str(out), *option], said)
    assert not out.exists()


def test_a_folder_that_cannot_be_written_is_refused_before_anything_runs(
    tmp_path, capsys, monkeypatch
):
    """Root passes permission bits and a read-only file system is a mount: the check tries a
    real file, here made to fail as a read-only file system fails it (errno EROFS)."""
    import errno
    import tempfile

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    ran = []
    monkeypatch.setattr("sim.experiments.run", lambda *a, **k: ran.append(1))
    base = str(SCENARIOS / "baseline.toml")
    said = "cannot write files there (Read-only file system)"
    _refused(capsys, ["run", base, "--days", "5", "--out", str(tmp_path / "r")], said)
    assert not ran  # refused before the runs, not after them (it was an OSError traceback)
    _refused(capsys, ["sweep", str(EXPERIMENT), "--out", str(tmp_path / "s")], said)
    _refused(
        capsys,
        ["evidence", "--out", str(tmp_path / "e" / "x.csv")],
        f"--out = {tmp_path / 'e' / 'x.csv'}: cannot write files in {tmp_path / 'e'}",
    )


def test_a_read_only_mount_is_refused_by_the_program(tmp_path):
    """The same with a real read-only file system, where this machine allows a mount (root in a
    container with the capability); skipped elsewhere."""
    ro = tmp_path / "ro"
    ro.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(ro)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a read-only file system here: {mounted.stderr!r}")
    try:
        env = {**os.environ, "OMNITRUST_SERVER": "off"}
        cmd = [sys.executable, "-m", "sim", "run", "baseline", "--days", "5", "--out", str(ro)]
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path)
    finally:
        subprocess.run(["umount", str(ro)], capture_output=True)
    assert done.returncode == 2, done.stderr
    assert "cannot write files there (Read-only file system)" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_folder_of_another_kind_of_results_is_refused(tmp_path, capsys):
    """A comparison written into a run's folder replaced the run's manifest (its provenance)
    and mixed the two sets of files."""
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"kind": "run", "seed": 1}))
    base, other = str(SCENARIOS / "baseline.toml"), str(SCENARIOS / "siloed.toml")
    said = ["holds the results of `omnitrust run`", "kind = 'run'"]
    _refused(capsys, ["compare", base, other, "--days", "5", "--out", str(folder)], *said)
    _refused(capsys, ["sweep", str(EXPERIMENT), "--out", str(folder)], *said)
    (folder / "manifest.json").write_text(json.dumps({"kind": "calibration"}))
    _refused(capsys, ["run", base, "--days", "5", "--out", str(folder)], "`omnitrust calibrate`")
    assert json.loads((folder / "manifest.json").read_text()) == {"kind": "calibration"}


def test_report_refuses_an_unfinished_comparison_and_odd_manifests(tmp_path, capsys):
    folder = tmp_path / "partial"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"kind": "compare", "status": "running"}))
    _refused(capsys, ["report", str(folder)], "stopped before it finished", "status = 'running'")
    (folder / "manifest.json").write_text("[1, 2]")
    _refused(capsys, ["report", str(folder)], "not an omnitrust manifest")
    afile = tmp_path / "afile"
    afile.write_text("x")
    _refused(capsys, ["report", str(afile)], "is a file, not a results folder")


def test_evidence_checks_its_seed_and_output_before_measuring(tmp_path, capsys):
    _refused(capsys, ["evidence", "--seed", "-4"], "simulation.seed = -4: must be >= 0")
    _refused(capsys, ["evidence", "--out", str(tmp_path)], "is a folder; give a file name")


def test_options_of_the_replication_rule_without_it_are_refused(capsys):
    base, other = str(SCENARIOS / "baseline.toml"), str(SCENARIOS / "siloed.toml")
    for extra in (
        ["--metric", "nope"],
        ["--batch", "-2"],
        ["--batch", "0"],
        ["--max-replications", "7"],
    ):
        _refused(capsys, ["compare", base, other, *extra], extra[0], "only with --target-width")


def test_a_browser_that_cannot_print_is_said_plainly(tmp_path, capsys, monkeypatch):
    pytest.importorskip("playwright")
    folder = tmp_path / "run"
    base = str(SCENARIOS / "baseline.toml")
    assert main(["run", base, "--days", "5", "--consumers", "100", "--out", str(folder)]) == 0
    broken = tmp_path / "chromium"
    broken.write_text("#!/bin/sh\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setenv("OMNITRUST_CHROMIUM", str(broken))
    capsys.readouterr()
    # was: Playwright's TargetClosedError traceback, exit 1
    _refused(capsys, ["report", str(folder), "--pdf"], f"Chromium ({broken}) could not print")
    assert (folder / "report.html").exists() and not (folder / "report.pdf").exists()


def test_a_short_comparison_says_which_days_its_stocks_average(tmp_path, capsys):
    """Runs shorter than the 30-day window average all their days; the report said "the last
    30 days" whatever the length."""
    base, other = str(SCENARIOS / "baseline.toml"), str(SCENARIOS / "siloed.toml")
    argv = ["compare", base, other, "--days", "10", "--consumers", "100", "-r", "2"]
    assert main([*argv, "--out", str(tmp_path / "c"), "--no-progress", "--no-charts"]) == 0
    out = capsys.readouterr().out
    assert "mean of all 10 days for stocks" in out and "last 30 days" not in out


def test_a_folder_given_as_the_file_is_named_a_directory(tmp_path, capsys):
    _refused(capsys, ["sweep", str(tmp_path)], "is a directory, not an experiment file")
    _refused(capsys, ["calibrate", str(tmp_path), "--out", str(tmp_path / "o")], "is a directory")


def test_a_damaged_record_in_a_results_folder_is_one_line_naming_it(tmp_path, capsys):
    """A results folder is the user's: a file truncated by a full disk or edited by hand. Its
    scenarios.json made `omnitrust report` end in a JSONDecodeError traceback (exit 1), and a
    definition with a bad value in pydantic's; the manifest of `sim.open` likewise."""
    import sim
    from sim.core.errors import UserError

    out = tmp_path / "run"
    argv = ["run", str(SCENARIOS / "baseline.toml"), "--consumers", "100", "--days", "5"]
    assert main([*argv, "--replications", "1", "--workers", "1", "--out", str(out)]) == 0
    capsys.readouterr()
    definitions = out / "scenarios.json"
    good = json.loads(definitions.read_text())
    definitions.write_text(definitions.read_text()[:40])  # truncated
    _refused(capsys, ["report", str(out)], f"{definitions}: cannot read the scenarios' definitions")
    definitions.write_text("[1, 2]")
    _refused(capsys, ["report", str(out)], "not the scenarios' definitions")
    brand = good["baseline"]["brands"][0]
    brand["policy"]["transparency"] = "lots"
    definitions.write_text(json.dumps(good))
    _refused(capsys, ["report", str(out)], '[baseline]: brands.0.policy.transparency = "lots"')
    manifest = out / "manifest.json"
    manifest.write_text(manifest.read_text()[:40])
    with pytest.raises(UserError, match="manifest.json: cannot read the manifest"):
        sim.open(out)
