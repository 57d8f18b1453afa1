"""Sweeps: one tidy row per run and metric with the design values attached; Latin hypercubes;
robustness and regret; bad experiment files give clear errors (exit 2, no traceback)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from sim.core.errors import UserError
from sim.experiments import sweep
from sim.experiments.design import load_experiment

ROOT = Path(__file__).resolve().parents[1]
BASE = (ROOT / "scenarios" / "baseline.toml").as_posix()
SMALL = dict(days=60, consumers=2000, progress=False, workers=1)


def _experiment(tmp_path: Path, body: str, name: str = "exp.toml") -> Path:
    path = tmp_path / name
    path.write_text(f'name = "t"\nbase = "{BASE}"\n' + textwrap.dedent(body))
    return path


def test_grid_sweep_returns_one_row_per_run_and_metric_with_design_values(tmp_path):
    exp = _experiment(
        tmp_path,
        """
        replications = 2
        metrics = ["trust", "net_value"]
        [design.factors]
        "brands.Aurora.policy.security_investment" = [0.2, 0.8]
        "world.attack_pressure" = { low = 0.5, high = 2.0, levels = 3 }
        """,
    )
    r = sweep(exp, out=tmp_path / "out", **SMALL)
    t = r.table
    design = ["brands.Aurora.policy.security_investment", "world.attack_pressure"]
    assert {
        "point",
        "sample",
        *design,
        "scenario",
        "replication",
        "brand",
        "metric",
        "value",
    } <= set(t.columns)
    assert t.groupby(["point", "replication"]).ngroups == 6 * 2
    assert set(t["metric"]) == {"trust", "net_value"}
    # one row per run, brand and metric: no duplicates, same rows in every run
    assert not t.duplicated(["point", "replication", "brand", "metric"]).any()
    assert t.groupby(["point", "replication"]).size().nunique() == 1
    assert sorted(set(t[design[0]])) == [0.2, 0.8]
    assert sorted(set(t[design[1]])) == [0.5, 1.25, 2.0]
    assert len(list((tmp_path / "out" / "runs").rglob("*.parquet"))) == 12
    assert (tmp_path / "out" / "results.parquet").exists()
    assert r.robustness is None


def test_lhs_with_policies_and_worlds_gives_regret(tmp_path):
    exp = _experiment(
        tmp_path,
        """
        replications = 1
        metrics = ["net_value"]
        [design]
        method = "lhs"
        samples = 3
        seed = 4
        [design.factors]
        "brands.Aurora.policy.transparency" = { low = 0.0, high = 1.0 }
        [policies.few_emails]
        "brands.Aurora.policy.emails_per_week" = 0.5
        [policies.many_emails]
        "brands.Aurora.policy.emails_per_week" = 4.0
        [worlds.calm]
        "world.attack_pressure" = 0.5
        [worlds.hostile]
        "world.attack_pressure" = 3.0
        [robustness]
        metric = "net_value"
        brand = "Aurora"
        """,
    )
    r = sweep(exp, out=tmp_path / "out", **SMALL)
    assert r.table.groupby(["point", "replication"]).ngroups == 2 * 2 * 3
    x = r.table["brands.Aurora.policy.transparency"].drop_duplicates()
    assert len(x) == 3 and x.between(0, 1).all()
    rob = r.robustness
    assert len(rob) == 2 * 2 * 3 and (rob["regret"] >= 0).all()
    assert (rob.groupby(["world", "sample"])["regret"].min() == 0).all()
    assert list(r.max_regret["policy"]) and set(r.max_regret["policy"]) == {
        "few_emails",
        "many_emails",
    }
    assert r.max_regret["max_regret"].is_monotonic_increasing
    # the text says which per-run outcome the regret is judged on: net value is a flow, so its
    # total over the horizon by default, the mean of the last 30 days under --outcome window
    assert "Regret on net_value of Aurora (total over the horizon; max is better)" in (
        r.report_text()
    )
    r.manifest["outcome"] = "window"
    assert "Regret on net_value of Aurora (mean of the last 30 days; max is better)" in (
        r.report_text()
    )


def test_max_regret_csv_gives_the_worst_world_by_its_coordinates_too(tmp_path):
    # review issue: max_regret.csv labelled each policy's worst world ("hostile,
    # data_retention_days=730") but gave none of its values to join the other tables on
    exp = _experiment(
        tmp_path,
        """
        replications = 1
        metrics = ["net_value"]
        [design.factors]
        "brands.Aurora.policy.data_retention_days" = [365, 730]
        [policies.few_emails]
        "brands.Aurora.policy.emails_per_week" = 0.5
        [policies.some_emails]
        "brands.Aurora.policy.emails_per_week" = 2.0
        [policies.many_emails]
        "brands.Aurora.policy.emails_per_week" = 4.0
        [worlds.calm]
        "world.attack_pressure" = 0.5
        [worlds.hostile]
        "world.attack_pressure" = 3.0
        """,
    )
    out = tmp_path / "out"
    sweep(exp, out=out, days=30, consumers=500, progress=False, workers=1)
    csv = pd.read_csv(out / "max_regret.csv")
    path = "brands.Aurora.policy.data_retention_days"
    assert list(csv.columns) == [
        "policy", "mean_outcome", "worst_outcome", "max_regret", "world_of_max_regret",
        "world", "sample", path,
    ]  # fmt: skip
    # the coordinates are the experiment file's values: the grid's two data retentions (sample
    # 0 and 1 in the file's order) and the two named worlds, and the label says the same
    assert set(csv["world"]) <= {"calm", "hostile"} and set(csv[path]) <= {365, 730}
    assert (csv["sample"] == csv[path].map({365: 0, 730: 1})).all()
    assert list(csv["world_of_max_regret"]) == [
        f"{w}, data_retention_days={d}" for w, d in zip(csv["world"], csv[path], strict=True)
    ]
    # joined on them, robustness.csv holds each policy's largest regret in that world
    rob = pd.read_csv(out / "robustness.csv")
    joined = csv.merge(rob, on=["policy", "world", "sample", path], validate="one_to_one")
    assert len(joined) == 3 and (joined["regret"] == joined["max_regret"]).all()
    # and that regret is the policy's largest over the 2 x 2 worlds (three policies: with two,
    # the best one's regret is 0 everywhere and any world would pass for its worst)
    worst = rob.groupby("policy")["regret"].max()
    assert (csv.set_index("policy")["max_regret"] == worst.loc[csv["policy"]].values).all()
    assert (worst > 0).sum() >= 2


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('[design]\nmethod = "random"\n', ["design.method", "'random'", "'grid' or 'lhs'"]),
        ("replications = 0\n", ["replications", "0", "greater than or equal to 1"]),
        ('colour = "red"\n', ["unknown key 'colour'", "allowed keys:", "replications"]),
        (
            '[design.factors]\n"brands.Zed.policy.transparency" = [0.1]\n',
            ["brands.Zed.policy.transparency", "'Zed'", "Aurora, Borealis, Cirrus"],
        ),
        (
            '[design.factors]\n"world.attack_presure" = [1.0]\n',
            ["world.attack_presure", "allowed:", "attack_pressure"],
        ),
        (
            '[design.factors]\n"brands.Aurora.policy.security_investment" = [0.5, 1.5]\n',
            ["brands.Aurora.policy.security_investment", "1.5", "less than or equal to 1"],
        ),
        ('metrics = ["trust", "happiness"]\n', ["metrics", "'happiness'", "allowed:", "net_value"]),
        ('[design]\nmethod = "lhs"\n', ["design", "samples"]),
    ],
)
def test_bad_experiment_files_name_file_field_value_and_allowed(tmp_path, body, expected):
    exp = _experiment(tmp_path, body, "bad.toml")
    with pytest.raises(UserError) as info:
        sweep(exp, out=tmp_path / "out", **SMALL)
    message = str(info.value)
    assert "bad.toml" in message
    for part in expected:
        assert part in message, message
    assert not (tmp_path / "out").exists()  # nothing ran, no empty folder left behind


@pytest.mark.parametrize("base", ["baseline", "baseline.toml"])
def test_base_may_name_a_bundled_scenario(tmp_path, base):
    """As on the command line and in `extends`, a bare name that is no file next to the
    experiment is a bundled scenario (the error for a missing base lists the bundled names)."""
    exp = tmp_path / "exp.toml"
    exp.write_text(
        f'name = "t"\nbase = "{base}"\n[design.factors]\n"brands.Zed.policy.transparency" = [0.1]\n'
    )
    with pytest.raises(UserError) as info:  # the base is read, then the factor's path fails
        sweep(exp, out=tmp_path / "out", **SMALL)
    assert "no brands entry named 'Zed'; allowed: Aurora, Borealis, Cirrus" in str(info.value)


def test_cli_sweep_on_a_bundled_base_named_next_to_a_folder_of_that_name(tmp_path, monkeypatch):
    """Through the command line, from another folder: a results folder called ``baseline`` next
    to the experiment does not hide the bundled scenario; the manifest names the bundled file."""
    import json

    from sim.cli import main
    from sim.scenario.loading import load_scenario

    mine = tmp_path / "mine"
    (mine / "baseline").mkdir(parents=True)
    exp = mine / "exp.toml"
    exp.write_text('name = "t"\nbase = "baseline"\n')
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    out = tmp_path / "out"
    args = ["--days", "5", "--consumers", "10", "-r", "1", "--workers", "1", "--no-progress"]
    assert main(["sweep", str(exp), "--out", str(out), *args]) == 0
    base = json.loads((out / "manifest.json").read_text())["base"]
    expected = load_scenario(  # the base as it ran: -r 1 is part of it, as --days is
        ROOT / "scenarios" / "baseline.toml", days=5, consumers=10, replications=1
    )
    assert Path(base["path"]) == (ROOT / "scenarios" / "baseline.toml").resolve()
    assert base["hash"] == expected.content_hash()


def test_cli_sweep_with_a_base_that_is_no_file_and_no_bundled_name_exits_2_in_one_line(
    tmp_path, capsys
):
    from sim.cli import main

    exp = tmp_path / "exp.toml"
    exp.write_text('name = "t"\nbase = "basline"\n')
    assert main(["sweep", str(exp), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (line,) = err.strip().splitlines()
    bundled = ", ".join(sorted(p.stem for p in (ROOT / "scenarios").glob("*.toml")))
    assert line.startswith(
        f'{exp}: base = "basline": no such scenario file: {tmp_path / "basline"}; '
        f"looked in {tmp_path} and among the bundled scenarios; did you mean 'baseline'?"
    ), line
    assert line.endswith(f"bundled names: {bundled})"), line
    assert not (tmp_path / "out").exists()  # nothing ran, no empty folder left behind


def test_bundled_experiments_are_valid():
    for path in sorted((ROOT / "experiments").glob("*.toml")):
        exp, folder = load_experiment(path)
        assert (folder / exp.base).is_file(), path


def test_cli_bad_experiment_exits_2_without_traceback(tmp_path):
    cli = pytest.importorskip("sim.cli")
    assert hasattr(cli, "main")
    exp = _experiment(tmp_path, '[design]\nmethod = "random"\n', "bad.toml")
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from sim.cli import main; sys.exit(main())",
            "sweep",
            str(exp),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "bad.toml" in proc.stderr and "design.method" in proc.stderr


def test_scenarios_json_records_the_replications_the_sweep_ran(tmp_path):
    # review: `sweep(..., replications=2)` wrote replications 5 (the base file's) for every point
    # of scenarios.json while the manifest and the results said 2
    base = tmp_path / "base.toml"
    base.write_text(f'extends = "{BASE}"\nname = "b"\n[simulation]\nwarmup_days = 30\n')
    exp = tmp_path / "exp.toml"
    exp.write_text(
        f'name = "t"\nbase = "{base.as_posix()}"\nreplications = 3\nmetrics = ["trust"]\n'
        '[design.factors]\n"brands.Aurora.policy.transparency" = [0.2, 0.8]\n'
    )
    out = tmp_path / "out"
    r = sweep(
        exp, out=out, replications=2, days=5, consumers=200, seed=7, progress=False, workers=1
    )
    assert r.table.groupby("point")["replication"].nunique().tolist() == [2, 2]
    import json

    points = json.loads((out / "scenarios.json").read_text())
    assert len(points) == 2
    for spec in points.values():  # what was asked for above, not the files' 5 and 3
        sim_ = spec["simulation"]
        assert (sim_["replications"], sim_["days"], sim_["consumers"], sim_["seed"]) == (
            2,
            5,
            200,
            7,
        )
