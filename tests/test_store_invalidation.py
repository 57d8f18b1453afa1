"""Stale stored runs are thrown away, exactly those (issue 16; sim/experiments/store.py).

A results folder is reused when the same command runs again. A run file counts only if it was
written for the very same run (scenario less its replication count, seed, model code). Here each
kind of staleness is produced on purpose and the rerun must redo exactly the affected runs, keep the
others untouched, and end with tables equal to a fresh run. `sweep` is also killed with SIGKILL
part-way and resumed, and run on a real Dask cluster.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.core.storage import model_sources
from sim.experiments import compare, sweep
from sim.experiments import store as store_module
from sim.runner import resolve

from .conftest import sim_imports

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
TRANSPARENT = ROOT / "scenarios" / "transparent_personalization.toml"
KW = dict(replications=3, seed=5, charts=False, progress=False, workers=1, bootstrap=200)


def scenarios(transparency: float | None = None):
    a = resolve(BASELINE, days=40, consumers=600)
    b = resolve(TRANSPARENT, days=40, consumers=600)
    if transparency is not None:
        data = b.model_dump(mode="python")
        data["brands"][0]["policy"]["transparency"] = transparency
        b = type(b).model_validate(data)
    return [a, b]


def stamps(out: Path) -> dict[str, int]:
    """Run file (relative path) -> modification time in ns."""
    return {
        str(p.relative_to(out)): p.stat().st_mtime_ns
        for p in sorted((out / "runs").rglob("*.parquet"))
    }


def assert_same_tables(a, b):
    for name in ("levels", "differences", "runs", "threshold"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), obj=name)


def redone(before: dict[str, int], after: dict[str, int]) -> set[str]:
    assert set(before) <= set(after)
    return {k for k in after if before.get(k) != after[k]}


def test_changed_lever_redoes_exactly_that_scenarios_runs(tmp_path):
    out = tmp_path / "reused"
    compare(scenarios(), out=out, **KW)
    before = stamps(out)
    time.sleep(0.01)
    changed = compare(scenarios(transparency=0.1), out=out, **KW)
    again = redone(before, stamps(out))
    assert again == {k for k in before if k.startswith("runs/transparent_personalization/")}
    assert len(again) == 3
    fresh = compare(scenarios(transparency=0.1), out=tmp_path / "fresh", **KW)
    assert_same_tables(changed, fresh)


@pytest.mark.parametrize("kind", ["run", "summary"])
def test_truncated_file_is_redone_and_nothing_else(tmp_path, kind):
    out = tmp_path / "reused"
    first = compare(scenarios(), out=out, **KW)
    before = stamps(out)
    victim = sorted((out / "runs" / "baseline").glob("*.parquet"))[1]
    target = victim if kind == "run" else out / "summaries" / victim.relative_to(out / "runs")
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 3])
    if kind == "run":
        before.pop(str(victim.relative_to(out)))
    time.sleep(0.01)
    second = compare(scenarios(), out=out, **KW)
    after = stamps(out)
    assert redone(before, after) == ({str(victim.relative_to(out))} if kind == "run" else set())
    assert_same_tables(first, second)


def test_changed_code_fingerprint_redoes_every_run(tmp_path, monkeypatch):
    out = tmp_path / "reused"
    first = compare(scenarios(), out=out, **KW)
    before = stamps(out)
    monkeypatch.setattr(store_module, "model_fingerprint", lambda: "other model code")
    time.sleep(0.01)
    second = compare(scenarios(), out=out, **KW)
    assert redone(before, stamps(out)) == set(before) and len(before) == 9
    assert_same_tables(first, second)


def test_the_fingerprint_covers_every_module_the_model_imports():
    # the model package and, through its imports, the kernels, the parameter tables, the
    # constants and the block sums: a change to any of them changes numbers, so must change the
    # fingerprint that keys stored runs and saved warm-ups
    sim_root = ROOT / "sim"
    todo = [*sorted((sim_root / "model").glob("*.py")), sim_root / "runner.py"]
    closure: set[Path] = set()
    while todo:
        module = todo.pop().resolve()
        if module in closure:
            continue
        closure.add(module)
        if module != (sim_root / "runner.py").resolve():  # runner's own imports draw charts
            todo += sorted(sim_imports(module, sim_root))
    hashed = {p.resolve() for p in model_sources()}
    missing = sorted(p.relative_to(sim_root).as_posix() for p in closure - hashed)
    assert not missing, f"imported by the model but not in the fingerprint: {missing}"
    for needed in ("core/blocks.py", "core/constants.py", "scenario/paramdoc.py"):
        assert (sim_root / needed).resolve() in closure


# -- sweep: kill -9 and resume; Dask ---------------------------------------------------------------
def _experiment(tmp_path: Path) -> Path:
    path = tmp_path / "exp.toml"
    path.write_text(
        f'name = "k"\nbase = "{BASELINE.as_posix()}"\nreplications = 3\n'
        'metrics = ["trust", "net_value", "breach_cost"]\n'
        "[design.factors]\n"
        '"brands.Aurora.policy.security_investment" = [0.2, 0.5, 0.8]\n'
        '"world.attack_pressure" = [1.0, 4.0]\n'
    )
    return path


SWEEP_SIZE = ["--days", "60", "--consumers", "1500", "--seed", "3"]
RUNS = 3 * 2 * 3


def _sweep_cmd(exp: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "sim",
        "sweep",
        str(exp),
        "--out",
        str(out),
        *SWEEP_SIZE,
        "--workers",
        "1",
        "--no-progress",
    ]


def test_sweep_killed_with_sigkill_resumes_and_matches_a_straight_run(tmp_path):
    exp = _experiment(tmp_path)
    killed, straight = tmp_path / "killed", tmp_path / "straight"
    proc = subprocess.Popen(
        _sweep_cmd(exp, killed),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 180
    while len(list((killed / "runs").rglob("*.parquet")) if (killed / "runs").exists() else []) < 3:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no run files appeared"
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    kept = stamps(killed)
    assert 3 <= len(kept) < RUNS, "the kill should land part-way"
    assert not (killed / "results.parquet").exists()
    resumed = subprocess.run(_sweep_cmd(exp, killed), cwd=ROOT, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    after = stamps(killed)
    assert len(after) == RUNS and redone(kept, after) == set(after) - set(kept)
    done = subprocess.run(_sweep_cmd(exp, straight), cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    pd.testing.assert_frame_equal(
        pd.read_parquet(killed / "results.parquet"), pd.read_parquet(straight / "results.parquet")
    )


def test_sweep_on_a_dask_cluster_matches_in_process(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    exp = _experiment(tmp_path)
    size = dict(days=40, consumers=800, seed=3, progress=False)
    local = sweep(exp, out=tmp_path / "local", workers=1, **size)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=":0",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        remote = sweep(exp, out=tmp_path / "dask", client=client, **size)
    pd.testing.assert_frame_equal(local.table, remote.table)
    assert remote.manifest["executor"] != local.manifest["executor"]
