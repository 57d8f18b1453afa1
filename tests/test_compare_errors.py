"""Every `omnitrust compare` option error: exit 2, one line naming the option, the value and what
is allowed, no traceback, nothing run (issue 16)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = [
    str(ROOT / "scenarios" / "baseline.toml"),
    str(ROOT / "scenarios" / "privacy_first.toml"),
]
TINY = ["--replications", "2", "--days", "5", "--consumers", "200", "--no-progress", "--no-charts"]

# (arguments, what the error line must contain: option, value, allowed)
CASES = [
    (["--replications", "0"], ["--replications", "0", "at least 1"]),
    (["--replications", "two"], ["--replications", "'two'", "int"]),
    (["--seed", "-1"], ["--seed", "-1", "[0, 2**63 - 1]"]),
    (["--days", "0"], ["simulation.days", "0", "[1, 3650]"]),
    (["--consumers", "3"], ["simulation.consumers", "3", "[10, 20000000]"]),
    (["--reference", "nope"], ["--reference", "'nope'", "baseline, privacy_first"]),
    (["--focus-brand", "Nobody"], ["--focus-brand", "'Nobody'", "Aurora, Borealis, Cirrus"]),
    (["--outcome", "median"], ["--outcome", "'median'", "'auto', 'window', 'total'"]),
    (["--target-width", "-1"], ["--target-width", "-1", "positive"]),
    (["--target-width", "0.1", "--metric", "happiness"], ["--metric", "'happiness'", "trust"]),
    (
        ["--target-width", "0.1", "--max-replications", "0"],
        ["--max-replications", "0", "at least 1"],
    ),
    (["--target-width", "0.1", "--batch", "0"], ["--batch", "0", "at least 1"]),
    (["--bootstrap", "-5"], ["--bootstrap", "-5", "at least 0"]),
    (["--threshold", "1.5"], ["--threshold", "1.5", "[0, 1]"]),
    (["--threshold", "-0.1"], ["--threshold", "-0.1", "[0, 1]"]),
    (["--by-day", "-3"], ["--by-day", "-3", "[0, 4]"]),
    (["--by-day", "5"], ["--by-day", "5", "[0, 4]"]),
    (["--workers", "0"], ["--workers", "0", "at least 1"]),
    (["--scheduler", "nothing"], ["--scheduler", "nothing", "tcp://HOST:PORT"]),
]


@pytest.mark.parametrize(("args", "expected"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_compare_option_error_is_one_clear_line(tmp_path, capsys, args, expected):
    out = tmp_path / "out"
    code = main(["compare", *SCENARIOS, "--out", str(out), *TINY, *args])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1, err
    for part in expected:
        assert part in lines[0], (part, lines[0])
    assert not (out / "runs").exists()  # nothing ran


def test_option_error_from_the_installed_command_has_no_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "compare", *SCENARIOS, *TINY, "--seed", "-1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "omnitrust compare: error: --seed must be an integer in [0, 2**63 - 1], got -1"
    ]


def test_compare_of_files_of_different_sizes_is_refused_in_one_line(tmp_path, capsys):
    # review: `omnitrust compare a30.toml b40.toml` printed "paired differences" between a 30-day
    # market of 500 consumers and a 40-day one of 600
    a, b = tmp_path / "a30.toml", tmp_path / "b40.toml"
    a.write_text(
        'extends = "baseline"\nname = "base30"\n[simulation]\ndays = 30\nconsumers = 500\n'
    )
    b.write_text(
        'extends = "privacy_first"\nname = "pf40"\n[simulation]\ndays = 40\nconsumers = 600\n'
    )
    out = tmp_path / "out"
    code = main(["compare", str(a), str(b), "--out", str(out), "--no-progress", "--no-charts"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert lines == [
        f"omnitrust compare: error: 'pf40' ({b}) has [simulation] days = 40 but the reference "
        f"'base30' ({a}) has days = 30; paired differences need the same days in every "
        "scenario: give --days D (days= in Python) to set every scenario's, or make the files "
        "agree"
    ]
    assert not out.exists()  # refused before anything ran, no empty folder left
    # the days given: the consumers are the next field that differs
    code = main(["compare", str(a), str(b), "--out", str(out), "--days", "5", "--no-progress"])
    line = capsys.readouterr().err.strip()
    assert code == 2 and "consumers = 600" in line and "consumers = 500" in line
    assert "--consumers N" in line and not out.exists()


def test_workers_below_one_names_the_option_on_the_command_line_and_the_keyword_in_python(
    capsys,
):
    # review: `sim.run(..., workers=0)` said "--workers must be at least 1" to a Python caller
    from sim.core.errors import UserError
    from sim.experiments import make_map

    with pytest.raises(UserError) as err:
        make_map(workers=0)
    assert str(err.value) == "workers must be at least 1, got 0"
    for command in (["run", SCENARIOS[0]], ["sweep", str(ROOT / "experiments" / "x.toml")]):
        assert main([*command, "--workers", "0"]) == 2
        err_line = capsys.readouterr().err.strip()
        assert err_line.endswith(": error: --workers must be at least 1, got 0"), err_line
