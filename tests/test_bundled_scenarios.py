"""The bundled scenarios travel with the package: bare names work from any folder, the wheel
carries them, and help texts print what they mean."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from sim.loading import bundled_scenarios, load_scenario

ROOT = Path(__file__).resolve().parents[1]


def _omnitrust(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_every_scenario_of_the_repository_is_bundled():
    assert set(bundled_scenarios()) == {p.stem for p in (ROOT / "scenarios").glob("*.toml")}


def test_a_bare_name_loads_the_bundled_file_and_a_local_file_wins(tmp_path, monkeypatch):
    expected = load_scenario(ROOT / "scenarios" / "privacy_first.toml")
    monkeypatch.chdir(tmp_path)
    assert load_scenario("privacy_first").content_hash() == expected.content_hash()
    assert load_scenario("privacy_first.toml").content_hash() == expected.content_hash()
    local = (
        (ROOT / "scenarios" / "baseline.toml")
        .read_text()
        .replace('name = "baseline"', 'name = "my_local_baseline"')
    )
    assert "my_local_baseline" in local
    (tmp_path / "baseline.toml").write_text(local)
    assert load_scenario("baseline.toml").name == "my_local_baseline"


def test_run_with_a_bundled_name_works_outside_a_checkout(tmp_path):
    r = _omnitrust(
        "run", "baseline", "--days", "5", "--consumers", "300", "--no-progress", cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    ts = pd.read_parquet(tmp_path / "results" / "baseline" / "timeseries.parquet")
    assert sorted(ts["day"].unique()) == list(range(5))  # --days 5: days 0..4
    assert set(ts["scenario"].astype(str)) == {"baseline"}


def test_an_unknown_name_lists_the_bundled_ones(tmp_path):
    r = _omnitrust("run", "no_such_policy", "--days", "5", cwd=tmp_path)
    assert r.returncode == 2
    assert "no_such_policy" in r.stderr and "privacy_first" in r.stderr
    assert "Traceback" not in r.stderr


def test_evidence_works_outside_a_checkout(tmp_path):
    r = _omnitrust("evidence", "--replications", "1", "--consumers", "400", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("baseline: 1 replications")
    assert "multichannel_share" in r.stdout


@pytest.mark.parametrize(
    "command", ["calibrate", "compare", "evidence", "report", "run", "sensitivity", "sweep"]
)
def test_help_prints_single_percent_signs(command, tmp_path):
    r = _omnitrust(command, "--help", cwd=tmp_path)
    assert r.returncode == 0
    assert "%%" not in r.stdout
    if command in ("compare", "evidence"):
        assert "95% interval" in " ".join(r.stdout.split())


def test_the_wheel_carries_the_scenarios(tmp_path):
    """A real wheel build (pip, build isolation as in CI) from a copy of the sources."""
    src = tmp_path / "src"
    shutil.copytree(
        ROOT / "sim", src / "sim", symlinks=True, ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(ROOT / "scenarios", src / "scenarios")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    assert (src / "sim" / "scenarios").is_symlink()
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(src),
            "-w",
            str(tmp_path / "w"),
            "--no-deps",
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr
    (wheel,) = (tmp_path / "w").glob("omnitrust-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for p in (ROOT / "scenarios").glob("*.toml"):
        assert f"sim/scenarios/{p.name}" in names
