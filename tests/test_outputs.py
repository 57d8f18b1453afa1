"""`omnitrust run` end to end: the outputs folder, its provenance, errors, determinism."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from sim.core.storage import read_parquet_meta

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
BREACH = ROOT / "scenarios" / "breach_data_maximalist.toml"
SMALL = ["--consumers", "3000", "--days", "60", "--replications", "2"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
COLUMNS = ["scenario", "replication", "day", "brand", "channel", "metric", "value"]


def omnitrust(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the CLI as a user would (``python -m sim.cli`` is the `omnitrust` entry point)."""
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from sim.cli import main; sys.exit(main())",
            *map(str, args),
        ],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        timeout=600,
    )


@pytest.fixture(scope="module")
def baseline_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("run") / "tmp"
    proc = omnitrust("run", BASELINE, *SMALL, "--out", out)
    return out, proc


def test_run_exits_zero_and_writes_every_file(baseline_run):
    out, proc = baseline_run
    assert proc.returncode == 0, proc.stderr
    for name in (
        "timeseries.parquet",
        "summary.csv",
        "manifest.json",
        "trust.png",
        "revenue.png",
        "consent.png",
    ):
        assert (out / name).is_file(), name
    assert not list(out.glob(".*.tmp")), "temporary files left behind"
    assert "Aurora" in proc.stdout and str(out) in proc.stdout


def test_parquet_has_tidy_columns_and_provenance(baseline_run):
    out, _ = baseline_run
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert list(ts.columns) == COLUMNS
    assert set(ts["scenario"]) == {"baseline"}
    assert sorted(ts["replication"].unique()) == [0, 1]
    assert ts["day"].max() == 59
    assert {"Aurora", "Borealis", "Cirrus", "all"} <= set(ts["brand"])
    meta = read_parquet_meta(out / "timeseries.parquet")
    scen = meta["scenarios"]["baseline"]
    assert len(scen["hash"]) == 64 and scen["replications"] == 2 and scen["days"] == 60
    assert scen["consumers"] == 3000
    assert {"python", "numpy", "pandas", "omnitrust"} <= set(meta["versions"])
    assert pq.read_metadata(out / "timeseries.parquet").num_rows == len(ts)


def test_summary_has_intervals_per_brand_and_channel(baseline_run):
    out, _ = baseline_run
    summ = pd.read_csv(out / "summary.csv")
    assert {
        "scenario",
        "brand",
        "channel",
        "metric",
        "mean",
        "ci_low",
        "ci_high",
        "replications",
        "window_days",
    } <= set(summ.columns)
    trust = summ[(summ["metric"] == "trust") & (summ["brand"] != "all")]
    assert set(trust["brand"]) == {"Aurora", "Borealis", "Cirrus"}
    assert (trust["ci_low"] <= trust["mean"]).all() and (trust["mean"] <= trust["ci_high"]).all()
    assert (summ["replications"] == 2).all()
    assert {"store", "web", "all"} <= set(summ.loc[summ["metric"] == "revenue", "channel"])


def test_manifest_has_hashes_seeds_versions_command_and_files(baseline_run):
    out, _ = baseline_run
    manifest = json.loads((out / "manifest.json").read_text())
    scen = manifest["scenarios"]["baseline"]
    assert len(scen["hash"]) == 64
    assert isinstance(scen["seed"], int) and len(scen["replication_seeds"]) == 2
    assert manifest["versions"]["omnitrust"]
    assert "run" in manifest["command"]
    for name in manifest["files"]:
        assert (out / name).is_file(), name


def test_charts_are_valid_non_empty_pngs(baseline_run):
    out, _ = baseline_run
    for png in out.glob("*.png"):
        data = png.read_bytes()
        assert data[:8] == PNG_MAGIC, png.name
        assert len(data) > 10_000, png.name  # a drawn chart, not an empty canvas


def test_breach_scenario_adds_breach_window_and_report(tmp_path):
    out = tmp_path / "breach"
    proc = omnitrust(
        "run",
        BASELINE,
        BREACH,
        "--consumers",
        "2000",
        "--days",
        "150",
        "--replications",
        "2",
        "--out",
        out,
        "--report",
        "--no-progress",
    )
    assert proc.returncode == 0, proc.stderr
    assert (out / "breach_window.png").read_bytes()[:8] == PNG_MAGIC
    assert "<h2>Verdict</h2>" in (out / "report.html").read_text()
    if (out / "report.pdf").exists():  # printed when Chromium is installed (tests/test_report.py)
        assert (out / "report.pdf").read_bytes().startswith(b"%PDF")
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert set(ts["scenario"]) == {"baseline", "breach_data_maximalist"}


def test_same_seed_gives_identical_timeseries_in_one_process_or_two_workers(tmp_path):
    once = tmp_path / "once"
    proc = omnitrust("run", BASELINE, *SMALL, "--out", once, "--no-progress")
    assert proc.returncode == 0, proc.stderr
    # again, in two worker processes, into the default folder results/<scenario name>
    proc = omnitrust("run", BASELINE, *SMALL, "--workers", "2", "--no-progress", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    again = tmp_path / "results" / "baseline"
    pd.testing.assert_frame_equal(
        pd.read_parquet(once / "timeseries.parquet"), pd.read_parquet(again / "timeseries.parquet")
    )


@pytest.mark.parametrize(
    "args",
    [
        ("run", "scenarios/no_such_scenario.toml", "--out", "{tmp}"),
        ("run", "scenarios/baseline.toml", "--days", "0", "--out", "{tmp}"),
        ("run", "scenarios/baseline.toml", "--consumers", "-5", "--out", "{tmp}"),
    ],
)
def test_bad_input_exits_2_without_traceback(tmp_path, args):
    proc = omnitrust(*(a.format(tmp=tmp_path / "out") for a in args))
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip(), "the user is told what is wrong"
    assert not (tmp_path / "out" / "timeseries.parquet").exists()


def test_python_api_uses_the_same_names(tmp_path):
    import sim

    result = sim.run(BASELINE, replications=2, days=40, consumers=1500)
    assert result.plot_trust() is not None
    assert result.plot_revenue() is not None
    assert result.plot_consent() is not None
    written = result.save(tmp_path / "api")
    assert {"timeseries.parquet", "summary.csv", "manifest.json"} <= set(written)
    assert result.report(tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")


def test_a_run_shorter_than_the_summary_window_says_how_many_days_it_averaged(tmp_path):
    """10 days: summary.csv, the manifest and the report's table say the 10 days the means are
    over (they said 30, the window, though a 10-day run has only 10)."""
    import sim
    from sim.analysis import findings, report

    result = sim.run(BASELINE, replications=1, days=10, consumers=300)
    out = tmp_path / "short"
    result.save(out, plots=False)
    summ = pd.read_csv(out / "summary.csv")
    assert set(summ["window_days"]) == {10}
    # the mean is over all 10 days (days 0-9), by hand from the stored table
    ts = pd.read_parquet(out / "timeseries.parquet")
    sel = ts[(ts["metric"] == "trust") & (ts["brand"] == "Aurora") & (ts["channel"] == "all")]
    assert sorted(sel["day"]) == list(range(10))
    row = summ[(summ["metric"] == "trust") & (summ["brand"] == "Aurora")]
    assert row["mean"].iloc[0] == pytest.approx(sel["value"].mean())
    assert read_parquet_meta(out / "timeseries.parquet")["summary_window_days"] == 10
    html = report.build_html(findings.load_results(out))
    assert "<th>trust, all 10 days</th>" in html and "last 30 days" not in html


def test_a_sweep_and_a_report_criterion_of_short_runs_say_every_day_is_averaged(tmp_path):
    """Runs of 10 days: a ``window`` outcome is the mean of all 10 days (`summarise`'s rule), so
    the sweep's regret line and the report's criterion say so; they said "the last 30 days"."""
    from sim.analysis.findings import Criterion
    from sim.analysis.style import metric_label
    from sim.experiments.sweep import SweepResult

    manifest = {
        "outcome": "auto",
        "robustness": {"metric": "trust", "brand": "Aurora", "direction": "max"},
    }
    (tmp_path / "scenarios.json").write_text(json.dumps({"p0": {"simulation": {"days": 10}}}))
    sweep = SweepResult(pd.DataFrame(), None, None, tmp_path, manifest)
    assert sweep._regret_on() == "Regret on trust of Aurora (mean of all 10 days; max is better)"
    (tmp_path / "scenarios.json").write_text(json.dumps({"p0": {"simulation": {"days": 365}}}))
    assert "(mean of the last 30 days; max" in sweep._regret_on()
    assert (
        Criterion("trust", "max", "window", days=10).label()
        == "mean trust (0-1, mean of all 10 days)"
    )
    assert metric_label("trust", "window", days=45) == "mean trust (0-1, mean of the last 30 days)"
