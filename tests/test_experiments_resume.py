"""Results are never lost: a comparison killed with SIGKILL part-way resumes with only the missing
runs and ends with the same tables as one run straight through; Ctrl-C stops cleanly (exit 130);
SIGTERM stops the program as cleanly, then ends it by SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from .conftest import as_a_terminal_starts_it

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = [
    str(ROOT / "scenarios" / "baseline.toml"),
    str(ROOT / "scenarios" / "transparent_personalization.toml"),
]
REPS = 8
TOTAL_RUNS = 3 * REPS  # two scenarios + the reference again with independent seeds

# The experiments' own subcommands on a bare parser: independent of the rest of the CLI.
CLI = (
    "import argparse, sys\n"
    "from sim.cli.experiments import add_parsers\n"
    "p = argparse.ArgumentParser(); add_parsers(p.add_subparsers())\n"
    "a = p.parse_args(sys.argv[1:]); sys.exit(a.handler(a))\n"
)


def _command(out: Path, workers: int = 1) -> list[str]:
    return [
        sys.executable,
        "-c",
        CLI,
        "compare",
        *SCENARIOS,
        "--out",
        str(out),
        "--replications",
        str(REPS),
        "--days",
        "120",
        "--consumers",
        "5000",
        "--seed",
        "7",
        "--workers",
        str(workers),
        "--no-progress",
        "--no-charts",
        "--bootstrap",
        "200",
    ]


def _run_files(out: Path) -> list[Path]:
    return sorted((out / "runs").rglob("*.parquet")) if (out / "runs").exists() else []


def _parent_sigint() -> str:
    """The test process's SIGINT state, for a failure message."""
    blocked = signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, set())
    return f"test process: SIGINT handler {signal.getsignal(signal.SIGINT)!r}, blocked {blocked}"


def _start_and_stop_after(
    cmd: list[str], out: Path, sig: int, min_files: int = 3, group: bool | str = True, env=None
):
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=as_a_terminal_starts_it,
    )
    deadline = time.monotonic() + 120
    while len(_run_files(out)) < min_files:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no run files appeared"
        time.sleep(0.02)
    if group == "timeout":  # coreutils' timeout: the command, then its whole group (the
        proc.send_signal(sig)  # pause: the second after the command's handler has run, the case
        time.sleep(0.02)  # that killed the command mid-cleanup; with none the two often merge)
        os.killpg(proc.pid, sig)
    elif group:
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    return proc.returncode, stdout, stderr


def _tables(out: Path) -> dict[str, pd.DataFrame]:
    return {
        "levels": pd.read_csv(out / "levels.csv"),
        "differences": pd.read_csv(out / "differences.csv"),
        "runs": pd.read_parquet(out / "runs.parquet"),
    }


def test_killed_comparison_resumes_and_matches_a_straight_run(tmp_path):
    killed, straight = tmp_path / "killed", tmp_path / "straight"
    code, _, _ = _start_and_stop_after(_command(killed), killed, signal.SIGKILL)
    assert code == -signal.SIGKILL
    kept = {p: p.stat().st_mtime_ns for p in _run_files(killed)}
    assert 3 <= len(kept) < TOTAL_RUNS, "the kill should land part-way"
    assert not (killed / "levels.csv").exists()

    resumed = subprocess.run(_command(killed), cwd=ROOT, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert len(_run_files(killed)) == TOTAL_RUNS
    for path, mtime in kept.items():  # finished runs were kept, not redone
        assert path.stat().st_mtime_ns == mtime, path

    done = subprocess.run(_command(straight), cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    a, b = _tables(killed), _tables(straight)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], obj=name)
    assert "Differences vs baseline" in resumed.stdout


def test_ctrl_c_keeps_finished_runs_and_exits_130(tmp_path):
    out = tmp_path / "interrupted"
    code, _, stderr = _start_and_stop_after(_command(out, workers=2), out, signal.SIGINT)
    assert code == 130, f"{stderr}\n{_parent_sigint()}"
    assert "interrupted;" in stderr and "rerun the same command to resume" in stderr
    assert "Traceback" not in stderr
    assert str(out) in stderr


def _processes_with(marker: str) -> list[int]:
    """Pids of the processes whose environment holds ``marker`` (Linux /proc)."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker.encode() in environ.read_bytes():
                found.append(int(environ.parent.name))
        except OSError:  # gone, or not ours
            continue
    return found


@pytest.mark.parametrize("sent", [False, "timeout"], ids=["kill-pid", "timeout"])
def test_sigterm_stops_the_program_as_ctrl_c_does_and_ends_it_by_sigterm(tmp_path, sent):
    """``kill PID`` (or a batch scheduler's time limit) on ``omnitrust compare --workers 2``: the
    pending runs are cancelled and the workers stopped, so the process pool leaves no semaphore
    behind (multiprocessing's resource tracker warned of leaked semaphores when SIGTERM simply
    killed the parent), what finished is kept and the same command resumes; the process still
    ends by SIGTERM, as its sender expects. ``timeout`` signals the command and then at once its
    whole group: the second SIGTERM, microseconds after the first, killed the parent in the
    middle of its clean-up (a review found it in 2 of 6 runs) until repeats were ignored."""
    out = tmp_path / "terminated"
    marker = f"OMNITRUST_TEST_MARK=sigterm-{os.getpid()}-{time.monotonic_ns()}"
    env = {**os.environ, "OMNITRUST_SERVER": "off", marker.split("=")[0]: marker.split("=")[1]}
    cmd = [sys.executable, "-m", "sim", *_command(out, workers=2)[3:]]
    code, _, stderr = _start_and_stop_after(cmd, out, signal.SIGTERM, group=sent, env=env)
    assert code == -signal.SIGTERM, stderr
    assert "interrupted;" in stderr and "rerun the same command to resume" in stderr, stderr
    assert "Traceback" not in stderr and "leaked" not in stderr, stderr
    deadline = time.monotonic() + 10  # the workers and the forkserver are gone too
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _processes_with(marker), "processes of the terminated command are left"
    kept = {p: p.stat().st_mtime_ns for p in _run_files(out)}
    assert 3 <= len(kept) < TOTAL_RUNS
    resumed = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert len(_run_files(out)) == TOTAL_RUNS
    for path, mtime in kept.items():  # finished runs were kept, not redone
        assert path.stat().st_mtime_ns == mtime, path
