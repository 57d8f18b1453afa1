"""`omnitrust run --scheduler`: replications sent to a real Dask cluster give the same numbers."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from .conftest import SCENARIOS

distributed = pytest.importorskip("dask.distributed")


def test_run_on_a_dask_cluster_matches_a_local_run(tmp_path):
    args = [
        str(SCENARIOS / "breach_fast_response.toml"),
        "--consumers",
        "1500",
        "--days",
        "150",
        "--replications",
        "3",
        "--no-progress",
    ]
    local = subprocess.run(
        [sys.executable, "-m", "sim", "run", *args, "--out", str(tmp_path / "a")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert local.returncode == 0, local.stderr
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        remote = subprocess.run(
            [
                sys.executable,
                "-m",
                "sim",
                "run",
                *args,
                "--scheduler",
                cluster.scheduler_address,
                "--out",
                str(tmp_path / "b"),
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
    assert remote.returncode == 0, remote.stderr
    a = pd.read_parquet(tmp_path / "a" / "timeseries.parquet")
    b = pd.read_parquet(tmp_path / "b" / "timeseries.parquet")
    pd.testing.assert_frame_equal(a, b)
    assert (a["metric"] == "breaches").any()


def test_unreachable_scheduler_is_a_clear_error(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "run",
            str(SCENARIOS / "baseline.toml"),
            "--days",
            "5",
            "--consumers",
            "100",
            "--scheduler",
            "tcp://127.0.0.1:9",
            "--out",
            str(tmp_path / "x"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "tcp://127.0.0.1:9" in proc.stderr
