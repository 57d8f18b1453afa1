"""Calibration, sensitivity and verdicts under parameter uncertainty (tiny sizes).

Expected values come from outside the code under test: Ishigami's analytic Sobol indices and a
linear function's elementary effects (SALib wiring), the model's own structure (a brand's gross
margin cannot move trust, so its indices on trust are zero), plain `simulate` runs of the drawn
parameter sets (posterior draws in compare), and an uninterrupted run (kill -9 and resume).
"""

from __future__ import annotations

import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.calibration.sensitivity import analyse, problem, sample
from sim.calibration.spec import SensitivitySpec
from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
# the defaults the sixth fit ran on
SIXTH_DEFAULTS = ROOT / "calibration" / "sixth-defaults" / "baseline.toml"
TP = ROOT / "scenarios" / "transparent_personalization.toml"

TINY = f"""
scenario = "{BASELINE}"
replications = 2
days = 60
consumers = 1000
"""

CALIBRATION = (
    TINY
    + """
trials = 6
batch = 2
[posterior]
population = 5
generations = 2
draws = 40
[confirm]
top = 3
replications = 3
[[parameters]]
path = "trust.negative_weight"
low = 1.0
high = 6.0
[[parameters]]
path = "consent.intercept"
low = -4.0
high = 0.0
[[targets]]
name = "aurora_trust"
metric = "trust"
brand = "Aurora"
days = [30, 60]
value = 0.52
low = 0.50
high = 0.54
[[targets]]
name = "consent"
metric = "consent_rate"
brand = "Aurora"
days = [30, 60]
value = 0.3
low = 0.2
high = 0.4
[[validation]]
evidence = "unsubscribe_per_email"
"""
)


def _write(tmp_path: Path, text: str, name: str = "cal.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# ----------------------------------------------------------------------------- bad input
_FIRST_TARGET = '[[targets]]\nname = "aurora_trust"'


def _start(tables: str, expected: list[str]) -> tuple[str, str, list[str]]:
    """A bad-input case: ``tables`` (start points) put before the first target."""
    return _FIRST_TARGET, f"{tables}\n{_FIRST_TARGET}", expected


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'path = "trust.negative_weight"',
            'path = "trust.negative_wieght"',
            ['parameters[0].path = "trust.negative_wieght"', "negative_weight", "allowed"],
        ),
        ("low = 1.0", "low = 0.5", ["parameters[0].low = 0.5", "[1, 50]"]),
        ('metric = "trust"', 'metric = "trusst"', ["targets[0]", "trusst", "allowed", "trust"]),
        ('brand = "Aurora"', 'brand = "Auora"', ['targets[0].brand = "Auora"', "Aurora"]),
        ("high = 0.54", "high = 0.49", ["targets[0]", "empty band", "0.49"]),
        (
            'evidence = "unsubscribe_per_email"',
            'evidence = "unsubscribes"',
            ["validation[0]", "unsubscribes", "unsubscribe_per_email"],
        ),
        ("trials = 6", "trials = 0", ["trials = 0", "greater than"]),
        _start(
            "[[start]]\ntrust.negative_weight = 9.0",
            ["start[0].trust.negative_weight = 9.0", "outside", "[1, 6]"],
        ),
        _start(
            "[[start]]\ntrust.positive_weight = 2.0",
            ["start[0].trust.positive_weight = 2.0", "not a parameter", "consent.intercept"],
        ),
        _start(
            '[[start]]\n"consent.intercept" = "low"',
            ['start[0].consent.intercept = "low"', "not a number", "[-4, 0]"],
        ),
        _start(  # TOML keeps a dotted and a quoted key apart; as one parameter, neither may win
            '[[start]]\ntrust.negative_weight = 2.5\n"trust.negative_weight" = 3.5',
            ["start[0]", "trust.negative_weight", "twice", "2.5", "3.5", "once"],
        ),
        _start(  # one [start] table instead of an array of tables
            "[start]\ntrust.negative_weight = 2.5",
            ["start", "one [start] table", "[[start]]"],
        ),
        ("trials = 6", "start = [2.5, -1.0]\ntrials = 6", ["start[0] = 2.5", "[[start]]"]),
        _start(
            "[[start]]\ntrust.negative_weight = nan",
            ["start[0].trust.negative_weight = nan", "not a number", "[1, 6]"],
        ),
    ],
)
def test_bad_calibration_files_exit_2_naming_file_field_value_and_allowed(
    tmp_path, capsys, old, new, expected
):
    assert old in CALIBRATION
    path = _write(tmp_path, CALIBRATION.replace(old, new, 1))
    code = main(["calibrate", str(path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert str(path) in err
    for text in expected:
        assert text in err, (text, err)
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()  # nothing made before the input is known good


def test_trials_option_below_the_start_points_exits_2_before_a_folder_is_made(tmp_path, capsys):
    # Two [[start]] points are trials 0 and 1: --trials 1 would drop the second without a word,
    # as a file with trials = 1 is refused; --trials 0 is refused before the folder is made too.
    path = _write(
        tmp_path,
        CALIBRATION.replace(
            '[[targets]]\nname = "aurora_trust"',
            "[[start]]\ntrust.negative_weight = 2.5\n[[start]]\nconsent.intercept = -1.0\n"
            '[[targets]]\nname = "aurora_trust"',
            1,
        ),
    )
    for n, expected in (
        (1, [str(path), "trials = 1", "2 [[start]] points", "at least 2"]),
        (0, ["at least 1", "0"]),
    ):
        out = tmp_path / f"out{n}"
        code = main(["calibrate", str(path), "--out", str(out), "--trials", str(n)])
        err = capsys.readouterr().err
        assert code == 2, err
        assert "Traceback" not in err
        for text in ["--trials", *expected]:
            assert text in err, (text, err)
        assert not out.exists()  # nothing made before the input is known good


def test_bad_sensitivity_reference_is_named(tmp_path, capsys):
    path = _write(
        tmp_path,
        TINY
        + """
[[parameters]]
path = "trust.negative_weight"
low = 1.0
high = 2.0
[[outputs]]
metric = "trust"
reference = "nowhere.toml"
""",
        "sens.toml",
    )
    assert main(["sensitivity", str(path), "--out", str(tmp_path / "o")]) == 2
    assert "nowhere.toml" in capsys.readouterr().err


# ----------------------------------------------------------------------------- SALib wiring
def _spec(paths, bounds, method="sobol", samples=1024) -> SensitivitySpec:
    return SensitivitySpec(
        scenario="unused.toml",
        method=method,
        samples=samples,
        bootstrap=200,
        parameters=[
            {"path": p, "low": lo, "high": hi} for p, (lo, hi) in zip(paths, bounds, strict=True)
        ],
        outputs=[{"metric": "trust"}],
    )


def test_sobol_wiring_recovers_ishigami_indices():
    """Ishigami (a=7, b=0.1) on [-pi, pi]^3: S1 = (0.3139, 0.4424, 0), ST = (0.5576, 0.4424,
    0.2437) (Ishigami & Homma 1990; Sobol' & Levitan 1999)."""
    spec = _spec(["x1", "x2", "x3"], [(-math.pi, math.pi)] * 3)
    prob = problem(spec)
    x = sample(spec, prob, seed=3)
    y = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])
    t = analyse(spec, prob, x, y, seed=3)
    np.testing.assert_allclose(t["S1"], [0.3139, 0.4424, 0.0], atol=0.05)
    np.testing.assert_allclose(t["ST"], [0.5576, 0.4424, 0.2437], atol=0.05)
    assert (t["S1_conf"] > 0).all() and (t["ST_conf"] > 0).all()


def test_morris_wiring_gives_a_linear_functions_coefficients():
    """y = 3 x1 - x2 on [0, 1]^3: every elementary effect is the coefficient (mu* = |coef|,
    sigma = 0), and x3 has none."""
    spec = _spec(["x1", "x2", "x3"], [(0.0, 1.0)] * 3, method="morris", samples=20)
    prob = problem(spec)
    x = sample(spec, prob, seed=1)
    y = 3 * x[:, 0] - x[:, 1]
    t = analyse(spec, prob, x, y, seed=1)
    np.testing.assert_allclose(t["mu_star"], [3.0, 1.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(t["sigma"], [0.0, 0.0, 0.0], atol=1e-9)


# ----------------------------------------------------------------------------- real model
def test_sensitivity_on_the_model_gives_zero_to_a_parameter_trust_never_reads(tmp_path, capsys):
    """Gross margin only converts revenue into value: its Sobol indices on trust are exactly
    zero, while trust's asymmetry weight moves trust."""
    path = _write(
        tmp_path,
        TINY
        + f"""
method = "sobol"
samples = 4
bootstrap = 50
[[parameters]]
path = "trust.negative_weight"
low = 1.0
high = 8.0
[[parameters]]
path = "brands.Aurora.gross_margin"
low = 0.1
high = 0.6
[[outputs]]
name = "trust"
metric = "trust"
brand = "Aurora"
[[outputs]]
name = "tp_gain"
metric = "trust"
brand = "Aurora"
scenario = "{TP}"
reference = "{BASELINE}"
""",
        "sens.toml",
    )
    out = tmp_path / "out"
    assert main(["sensitivity", str(path), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    t = pd.read_csv(out / "indices.csv")
    assert list(t.columns) == ["output", "parameter", "S1", "S1_conf", "ST", "ST_conf"]
    margin = t[t["parameter"] == "brands.Aurora.gross_margin"]
    assert (margin[["S1", "ST"]].abs() < 1e-12).all().all()
    weight = t[(t["parameter"] == "trust.negative_weight") & (t["output"] == "trust")]
    assert float(weight["ST"].iloc[0]) > 0.5
    s = pd.read_parquet(out / "samples.parquet")
    assert len(s) == 4 * (2 + 2)  # Saltelli without second order: N (D + 2)
    # the tornado: one parameter at a time, at the ends of its range, the other at its midpoint,
    # with the same random numbers: the margin, which trust never reads, moves trust by nothing
    # at all (a confounded mean over the samples gave it a bar as long as a real driver's)
    sw = pd.read_csv(out / "swings.csv").set_index(["output", "parameter"])
    margin = sw.loc[("trust", "brands.Aurora.gross_margin")]
    assert (margin["low"], margin["high"]) == (0.1, 0.6)
    assert margin["at_low"] == margin["at_high"] == margin["centre"]
    weight = sw.loc[("trust", "trust.negative_weight")]
    assert (weight["low"], weight["high"]) == (1.0, 8.0)
    assert weight["at_low"] > weight["centre"] > weight["at_high"]  # more weight on bad news
    assert (out / "charts" / "tornado.png").stat().st_size > 0
    assert (out / "charts" / "indices.png").stat().st_size > 0
    # the provenance names the libraries that drew the samples and computed the indices
    from importlib.metadata import version

    recorded = json.loads((out / "manifest.json").read_text())["versions"]
    for package in ("SALib", "optuna", "pyabc"):
        assert recorded[package] == version(package)


def _run_cli(args, **kw):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    return subprocess.Popen(
        [sys.executable, "-m", "sim", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def _complete_trials(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db) as con:
            return con.execute("select count(*) from trials where state = 'COMPLETE'").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_calibrate_killed_and_resumed_equals_an_uninterrupted_run_with_other_workers(tmp_path):
    path = _write(tmp_path, CALIBRATION)
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    p = _run_cli(["calibrate", str(path), "--out", str(whole), "--workers", "1"])
    out, err = p.communicate(timeout=600)
    assert p.returncode == 0, err

    p = _run_cli(["calibrate", str(path), "--out", str(resumed), "--workers", "2"])
    deadline = time.time() + 300
    while _complete_trials(resumed / "optuna.db") < 2 and time.time() < deadline:
        time.sleep(0.2)
    assert p.poll() is None, "finished before it could be killed"
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    assert not (resumed / "parameters.csv").exists()
    p = _run_cli(["calibrate", str(path), "--out", str(resumed), "--workers", "2"])
    out2, err2 = p.communicate(timeout=600)
    assert p.returncode == 0, err2

    for name in ("parameters.csv", "fit.csv", "validation.csv", "trials.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(whole / name), pd.read_csv(resumed / name))
    pd.testing.assert_frame_equal(
        pd.read_parquet(whole / "posterior.parquet"), pd.read_parquet(resumed / "posterior.parquet")
    )
    import json

    scales = [
        json.loads((d / "manifest.json").read_text())["noise_scales"] for d in (whole, resumed)
    ]
    assert scales[0] == scales[1]  # fixed by the first batch, read back by the resumed run
    assert all(row["sigma"] > 0 and row["scale"] > row["half_band"] for row in scales[0])
    assert "Distance scales" in out
    trials = pd.read_csv(whole / "trials.csv")
    assert len(trials) == 6
    params = pd.read_csv(whole / "parameters.csv")
    assert (params["low"] <= params["high"]).all()
    assert (params["low"] >= params["prior_low"]).all()
    assert (params["high"] <= params["prior_high"]).all()
    # the estimate: of the 3 best trials, the one closest on 3 fresh replications
    again = trials.dropna(subset=["confirm_distance"])
    assert set(again["trial"]) == set(trials.nsmallest(3, ["distance", "trial"])["trial"])
    chosen = again.loc[again["confirm_distance"].idxmin()]
    assert params.set_index("parameter")["estimate"]["trust.negative_weight"] == pytest.approx(
        chosen["trust.negative_weight"]
    )
    fit = pd.read_csv(whole / "fit.csv")
    # recomputed by another route (sim.simulate's tidy tables, the documented base seeds): the
    # choice's distance on the confirmation's replications (key 17), and the figures reported at
    # the estimate on a third set (key 19), the same number of replications
    import sim
    from sim.calibration.fit import _seed
    from sim.calibration.spec import load_calibration
    from sim.core.streams import replication_seed
    from sim.experiments.posterior import with_parameters

    manifest = json.loads((whole / "manifest.json").read_text())
    base = load_calibration(path).scenario  # the baseline at the file's 1,000 consumers, 60 days
    assert (base.simulation.consumers, base.simulation.days) == (1000, 60)
    point = {p: float(chosen[p]) for p in ("trust.negative_weight", "consent.intercept")}
    scenario = with_parameters(base, point)
    scales = [r["scale"] for r in manifest["noise_scales"]]
    metrics = ("trust", "consent_rate")

    def figures(key):
        means = []
        for k in range(3):
            ts = sim.simulate(scenario, replication=k, seed=_seed(manifest["seed"], key))
            aurora = ts[(ts["brand"] == "Aurora") & (ts["channel"] == "all")]
            window = aurora[(aurora["day"] >= 30) & (aurora["day"] < 60)]
            means.append([window[window["metric"] == m]["value"].mean() for m in metrics])
        model = np.mean(means, axis=0)
        return model, math.sqrt(np.mean(((model - fit["value"].to_numpy()) / scales) ** 2))

    chosen_model, chosen_distance = figures(17)
    assert chosen["confirm_distance"] == pytest.approx(chosen_distance, rel=1e-9)
    reported, reported_distance = figures(19)
    np.testing.assert_allclose(fit["model"], reported, rtol=1e-9)
    assert manifest["estimate_distance"] == pytest.approx(reported_distance, rel=1e-9)
    assert not np.allclose(reported, chosen_model)  # other random numbers
    # the three sets of replications share no seed (the fit's: replications 0, 1 of the seed)
    seeds = [replication_seed(manifest["seed"], k) for k in range(2)] + [
        replication_seed(_seed(manifest["seed"], key), k) for key in (17, 19) for k in range(3)
    ]
    assert len(set(seeds)) == len(seeds)
    assert list(fit.columns) == [
        "target", "value", "low", "high", "model", "model_low", "model_high", "within"
    ]  # fmt: skip
    assert list(fit["within"]) == [
        lo <= m <= hi for lo, m, hi in zip(fit["low"], fit["model"], fit["high"], strict=True)
    ]
    # the calibrated scenario loads and carries the estimates
    from sim.loading import load_scenario

    scn = load_scenario(whole / "calibrated.toml")
    est = params.set_index("parameter")["estimate"]
    assert scn.trust.negative_weight == pytest.approx(est["trust.negative_weight"])
    assert scn.consent.intercept == pytest.approx(est["consent.intercept"])
    for chart in ("convergence.png", "pairs.png"):
        assert (whole / "charts" / chart).stat().st_size > 0
    assert "Parameters (estimate = best of the 3 best trials re-measured on 3 fresh" in out


# A base scenario that extends another, with a brand whose name is not a bare TOML key, a
# description longer than a line, and the policies before a change given as an empty table
# (all defaults): the three things a writer could lose.
BIG_BOX = f"""
extends = "{BASELINE}"
description = "A \\"big box\\" rival joins the baseline's three brands; its name has a space, and this description is longer than eighty characters."
policy_from_day = 30
[[brands]]
name = "Big Box"
presence = 0.5
[brands.policy]
transparency = 0.3
[policy_before."Big Box"]
"""


@pytest.mark.parametrize(
    ("base", "brand"),
    [(ROOT / "scenarios" / "privacy_first_switch.toml", "Aurora"), (None, "Big Box")],
    ids=["privacy_first_switch", "big_box"],
)
def test_calibrated_toml_loads_anywhere_as_the_base_with_the_estimates(tmp_path, base, brand):
    """``calibrated.toml`` is self-contained: copied to another folder (the original gone), it
    loads as the base scenario file with the estimates set by `with_parameters`, named
    ``<name>_calibrated``; its header names the base (path, content hash) and the fitted values.
    The bundled base extends baseline.toml and switches policy on day 90 (``policy_before`` is
    filled from the parent when it loads)."""
    import shutil
    import tomllib

    from sim.calibration.fit import write_calibrated
    from sim.calibration.spec import load_calibration
    from sim.experiments.posterior import with_parameters
    from sim.loading import load_scenario

    if base is None:
        (tmp_path / "bases").mkdir()
        base = _write(tmp_path / "bases", BIG_BOX, "market.toml")
        rel = "../bases/market.toml"  # relative to the calibration file
    else:
        rel = str(base)
    assert "extends" in tomllib.loads(base.read_text())
    (tmp_path / "cal").mkdir()
    # the base's own horizon, not 60 days (the bundled base switches policy on day 90)
    text = CALIBRATION.replace(f'scenario = "{BASELINE}"', f'scenario = "{rel}"')
    text = text.replace("\ndays = 60\n", "\n")
    extra = f"""
[[parameters]]
path = "brands.{brand}.policy.transparency"
low = 0.0
high = 1.0
[[parameters]]
path = "population.social_degree"
low = 4.0
high = 20.0
"""
    loaded = load_calibration(_write(tmp_path / "cal", text + extra))
    estimate = {
        "trust.negative_weight": 2.718281828459045,
        "consent.intercept": -1.25,
        f"brands.{brand}.policy.transparency": 0.7071067811865476,
        "population.social_degree": 11.6,
    }
    ints = ["population.social_degree"]
    out = tmp_path / "fit"
    out.mkdir()
    written = write_calibrated(out, loaded, "market", estimate, ints)
    assert written == out / "calibrated.toml"

    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    moved = Path(shutil.copy(written, elsewhere / "moved.toml"))
    shutil.rmtree(out)
    content = moved.read_text()
    assert "extends" not in tomllib.loads(content)
    scenario = load_scenario(moved)

    base_scenario = load_scenario(base)
    expected = with_parameters(base_scenario, estimate, ints).model_copy(
        update={"name": "market_calibrated"}
    )
    assert scenario.content_hash() == expected.content_hash()
    assert scenario.population.social_degree == 12  # 11.6 rounded: an integer parameter
    assert scenario.simulation.consumers == base_scenario.simulation.consumers  # not the fit's
    assert scenario.policy_before == base_scenario.policy_before != {}
    assert base_scenario.content_hash() in content
    for line in (
        "#   trust.negative_weight = 2.718281828459045",
        "#   consent.intercept = -1.25",
        f"#   brands.{brand}.policy.transparency = 0.7071067811865476",
        "#   population.social_degree = 12",
    ):
        assert line in content.splitlines(), line


@pytest.mark.slow
def test_recover_reports_coverage_of_the_truth(tmp_path, capsys):
    small = CALIBRATION.replace("trials = 6", "trials = 2").replace(
        "generations = 2", "generations = 1"
    )
    path = _write(tmp_path, small)
    out = tmp_path / "rec"
    assert main(["calibrate", str(path), "--out", str(out), "--recover", "--workers", "1"]) == 0
    import json

    truth = json.loads((out / "truth.json").read_text())["truth"]
    rec = pd.read_csv(out / "recovery.csv").set_index("parameter")
    for p, (lo, hi) in {"trust.negative_weight": (1, 6), "consent.intercept": (-4, 0)}.items():
        assert lo <= truth[p] <= hi
        assert rec.loc[p, "truth"] == pytest.approx(truth[p])
        assert rec.loc[p, "covered"] == (rec.loc[p, "low"] <= truth[p] <= rec.loc[p, "high"])
    printed = capsys.readouterr().out
    assert "Recovery:" in printed
    # the report names the calibration (no `name` in the file: its file name) and its scenario
    assert "Calibration cal (of baseline):" in printed


# ----------------------------------------------------------------------------- posterior draws
def test_compare_with_a_posterior_draws_paired_parameters_per_replication(tmp_path, capsys):
    from sim.experiments.posterior import Posterior, with_parameters
    from sim.loading import load_scenario
    from sim.runner import simulate

    post = tmp_path / "posterior.parquet"
    pd.DataFrame({"draw": [0, 1], "trust.negative_weight": [1.0, 12.0]}).to_parquet(post)
    # the calibration that wrote it did not converge: ABC's last tolerance 5.36 distance units,
    # a target's half band being 1 (the bundled seventh fit's figure, docs/calibration)
    (tmp_path / "manifest.json").write_text(
        json.dumps({"kind": "calibration", "abc": {"final_epsilon": 5.36}})
    )
    copy = _write(tmp_path, f'extends = "{BASELINE}"\nname = "copy"\n', "copy.toml")
    out = tmp_path / "cmp"
    args = [str(BASELINE), str(copy), "-r", "4", "--days", "40", "--consumers", "500"]
    args += ["--workers", "1", "--out", str(out), "--posterior", str(post), "--no-progress"]
    args += ["--no-charts", "--bootstrap", "0", "--focus-brand", "Aurora"]
    assert main(["compare", *args]) == 0
    printed = capsys.readouterr().out
    assert "Verdicts under parameter uncertainty" in printed
    assert "caution: this posterior's final ABC tolerance is 5.36" in printed
    # 4 draws cannot show 95% agreement (100% of 4 is luck as often as not): no verdict
    assert "100% of 4 draws agree: too few draws to tell" in printed
    assert "holds across" not in printed
    runs = pd.read_parquet(out / "runs.parquet")
    trust = runs[(runs["metric"] == "trust") & (runs["brand"] == "Aurora")]
    wide = trust.pivot(index="replication", columns="scenario", values="value")
    # paired: the same scenario under two names gets the same draw in every replication
    np.testing.assert_array_equal(wide["baseline"], wide["copy"])
    # each replication equals a plain run of the scenario with its drawn parameters
    posterior = Posterior(post)
    scn = load_scenario(BASELINE, days=40, consumers=500)
    seed = scn.simulation.seed
    indices = {posterior.draw_index(seed, k) for k in range(4)}
    for k in range(4):
        drawn = with_parameters(scn, posterior.draw(seed, k))
        ts = simulate(drawn, k, seed)
        sel = ts[(ts["metric"] == "trust") & (ts["brand"] == "Aurora") & (ts["channel"] == "all")]
        expected = sel[sel["day"] > sel["day"].max() - 30]["value"].mean()
        assert wide["baseline"][k] == pytest.approx(expected, rel=1e-12)
    assert indices == {0, 1}, "four replications should use both draws (seeded, fixed)"
    v = pd.read_csv(out / "verdicts.csv")
    assert (v["diff"] == 0).all() and not v["holds"].any()
    assert v["verdict"].str.startswith("too few draws to tell").all()  # not "does not hold"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["posterior"]["caution"].startswith("caution: this posterior's final ABC")


@pytest.mark.parametrize(
    ("signs", "expected"),
    [
        ([1] * 19 + [-1], "95% of 20 draws agree: holds across plausible parameters"),
        ([1] * 18 + [-1] * 2, "90% of 20 draws agree: does NOT hold across plausible parameters"),
        ([1] * 3, "100% of 3 draws agree: too few draws to tell"),
    ],
)
def test_a_verdict_holds_when_95_percent_of_at_least_20_draws_agree(signs, expected):
    from sim.experiments.posterior import verdict_lines, verdicts

    k = len(signs)
    runs = pd.DataFrame(
        {
            "scenario": ["a"] * k + ["b"] * k,
            "brand": "Aurora",
            "metric": "trust",
            "replication": list(range(k)) * 2,
            "value": [0.5] * k + [0.5 + 0.01 * s for s in signs],
        }
    )
    v = verdicts(runs, "a", ["a", "b"], ["trust"], ["Aurora"])
    (line,) = verdict_lines(v, "a", Path("no/such/posterior.parquet"))[1:]
    assert expected in line, line


def test_posterior_that_does_not_fit_the_scenario_is_a_user_error(tmp_path, capsys):
    post = tmp_path / "posterior.parquet"
    pd.DataFrame({"trust.no_such_thing": [1.0]}).to_parquet(post)
    code = main(
        ["compare", str(BASELINE), "-r", "1", "--days", "10", "--consumers", "100", "--workers",
         "1", "--posterior", str(post), "--out", str(tmp_path / "c"), "--no-progress"]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "no_such_thing" in err and str(post) in err


def test_sweep_with_a_posterior_reports_how_often_the_choice_survives(tmp_path, capsys):
    post = tmp_path / "posterior.parquet"
    pd.DataFrame({"trust.negative_weight": [1.0, 3.0, 12.0]}).to_parquet(post)
    exp = _write(
        tmp_path,
        f"""name = "t"
base = "{BASELINE}"
replications = 5
metrics = ["trust"]
[policies.opaque]
"brands.Aurora.policy.transparency" = 0.0
[policies.transparent]
"brands.Aurora.policy.transparency" = 1.0
[robustness]
metric = "trust"
brand = "Aurora"
""",
        "exp.toml",
    )
    out = tmp_path / "sw"
    args = ["sweep", str(exp), "--days", "40", "--consumers", "500", "--workers", "1"]
    assert main([*args, "--out", str(out), "--posterior", str(post), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    table = pd.read_parquet(out / "results.parquet")
    aurora = table[(table["brand"] == "Aurora") & (table["metric"] == "trust")]
    wide = aurora.pivot(index="replication", columns="policy", values="value")
    # single world: the minimax-regret choice of a draw is the policy with the higher trust
    per_draw = wide.idxmax(axis=1)
    overall = wide.mean().idxmax()
    import json

    verdict = json.loads((out / "manifest.json").read_text())["verdict"]
    assert verdict["policy"] == overall
    assert verdict["share_same_choice"] == pytest.approx((per_draw == overall).mean())
    # 5 draws: too few for a verdict whatever their agreement (at least 20 are needed)
    assert verdict["holds"] is False and verdict["caveat"] is None
    assert f"in {(per_draw == overall).mean():.0%} of 5 draws; too few draws to tell" in printed
    assert "Verdict under parameter uncertainty" in printed
    # the draws differ between replications, so the levels do too
    assert wide["opaque"].nunique() > 1


def test_sensitivity_on_a_dask_cluster_gives_the_numbers_of_a_local_run(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    from sim.calibration import sensitivity

    path = _write(
        tmp_path,
        TINY.replace("replications = 2", "replications = 1")
        + """
method = "morris"
samples = 3
bootstrap = 20
[[parameters]]
path = "trust.negative_weight"
low = 1.0
high = 8.0
[[parameters]]
path = "world.contagion"
low = 0.0
high = 0.6
[[outputs]]
metric = "trust"
brand = "Aurora"
""",
        "sens.toml",
    )
    local = sensitivity(path, tmp_path / "a", workers=1, progress=False)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        remote = sensitivity(path, tmp_path / "b", client=client, progress=False)
    pd.testing.assert_frame_equal(local.samples, remote.samples)
    pd.testing.assert_frame_equal(local.indices, remote.indices)
    assert list(local.indices.columns) == [
        "output", "parameter", "mu_star", "mu_star_conf", "sigma"
    ]  # fmt: skip


@pytest.mark.slow
def test_sensitivity_stopped_and_rerun_resumes_to_an_uninterrupted_runs_numbers(tmp_path):
    """A Sobol or Morris study is hours at real sizes: Ctrl-C keeps every finished evaluation,
    says how many, and the same command resumes, here with another worker count, to the indices
    and samples of an uninterrupted run (SIGTERM takes the same path: `Terminated` is a
    `KeyboardInterrupt`). The seed is this test's own, so no warm-up of another test is in the
    cache to make the first run finish before the stop."""
    stop = signal.SIGINT
    path = _write(
        tmp_path,
        TINY.replace("replications = 2", "replications = 1").replace(
            "consumers = 1000", "consumers = 3000"
        )
        + """
method = "morris"
samples = 6
bootstrap = 20
[[parameters]]
path = "trust.negative_weight"
low = 1.0
high = 8.0
[[parameters]]
path = "trust.churn_rate"
low = 0.01
high = 0.1
[[outputs]]
metric = "trust"
brand = "Aurora"
""",
        "sens.toml",
    )
    seed = "4711"
    stopped = tmp_path / "stopped"
    p = _run_cli(
        ["sensitivity", str(path), "--out", str(stopped), "--seed", seed, "--workers", "2"]
    )
    deadline = time.time() + 300
    while len(list((stopped / "evaluations").glob("*.npy"))) < 2 and time.time() < deadline:
        time.sleep(0.1)
    assert p.poll() is None, "finished before it could be stopped"
    p.send_signal(stop)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    kept = len(list((stopped / "evaluations").glob("*.npy")))
    assert kept >= 2 and f"interrupted; {kept} finished runs kept in {stopped}" in err, err
    assert "Traceback" not in err
    assert not (stopped / "indices.csv").exists()

    p = _run_cli(
        ["sensitivity", str(path), "--out", str(stopped), "--seed", seed, "--workers", "1"]
    )
    out, err = p.communicate(timeout=600)
    assert p.returncode == 0, err

    from sim.calibration import sensitivity

    whole = sensitivity(path, tmp_path / "whole", workers=1, seed=int(seed), progress=False)
    resumed_samples = pd.read_parquet(stopped / "samples.parquet")
    assert len(resumed_samples) == 6 * (2 + 1)  # Morris: N (D + 1) points
    pd.testing.assert_frame_equal(resumed_samples, whole.samples)
    pd.testing.assert_frame_equal(
        pd.read_csv(stopped / "indices.csv"), pd.read_csv(whole.out / "indices.csv")
    )


def test_stored_measurements_run_a_repeated_task_once_and_are_read_back(tmp_path, monkeypatch):
    """Morris trajectories and integer parameters revisit points: each distinct task is run
    once (the review counted 17 runs for 4 distinct tasks) and every repeat gets its values; a
    second call runs nothing."""
    from sim.calibration import measure
    from sim.experiments.executors import TaskMap

    calls = []

    def fake(task):
        calls.append(task)
        return np.array([float(task[1]), float(len(task[0]["name"]))])

    monkeypatch.setattr(measure, "measure_task", fake)
    a, b = ({"name": "a"}, 0, 7, []), ({"name": "bb"}, 1, 7, [])
    tasks = [a, b, a, a, b]
    got = measure.measure_stored(tasks, TaskMap(), tmp_path / "evaluations")
    assert len(calls) == 2
    expected = [[0, 1], [1, 2], [0, 1], [0, 1], [1, 2]]
    np.testing.assert_array_equal(np.vstack(got), expected)
    assert len(list((tmp_path / "evaluations").glob("*.npy"))) == 2
    again = measure.measure_stored(tasks, TaskMap(), tmp_path / "evaluations")
    assert len(calls) == 2  # all read back
    np.testing.assert_array_equal(np.vstack(again), expected)


def test_the_tornado_shows_both_ends_and_ranks_by_the_farther_one():
    """Review: when both ends move the output the same way (here `u`: a U-shaped effect) the
    low-end bar was drawn under the high-end one and hidden, and |high - low| ranked it last."""
    from sim.calibration.plots import tornado_figure

    swings = pd.DataFrame(
        {
            "output": "trust",
            "parameter": ["trust.u", "trust.line"],
            "centre": 0.5,
            "at_low": [0.58, 0.49],  # u: both ends 0.08 and 0.09 above the centre
            "at_high": [0.59, 0.52],  # line: 0.01 below and 0.02 above
        }
    )
    ax = tornado_figure(swings).axes[0]
    bars = {}
    for patch in ax.patches:
        y0, y1 = patch.get_y(), patch.get_y() + patch.get_height()
        x0, x1 = sorted((patch.get_x(), patch.get_x() + patch.get_width()))
        bars[(round(y0, 3), round(y1, 3))] = (round(x0, 6), round(x1, 6))
    # row 1 (the top) is u, ranked first by its farther end (0.09 > 0.02); each end has its own
    # half of the row, so neither hides the other
    assert [t.get_text() for t in ax.get_yticklabels()] == ["line", "u"]
    assert bars[(1.0, 1.4)] == (0.5, 0.58) and bars[(0.6, 1.0)] == (0.5, 0.59)
    assert bars[(0.0, 0.4)] == (0.49, 0.5) and bars[(-0.4, 0.0)] == (0.5, 0.52)


# ----------------------------------------------------------------------------- recovery coverage
def _recovery_coverage_module():
    from .conftest import benchmark_module

    return benchmark_module("recovery_coverage")


def test_recovery_coverage_counts_the_intervals_that_cover_the_truth():
    rc = _recovery_coverage_module()
    # two seeds, two parameters; prior ranges 0-10 and 0-1 (hand-counted below)
    tables = {
        1: pd.DataFrame(
            {
                "parameter": ["a", "b"],
                "truth": [5.0, 0.5],
                "low": [4.0, 0.6],
                "high": [6.0, 0.9],
                "covered": [True, False],
            }
        ),
        2: pd.DataFrame(
            {
                "parameter": ["a", "b"],
                "truth": [1.0, 0.2],
                "low": [0.0, 0.1],
                "high": [8.0, 0.3],
                "covered": [True, True],
            }
        ),
    }
    priors = pd.DataFrame(
        {"parameter": ["a", "b"], "prior_low": [0.0, 0.0], "prior_high": [10.0, 1.0]}
    )
    table = rc.coverage(tables, priors).set_index("parameter")
    assert table.loc["a", "covered"] == 2 and table.loc["a", "coverage"] == 1.0
    assert table.loc["b", "covered"] == 1 and table.loc["b", "coverage"] == 0.5
    assert table.loc["all", "intervals"] == 4 and table.loc["all", "coverage"] == 0.75
    # widths over the prior range: a (0.2 + 0.8) / 2, b (0.3 + 0.2) / 2, all of them / 4
    assert table.loc["a", "mean_width_of_prior"] == pytest.approx(0.5)
    assert table.loc["b", "mean_width_of_prior"] == pytest.approx(0.25)
    assert table.loc["all", "mean_width_of_prior"] == pytest.approx(0.375)


def test_recovery_coverage_copies_the_file_with_a_smaller_posterior(tmp_path):
    rc = _recovery_coverage_module()
    copy = rc.small_file(ROOT / "calibration" / "sixth.toml", 7, 1, tmp_path)
    from sim.calibration.spec import load_calibration

    loaded = load_calibration(copy)
    original = load_calibration(ROOT / "calibration" / "sixth.toml")
    assert (loaded.spec.posterior.population, loaded.spec.posterior.generations) == (7, 1)
    assert loaded.spec.confirm.top == 0 and original.spec.confirm.top == 8
    assert loaded.spec.parameters == original.spec.parameters
    assert loaded.scenario.content_hash() == original.scenario.content_hash()


def test_a_trial_left_half_asked_by_a_kill_is_asked_again_as_an_uninterrupted_run_would(tmp_path):
    # A kill -9 inside Optuna's `ask` leaves a RUNNING trial with only some parameters drawn.
    # The resume must not crash on it and must end with the trials an uninterrupted run makes.
    # The model is replaced by a cheap deterministic function of the parameters: this checks the
    # study's bookkeeping, not the simulation.
    import optuna

    from sim.calibration import fit
    from sim.calibration.spec import load_calibration

    spec = load_calibration(ROOT / "calibration" / "sixth.toml").spec
    paths = [p.path for p in spec.parameters]
    targets = list(spec.targets)
    values = np.array([t.value for t in targets])

    def evaluate(points):  # per point, (replications = 2, targets), as `measure` gives
        return [
            np.vstack([values, values])
            * (1 + 0.1 * np.sin(np.arange(1, len(p) + 1) @ list(p.values())))
            for p in points
        ]

    class Killed(Exception):
        pass

    calls = []

    def dies_on_the_second_batch(points):
        calls.append(len(points))
        if len(calls) == 2:
            raise Killed
        return evaluate(points)

    n = 3 * spec.batch
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    whole = fit._optimise(tmp_path / "a", spec, paths, targets, evaluate, n, 7, lambda s: None)
    with pytest.raises(Killed):
        fit._optimise(tmp_path / "b", spec, paths, targets, dies_on_the_second_batch, n, 7, print)
    study = optuna.load_study(
        study_name=fit.STUDY, storage=f"sqlite:///{tmp_path / 'b' / 'optuna.db'}"
    )
    half = study.ask()
    half.suggest_float(paths[0], spec.parameters[0].low, spec.parameters[0].high)
    resumed = fit._optimise(tmp_path / "b", spec, paths, targets, evaluate, n, 7, lambda s: None)
    pd.testing.assert_frame_equal(
        fit._trials_table(whole, paths), fit._trials_table(resumed, paths)
    )
    assert len(fit._trials_table(resumed, paths)) == n


def test_start_points_are_the_first_trials_and_a_kill_before_their_ask_resumes(tmp_path):
    # The file's [[start]] points are trials 0, 1, ... with exactly the values written (a point
    # that leaves a parameter out has it drawn in range), the sampler carries on after them, and a
    # kill between enqueueing a point and asking it resumes as an uninterrupted run. The model is
    # a cheap deterministic function of the parameters, as in the test above.
    from sim.calibration import fit
    from sim.calibration.spec import load_calibration

    text = (ROOT / "calibration" / "sixth.toml").read_text()  # a file without start points
    path = tmp_path / "start.toml"
    path.write_text(
        text.replace('"sixth-defaults/baseline.toml"', f'"{SIXTH_DEFAULTS}"')
        + "\n[[start]]\njourney.research_days = 2.78\npopulation.digital_affinity = 0.428\n"
        '[[start]]\n"incidents.fraud_probability" = 0.3\n'
    )
    spec = load_calibration(path).spec
    paths = [p.path for p in spec.parameters]
    assert spec.start == [
        {"journey.research_days": 2.78, "population.digital_affinity": 0.428},
        {"incidents.fraud_probability": 0.3},
    ]
    targets = list(spec.targets)
    values = np.array([t.value for t in targets])

    def evaluate(points):
        return [
            np.vstack([values, values])
            * (1 + 0.1 * np.sin(np.arange(1, len(p) + 1) @ list(p.values())))
            for p in points
        ]

    n = 2 * spec.batch
    for name in ("whole", "killed", "plain"):
        (tmp_path / name).mkdir()
    whole = fit._optimise(tmp_path / "whole", spec, paths, targets, evaluate, n, 7, print)
    table = fit._trials_table(whole, paths)
    assert len(table) == n
    assert table.loc[0, "journey.research_days"] == 2.78
    assert table.loc[0, "population.digital_affinity"] == 0.428
    assert table.loc[1, "incidents.fraud_probability"] == 0.3
    for p in spec.parameters:  # the values a point left out are drawn in range
        assert p.low <= table.loc[1, p.path] <= p.high
    assert table.loc[2:, "journey.research_days"].nunique() == n - 2  # the sampler's own draws
    plain = fit._optimise(
        tmp_path / "plain", spec.model_copy(update={"start": []}), paths, targets, evaluate, n, 7,
        lambda s: None,
    )  # fmt: skip
    assert fit._trials_table(plain, paths).loc[0, "journey.research_days"] != 2.78

    _, study = fit._open_study(tmp_path / "killed")  # killed right after enqueueing point 0
    study.enqueue_trial(spec.start[0], user_attrs={fit.START: 0})
    resumed = fit._optimise(tmp_path / "killed", spec, paths, targets, evaluate, n, 7, print)
    pd.testing.assert_frame_equal(table, fit._trials_table(resumed, paths))


# ----------------------------------------------------------------------------- noise scales
def _target(value, low, high, weight=1.0, name="t"):
    from sim.calibration.spec import Target

    return Target(name=name, metric="trust", value=value, low=low, high=high, weight=weight)


def test_distance_with_noise_scales_matches_a_hand_computation():
    """Two targets, R = 2 replications, three candidates. Target a: band [0.4, 0.6] (h = 0.1);
    the candidates' two replications differ by 0.1, 0.3 and 0.2, and with two values SD = |x1 -
    x2| / sqrt(2), so sigma = median = 0.2 / sqrt(2), sigma^2 / R = 0.01 and s = sqrt(0.01 +
    0.01) = 0.1414214. Target b: band [8, 12] (h = 2), differences 4, 2, 8: sigma^2 / R = 16 /
    4 = 4, s = sqrt(4 + 4) = 2.828427. A model at (0.7, 13) with weights (1, 3): z^2 = (0.2 /
    0.1414214)^2 = 2 and (3 / 2.828427)^2 = 1.125; distance = sqrt((2 + 3 x 1.125) / 4) =
    sqrt(1.34375) = 1.159202. With the half bands alone: z^2 = 4 and 2.25, distance =
    sqrt((4 + 6.75) / 4) = 1.639360."""
    from sim.calibration.fit import distance, noise_scales

    targets = [_target(0.5, 0.4, 0.6, 1.0, "a"), _target(10.0, 8.0, 12.0, 3.0, "b")]
    runs = [
        np.array([[0.50, 10.0], [0.60, 14.0]]),
        np.array([[0.45, 9.0], [0.75, 11.0]]),
        np.array([[0.30, 7.0], [0.50, 15.0]]),
    ]
    info = noise_scales(targets, runs)
    assert info["half_band"] == pytest.approx([0.1, 2.0])
    assert info["sigma"] == pytest.approx([0.2 / math.sqrt(2), 4 / math.sqrt(2)])
    assert info["scale"] == pytest.approx([0.1414214, 2.828427], rel=1e-6)
    assert distance(np.array([0.7, 13.0]), targets, np.array(info["scale"])) == pytest.approx(
        1.159202, rel=1e-6
    )
    assert distance(np.array([0.7, 13.0]), targets) == pytest.approx(1.639360, rel=1e-6)
    # one replication: no SD, the scale is the half band
    one = noise_scales(targets, [r[:1] for r in runs])
    assert one["sigma"] == [0.0, 0.0] and one["scale"] == pytest.approx([0.1, 2.0])
    # switched off: sigma is still measured, the scale is the half band
    off = noise_scales(targets, runs, noise_scaled=False)
    assert off["scale"] == pytest.approx([0.1, 2.0]) and off["sigma"] == info["sigma"]


def test_noise_scales_are_fixed_by_the_first_batch_and_survive_kills(tmp_path, monkeypatch):
    """The model is a cheap deterministic function of the parameters whose replications spread
    by an amount that depends on the candidate, so scales taken from any other set of
    candidates than the first batch would differ. Killed while the first batch runs, while it
    is being told, and in the second batch, each resume ends with the uninterrupted run's
    scales and trials."""
    import optuna

    from sim.calibration import fit
    from sim.calibration.spec import load_calibration

    spec = load_calibration(ROOT / "calibration" / "sixth.toml").spec
    paths = [p.path for p in spec.parameters]
    targets = list(spec.targets)
    values = np.array([t.value for t in targets])
    half = np.array([(t.high - t.low) / 2 for t in targets])
    reps = 4
    offsets = np.arange(reps) - (reps - 1) / 2  # -1.5 .. 1.5: SD (ddof 1) sqrt(5/3)

    def spread(p):  # 0.05 to 0.1 of each value, by the first parameter's place in its range
        q = spec.parameters[0]
        return 0.05 * (1 + (p[q.path] - q.low) / (q.high - q.low))

    def evaluate(points):
        out = []
        for p in points:
            centre = values * (1 + 0.1 * np.sin(np.arange(1, len(p) + 1) @ list(p.values())))
            out.append(centre + np.outer(offsets, spread(p) * values))
        return out

    class Killed(Exception):
        pass

    def dies_on_call(n):
        calls = []

        def ev(points):
            calls.append(1)
            if len(calls) == n:
                raise Killed
            return evaluate(points)

        return ev

    n = 2 * spec.batch
    quiet = lambda s: None  # noqa: E731
    root = {name: tmp_path / name for name in ("whole", "first", "telling", "second")}
    for r in root.values():
        r.mkdir()
    whole = fit._optimise(root["whole"], spec, paths, targets, evaluate, n, 7, quiet)
    info = whole.user_attrs[fit.SCALES]
    # by hand: sigma_i = median over the first batch of spread x value_i x sqrt(5/3)
    first = sorted(whole.get_trials(deepcopy=False), key=lambda t: t.number)[: spec.batch]
    sigma = np.median([spread(t.params) for t in first]) * np.abs(values) * math.sqrt(5 / 3)
    np.testing.assert_allclose(info["sigma"], sigma, rtol=1e-9)
    np.testing.assert_allclose(info["scale"], np.sqrt(half**2 + sigma**2 / reps), rtol=1e-9)
    assert info["candidates"] == spec.batch and info["replications"] == reps
    # every trial is scored with these scales (weights of the bundled file: all 1)
    for t in whole.get_trials(deepcopy=False):
        z = (np.array(t.user_attrs["model"]) - values) / np.array(info["scale"])
        assert t.value == pytest.approx(math.sqrt(np.mean(z**2)), rel=1e-12)

    with pytest.raises(Killed):  # in the first batch, before the scales exist
        fit._optimise(root["first"], spec, paths, targets, dies_on_call(1), n, 7, quiet)
    tell = optuna.Study.tell
    told = []

    def dies_on_third_tell(self, *a, **k):
        told.append(1)
        if len(told) == 3:
            raise Killed
        return tell(self, *a, **k)

    with monkeypatch.context() as m, pytest.raises(Killed):  # scales stored, 2 trials told
        m.setattr(optuna.Study, "tell", dies_on_third_tell)
        fit._optimise(root["telling"], spec, paths, targets, evaluate, n, 7, quiet)
    with pytest.raises(Killed):  # in the second batch
        fit._optimise(root["second"], spec, paths, targets, dies_on_call(2), n, 7, quiet)
    for name in ("first", "telling", "second"):
        resumed = fit._optimise(root[name], spec, paths, targets, evaluate, n, 7, quiet)
        assert resumed.user_attrs[fit.SCALES] == info, name
        pd.testing.assert_frame_equal(
            fit._trials_table(whole, paths), fit._trials_table(resumed, paths)
        )


def test_settings_a_resume_may_change_and_those_it_may_not(tmp_path):
    from sim.calibration import fit
    from sim.calibration.spec import load_calibration
    from sim.core.errors import ScenarioError

    def settings(text, reps=2, seed=None):
        path = _write(tmp_path, text)
        loaded = load_calibration(path)
        scn = loaded.scenario
        return fit.study_settings(loaded.spec, scn, seed or scn.simulation.seed, reps, False)

    root = tmp_path / "out"
    root.mkdir()
    fit.bind_settings(root, settings(CALIBRATION), "cal.toml")
    safe = (
        CALIBRATION.replace("trials = 6", "trials = 60")
        .replace("draws = 40", "draws = 400")
        .replace("generations = 2", "generations = 3")
        .replace('evidence = "unsubscribe_per_email"', 'evidence = "social_login_use"')
        .replace("top = 3", "top = 5")
        .replace("replications = 3", "replications = 4")
    )
    assert "top = 5" in safe and "[confirm]\ntop = 5\nreplications = 4" in safe
    fit.bind_settings(root, settings(safe), "cal.toml")  # no error
    for text, reps, field in [
        (CALIBRATION.replace("population = 5", "population = 6"), 2, "posterior.population"),
        (CALIBRATION.replace("high = 6.0", "high = 5.0"), 2, "parameters[0].high"),
        (CALIBRATION.replace("batch = 2", "batch = 3"), 2, "batch"),
        ("noise_scaled = false\n" + CALIBRATION, 2, "noise_scaled"),
        (CALIBRATION, 3, "replications"),
        (CALIBRATION.replace("consumers = 1000", "consumers = 900"), 2, "consumers"),
        (CALIBRATION + "[[start]]\ntrust.negative_weight = 2.5\n", 2, "start"),
    ]:
        with pytest.raises(ScenarioError) as err:
            fit.bind_settings(root, settings(text, reps), "cal.toml")
        assert err.value.field == field, (field, str(err.value))
        assert "new --out" in str(err.value)


def _study_settings_stored(db: Path) -> bool:
    if not db.exists():
        return False
    try:
        with sqlite3.connect(db) as con:
            row = con.execute(
                "select count(*) from study_user_attributes where key = 'settings'"
            ).fetchone()
            return bool(row and row[0])
    except sqlite3.Error:
        return False


def test_resume_with_a_changed_calibration_file_exits_2_naming_the_field(tmp_path):
    path = _write(tmp_path, CALIBRATION)
    out = tmp_path / "out"
    p = _run_cli(["calibrate", str(path), "--out", str(out), "--workers", "1"])
    deadline = time.time() + 120
    while not _study_settings_stored(out / "optuna.db") and time.time() < deadline:
        time.sleep(0.1)
    assert p.poll() is None, p.communicate()
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    assert _study_settings_stored(out / "optuna.db")
    path.write_text(CALIBRATION.replace("high = 0.4", "high = 0.45"))
    p = _run_cli(["calibrate", str(path), "--out", str(out), "--workers", "1"])
    stdout, err = p.communicate(timeout=120)
    assert p.returncode == 2, err
    assert "Traceback" not in err
    line = err.strip()
    assert "\n" not in line
    for text in (str(path), "targets[1].high = 0.45", "0.4", str(out), "new --out"):
        assert text in line, (text, line)


# ----------------------------------------------------------------------------- resume, trials
def _toy_study():
    """A one-parameter study (batch 4, R = 3) with a cheap model whose replications spread by
    an amount that grows with x, so scales from other candidates differ; and a runner."""
    from types import SimpleNamespace as NS

    from sim.calibration import fit

    targets = [
        NS(name="a", value=0.5, scale=0.05, weight=1.0),
        NS(name="b", value=0.2, scale=0.01, weight=1.0),
    ]
    spec = NS(
        batch=4,
        noise_scaled=True,
        parameters=[NS(path="x", low=0.0, high=1.0, prior="uniform")],
        start=[],
    )

    def evaluate(points):
        out = []
        for p in points:
            x = p["x"]
            rng = np.random.default_rng(int(x * 1e9))
            out.append(
                np.column_stack([x + x * rng.normal(size=3), 0.2 + 0.05 * x * rng.normal(size=3)])
            )
        return out

    def run(root, n, ev=evaluate):
        root.mkdir(exist_ok=True)
        return fit._optimise(root, spec, ["x"], targets, ev, n, 7, lambda *a, **k: None)

    return fit, run, evaluate


def test_a_resume_with_more_trials_is_an_uninterrupted_run_or_is_refused(tmp_path):
    """Raising `trials` carries on exactly as an uninterrupted run with the new value when the
    stored study is the start of that run; otherwise it is refused naming `trials` (exit 2)."""
    from sim.core.errors import ScenarioError

    fit, run, evaluate = _toy_study()

    def same(a, b):
        assert a.user_attrs[fit.SCALES] == b.user_attrs[fit.SCALES]
        pd.testing.assert_frame_equal(fit._trials_table(a, ["x"]), fit._trials_table(b, ["x"]))

    whole8, whole14 = run(tmp_path / "w8", 8), run(tmp_path / "w14", 14)
    # whole batches: 8 then 14 is the run with 14
    run(tmp_path / "r", 8)
    same(run(tmp_path / "r", 14), whole14)

    # killed while the short last batch of a run with 6 was evaluated (none of it scored):
    # resumed with 8, the batch is completed to 4 trials as the run with 8 asks it
    class Killed(Exception):
        pass

    calls = []

    def dies_on_the_second_batch(points):
        calls.append(1)
        if len(calls) == 2:
            raise Killed
        return evaluate(points)

    with pytest.raises(Killed):
        run(tmp_path / "k", 6, dies_on_the_second_batch)
    same(run(tmp_path / "k", 8), whole8)

    refused = [
        (2, 8, "fixed from the first 2 candidates"),  # scales from fewer than a batch
        (6, 14, "last batch (trials 4-5"),  # stopped mid-batch, and scored
        (8, 6, "already holds 8 trials"),  # fewer than the study holds
    ]
    for first, then, why in refused:
        root = tmp_path / f"x{first}-{then}"
        run(root, first)
        with pytest.raises(ScenarioError) as err:
            run(root, then)
        assert err.value.field == "trials" and err.value.value == then, str(err.value)
        text = str(err.value)
        assert why in text and f"trials = {first} again" in text and "\n" not in text, text
        same(run(root, first), run(tmp_path / f"w{first}-{then}", first))  # still resumable


def test_a_field_the_stored_settings_lack_is_unchanged_when_it_holds_its_default(tmp_path):
    """A study made before an optional field existed stores no value for it: a resume giving
    the field's default is the same study, one giving another value is refused."""
    from sim.calibration import fit
    from sim.calibration.spec import load_calibration
    from sim.core.errors import ScenarioError

    def settings(text):
        loaded = load_calibration(_write(tmp_path, text))
        scn = loaded.scenario
        return fit.study_settings(loaded.spec, scn, scn.simulation.seed, 2, False)

    root = tmp_path / "out"
    root.mkdir()
    # as an older version would have stored them: no noise_scaled, no targets' weight, no
    # posterior.population (their defaults: true, 1.0 and 40)
    text = CALIBRATION.replace("population = 5\n", "")
    old = settings(text)
    del old["file"]["noise_scaled"], old["file"]["posterior"]["population"]
    for t in old["file"]["targets"]:
        del t["weight"]
    _, study = fit._open_study(root)
    study.set_user_attr(fit.SETTINGS, old)
    fit.bind_settings(root, settings(text), "cal.toml")  # the defaults: no error
    for new, field in [
        ("noise_scaled = false\n" + text, "noise_scaled"),
        (text.replace("[posterior]\n", "[posterior]\npopulation = 6\n"), "posterior.population"),
        (text.replace('"aurora_trust"\n', '"aurora_trust"\nweight = 2.0\n'), "targets[0].weight"),
    ]:
        assert new != text
        with pytest.raises(ScenarioError) as err:
            fit.bind_settings(root, settings(new), "cal.toml")
        assert err.value.field == field, (field, str(err.value))
        assert "(absent)" in str(err.value)


def test_a_target_whose_noise_the_first_batch_cannot_measure_is_named(tmp_path):
    """Target b has no candidate of the first batch with two finite replications (NaN there, as
    a breach figure can be at small sizes): its sigma is 0 over 0 candidates, its scale the
    half band (0.01), and one line naming it is printed when the scales are fixed and again on
    a resume; target a (3 of 4 candidates with two finite values) is measured as usual."""
    from types import SimpleNamespace as NS

    from sim.calibration import fit

    targets = [
        NS(name="a", value=0.5, scale=0.05, weight=1.0),
        NS(name="b", value=0.2, scale=0.01, weight=1.0),
    ]
    spec = NS(
        batch=4,
        noise_scaled=True,
        parameters=[NS(path="x", low=0.0, high=1.0, prior="uniform")],
        start=[],
    )
    calls = []

    def evaluate(points):  # R = 2; first batch: b NaN everywhere, a NaN in one replication of
        calls.append(1)  # the first candidate; a's replications differ by 0.1, 0.2, 0.3, 0.4
        out = []
        for k, p in enumerate(points):
            a = [p["x"], p["x"] + 0.1 * (k + 1)]
            b = [np.nan, np.nan] if len(calls) == 1 else [0.2, 0.21]
            if len(calls) == 1 and k == 0:
                a[1] = np.nan
            out.append(np.column_stack([a, b]))
        return out

    said = []
    root = tmp_path / "out"
    root.mkdir()
    study = fit._optimise(root, spec, ["x"], targets, evaluate, 8, 7, said.append)
    info = study.user_attrs[fit.SCALES]
    # a: SDs of the candidates with two finite values: 0.2, 0.3, 0.4 over sqrt(2); median 0.3
    assert info["sigma_candidates"] == [3, 0]
    assert info["sigma"] == pytest.approx([0.3 / math.sqrt(2), 0.0])
    assert info["scale"] == pytest.approx([math.sqrt(0.05**2 + 0.09 / 2 / 2), 0.01])
    assert fit.unmeasured(info) == ["b"]
    lines = [s for s in said if "'b'" in s]
    assert len(lines) == 1 and "\n" not in lines[0] and "half band" in lines[0], said
    assert not [s for s in said if "'a'" in s]
    said.clear()
    fit._optimise(root, spec, ["x"], targets, evaluate, 8, 7, said.append)  # resumed: said again
    assert [s for s in said if "'b'" in s] == lines
    assert list(fit.scales_table(info)["sigma_candidates"]) == [3, 0]


# ----------------------------------------------------------------------------- chart labels, redraw
def test_chart_labels_are_last_components_lengthened_only_to_tell_paths_apart():
    from sim.calibration.plots import short_names

    paths = [
        "population.affinity_concentration",
        "journey.research_days",
        "brands[0].policy.transparency",
        "brands[1].policy.transparency",
        "incidents.fraud_probability",
        "fraud_probability",
    ]
    assert short_names(paths) == {
        "population.affinity_concentration": "affinity_concentration",
        "journey.research_days": "research_days",
        "brands[0].policy.transparency": "brands[0].policy.transparency",
        "brands[1].policy.transparency": "brands[1].policy.transparency",
        "incidents.fraud_probability": "incidents.fraud_probability",
        "fraud_probability": "fraud_probability",
    }


def test_charts_only_redraws_the_committed_fit_without_running_the_model(tmp_path, capsys):
    import shutil

    stored = ROOT / "docs" / "calibration"
    folder = tmp_path / "fit"
    shutil.copytree(stored, folder)
    # (docs/calibration/eighth/, the eighth fit's outputs, is a folder beside the files)
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    assert main(["calibrate", "--out", str(folder), "--charts-only"]) == 0
    out = capsys.readouterr().out
    for chart in ("convergence.png", "pairs.png"):
        assert (folder / "charts" / chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert str(folder / "charts" / chart) in out
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before
    assert not (folder / "optuna.db").exists() and not (folder / "abc.db").exists()
    flat = tmp_path / "flat"
    assert (
        main(["calibrate", "--out", str(folder), "--charts-only", "--charts-dir", str(flat)]) == 0
    )
    assert sorted(p.name for p in flat.iterdir()) == ["convergence.png", "pairs.png"]


def test_the_convergence_chart_marks_the_re_measured_trials_and_the_estimate(tmp_path, monkeypatch):
    """The re-measured trials are drawn at their fresh distance, joined to their own, and the
    chosen one is filled; a fit without a confirmation (``top = 0``) draws neither."""
    import pandas as pd

    from sim.calibration import plots

    figures = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path: figures.append(fig) or path)
    trials = pd.DataFrame(
        {
            "trial": [0, 1, 2, 3],
            "distance": [4.0, 0.9, 2.0, 0.6],
            "best_so_far": [4.0, 0.9, 0.9, 0.6],
            "confirm_distance": [np.nan, 0.7, np.nan, 0.8],
        }
    )
    plots.convergence(trials, [3.0, 2.0], tmp_path / "c.png", chosen=1)
    ax = figures[-1].axes[0]
    by_label = {c.get_label(): c for c in ax.collections}
    assert by_label["re-measured (fresh replications)"].get_offsets().tolist() == [
        [1.0, 0.7],
        [3.0, 0.8],
    ]
    assert by_label["estimate"].get_offsets().tolist() == [[1.0, 0.7]]
    joins = [c for c in ax.collections if c.get_label().startswith("_")]
    segments = sorted(seg.tolist() for c in joins for seg in c.get_segments())
    assert segments == [[[1.0, 0.9], [1.0, 0.7]], [[3.0, 0.6], [3.0, 0.8]]]
    plots.convergence(trials.assign(confirm_distance=np.nan), [3.0], tmp_path / "d.png")
    labels = [c.get_label() for c in figures[-1].axes[0].collections]
    assert labels == ["trial"]


def test_charts_only_on_a_folder_without_a_finished_fit_or_with_a_file_exits_2(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["calibrate", "--out", str(empty), "--charts-only"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "manifest.json" in err and str(empty) in err
    toml = ROOT / "calibration" / "baseline.toml"
    assert main(["calibrate", str(toml), "--out", str(empty), "--charts-only"]) == 2
    assert "not used with --charts-only" in capsys.readouterr().err
    assert main(["calibrate", "--out", str(empty)]) == 2
    assert "CALIBRATION.toml is required" in capsys.readouterr().err


def _damage(folder: Path, name: str, how: str) -> None:
    """Replace stored file ``name`` of a calibration folder by a damaged one (``how``)."""
    import json

    path = folder / name
    if how == "text":
        path.write_text("{not json")
    elif how == "bytes":
        path.write_bytes(b"PAR1xyz")  # 7 bytes: a Parquet magic, no footer
    elif how == "empty":
        path.write_text("")
    elif how == "nan":  # every trial failed: no distance to draw
        path.write_text("trial,distance,best_so_far\n0,nan,nan\n1,inf,inf\n")
    elif how == "words":  # a re-measured distance that is not a number
        path.write_text("trial,distance,best_so_far,confirm_distance\n0,1.5,1.5,low\n")
    elif how == "chosen":  # the chosen trial is not a trial number
        data = json.loads(path.read_text())
        data["confirm"]["chosen"] = "95"
        path.write_text(json.dumps(data))
    elif how == "confirm":  # the confirmation's record is not an object
        data = json.loads(path.read_text())
        data["confirm"] = [95]
        path.write_text(json.dumps(data))
    else:  # "-FIELD": the manifest without FIELD (a dotted path)
        data = json.loads(path.read_text())
        *parents, last = how[1:].split(".")
        node = data
        for part in parents:
            node = node[part]
        del node[last]
        path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    "name, how, said",
    [
        ("manifest.json", "text", "not valid JSON"),
        ("manifest.json", "-abc", "abc"),
        ("manifest.json", "-abc.epsilons", "abc.epsilons"),
        ("manifest.json", "-estimate", "estimate"),
        ("manifest.json", "-spec.parameters", "spec.parameters"),
        ("posterior.parquet", "bytes", "not a Parquet table"),
        ("trials.csv", "empty", "no table"),
        ("trials.csv", "text", "best_so_far"),
        ("trials.csv", "nan", "no finite distance"),
        ("trials.csv", "words", "confirm_distance is not numeric"),
        ("manifest.json", "chosen", "confirm.chosen = '95'"),
        ("manifest.json", "confirm", "confirm = [95]: not an object"),
    ],
)
def test_charts_only_on_damaged_stored_files_exits_2_naming_the_file(
    tmp_path, capsys, name, how, said
):
    """A damaged stored file (not JSON / a field missing / not Parquet / an empty CSV) is bad
    input: one line naming the file and the problem, exit 2, no traceback."""
    import shutil

    folder = tmp_path / "fit"
    shutil.copytree(ROOT / "docs" / "calibration", folder)
    _damage(folder, name, how)
    assert main(["calibrate", "--out", str(folder), "--charts-only"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert str(folder / name) in err and said in err, err
    assert not (folder / "charts").exists()


def test_the_estimate_is_the_best_of_the_top_trials_re_measured_and_a_kill_resumes(tmp_path):
    """Against the winner's curse. The fit's replications give every trial a model that is its
    "truth" plus a luck term; fresh replications give the truth. The estimate must be the trial
    of the `confirm.top` best (by the fit) whose fresh figures are closest, computed here by hand
    with the study's scales, and it must not be the luckiest trial. Killed after the first chunk,
    a rerun measures only the trials not stored and ends with the same choice."""
    from sim.calibration import fit
    from sim.calibration.spec import load_calibration

    spec = load_calibration(ROOT / "calibration" / "sixth.toml").spec
    spec = spec.model_copy(update={"confirm": spec.confirm.model_copy(update={"top": 5})})
    paths = [p.path for p in spec.parameters]
    targets = list(spec.targets)
    values = np.array([t.value for t in targets])
    reps, fresh_reps, seed = 2, spec.confirm.replications, 7

    def truth(p):
        return values * (1 + 0.1 * np.sin(np.arange(1, len(p) + 1) @ list(p.values())))

    def luck(p):  # pulls each trial's fit figures towards the targets, by 0 to 95%
        return 0.95 * ((1000 * sum(p.values())) % 1) * (values - truth(p))

    def evaluate(points):
        return [np.vstack([truth(p) + luck(p)] * reps) for p in points]

    asked = []

    def evaluate_at(points, n, base):
        asked.append((len(points), n, base))
        return [np.vstack([truth(p)] * n) for p in points]

    n = 2 * spec.batch
    quiet = lambda s: None  # noqa: E731
    study = fit._optimise(tmp_path, spec, paths, targets, evaluate, n, seed, quiet)
    scales = np.array(study.user_attrs[fit.SCALES]["scale"])
    pick, model, record = fit._confirm(
        study, spec, paths, targets, scales, evaluate_at, seed, quiet
    )

    trials = sorted(study.get_trials(deepcopy=False), key=lambda t: (t.value, t.number))[:5]

    def by_hand(t):
        return math.sqrt(np.mean(((truth(t.params) - values) / scales) ** 2))

    expected = min(trials, key=by_hand)
    assert pick.number == expected.number
    assert pick.number != study.best_trial.number, "the case must tell the two rules apart"
    np.testing.assert_allclose(model, truth(expected.params))
    assert record["distance"] == pytest.approx(by_hand(expected))
    assert [r["fit_distance"] for r in record["trials"]] == [t.value for t in trials]
    # fresh replications: the file's count, a base seed that is not the fit's
    assert {(n_, base) for _, n_, base in asked} == {(fresh_reps, fit._seed(seed, 17))}
    assert fit._seed(seed, 17) != seed and sum(k for k, _, _ in asked) == 5

    # killed after the first chunk of a fresh study: the rerun measures only the rest
    other = tmp_path / "killed"
    other.mkdir()
    study = fit._optimise(other, spec, paths, targets, evaluate, n, seed, quiet)

    class Killed(Exception):
        pass

    def dies_second(points, n_, base):
        if asked:
            raise Killed
        return evaluate_at(points, n_, base)

    asked.clear()
    with pytest.raises(Killed):
        fit._confirm(study, spec, paths, targets, scales, dies_second, seed, quiet)
    assert sum(k for k, _, _ in asked) == fit.CONFIRM_CHUNK
    asked.clear()
    again = fit._confirm(study, spec, paths, targets, scales, evaluate_at, seed, quiet)
    assert sum(k for k, _, _ in asked) == 5 - fit.CONFIRM_CHUNK
    assert again[0].number == pick.number and again[2] == record
    # top = 0: the best trial as it is, its own figures, nothing measured
    spec0 = spec.model_copy(update={"confirm": spec.confirm.model_copy(update={"top": 0})})
    asked.clear()
    best0, model0, record0 = fit._confirm(
        study, spec0, paths, targets, scales, evaluate_at, seed, quiet
    )
    assert best0.number == study.best_trial.number and record0 is None and not asked
    np.testing.assert_allclose(model0, study.best_trial.user_attrs["model"])
    # with other replications the stored figures are not reused
    spec8 = spec.model_copy(update={"confirm": spec.confirm.model_copy(update={"replications": 8})})
    asked.clear()
    fit._confirm(study, spec8, paths, targets, scales, evaluate_at, seed, quiet)
    assert sum(k for k, _, _ in asked) == 5 and {n_ for _, n_, _ in asked} == {8}


def test_the_journey_fits_differ_only_in_their_free_parameters():
    """calibration/journey.toml, journey_without_touch.toml, journey_need_rate.toml and
    journey_touch_share.toml (docs/CALIBRATION.md, "Need for touch: the journey fits") are
    compared like for like: the same scenario, targets, validation figures, sizes, seeds and fit
    settings; the comparison file lacks only journey.store_touch (held at its default 0, the rules
    without it), the follow-up adds only population.need_rate, and the next one adds only
    journey.touch_share (0-1; held elsewhere at the value the fits ran on, 1: everyone)."""
    from sim.calibration.spec import load_calibration

    loaded = {
        name: load_calibration(ROOT / "calibration" / f"{name}.toml")
        for name in ("journey", "journey_without_touch", "journey_need_rate", "journey_touch_share")
    }
    dumps = {k: v.spec.model_dump(exclude={"name", "parameters"}) for k, v in loaded.items()}
    assert dumps["journey"] == dumps["journey_without_touch"] == dumps["journey_need_rate"]
    assert dumps["journey_touch_share"] == dumps["journey"]
    assert not any(
        t.evidence.startswith(("breach", "fraud")) for t in loaded["journey"].spec.targets
    )
    params = {k: [p.model_dump() for p in v.spec.parameters] for k, v in loaded.items()}
    touch = [p for p in params["journey"] if p["path"] == "journey.store_touch"]
    assert touch == [{"path": "journey.store_touch", "low": 0.0, "high": 1.0, "prior": "uniform"}]
    assert params["journey_without_touch"] == [p for p in params["journey"] if p not in touch]
    assert params["journey_need_rate"][:-1] == params["journey"]
    assert params["journey_need_rate"][-1]["path"] == "population.need_rate"
    assert params["journey_touch_share"][:-1] == params["journey_need_rate"]
    assert params["journey_touch_share"][-1] == {
        "path": "journey.touch_share",
        "low": 0.0,
        "high": 1.0,
        "prior": "uniform",
    }
    held = loaded["journey"].scenario.journey  # the defaults they ran on (sixth-defaults/)
    assert held.touch_share == 1.0 and held.store_touch == 0.0  # held at 1 and 0
    assert {v.scenario.content_hash() for v in loaded.values()} == {
        loaded["journey"].scenario.content_hash()
    }
    assert loaded["journey_without_touch"].scenario.journey.store_touch == 0.0


def _bundled(name: str):
    """The spec of the bundled calibration file calibration/<name>.toml."""
    from sim.calibration.spec import load_calibration

    return load_calibration(ROOT / "calibration" / f"{name}.toml").spec


# What the exploratory fits (journey, churn, joint) share with each other: sizes, seeds, posterior.
_FIT_SIZES = (
    "scenario",
    "replications",
    "days",
    "consumers",
    "batch",
    "seed",
    "confirm",
    "posterior",
)


def test_the_churn_fit_asks_about_base_churn_with_the_bundled_fits_figures():
    """calibration/churn.toml (docs/CALIBRATION.md, "Base churn: an exploratory fit") fits the
    two breach churn figures with the base churn of L1 and the sixth fit's two breach shocks (the
    same priors as calibration/sixth.toml), at the journey fits' sizes and seeds; every other
    figure of calibration/sixth.toml is its validation, and its churn_threshold range stays
    below the default return_threshold (schema rule: return_threshold >= churn_threshold)."""
    from sim.scenario import Scenario

    churn, base, journey = _bundled("churn"), _bundled("sixth"), _bundled("journey")
    sizes = _FIT_SIZES
    assert {k: getattr(churn, k) for k in sizes} == {k: getattr(journey, k) for k in sizes}
    fitted = [t.evidence for t in churn.targets]
    assert fitted == ["breach_abnormal_churn", "breach_stopped_dealing"]
    figures = {t.evidence: t.model_dump() for t in (*base.targets, *base.validation)}
    assert {t.evidence: t.model_dump() for t in (*churn.targets, *churn.validation)} == figures
    params = {p.path: p.model_dump() for p in churn.parameters}
    assert list(params) == [
        "trust.churn_threshold",
        "trust.churn_rate",
        "incidents.disclosure_evidence",
        "trust.covert_evidence",
    ]
    for p in base.parameters:
        if p.path in params:
            assert params[p.path] == p.model_dump()
    trust = Scenario.model_fields["trust"].default_factory()
    assert params["trust.churn_threshold"]["high"] < trust.return_threshold


def test_the_joint_fit_frees_every_lever_with_the_bundled_fits_figures():
    """calibration/joint.toml (docs/CALIBRATION.md, "One parameter set for every figure? An
    exploratory joint fit") frees the six parameters of calibration/sixth.toml with their priors,
    need for touch and the journeys a year as calibration/journey_need_rate.toml has them, and the
    base churn of L1 as calibration/churn.toml has it (churn_threshold below the default
    return_threshold: schema rule return_threshold >= churn_threshold), at the journey fits' sizes
    and seeds bar the number of trials; it fits every figure the bundled, journey and churn fits
    fitted and keeps the rest of calibration/sixth.toml's figures as validation."""
    from sim.scenario import Scenario

    joint, base, journey = _bundled("joint"), _bundled("sixth"), _bundled("journey_need_rate")
    sizes = _FIT_SIZES
    assert {k: getattr(joint, k) for k in sizes} == {k: getattr(journey, k) for k in sizes}
    assert joint.trials % joint.batch == 0
    fitted = [t.evidence for t in joint.targets]
    assert fitted == [
        "multichannel_share",
        "store_only_share",
        "webrooming_digital",
        "showrooming_digital",
        "fraud_after_notice",
        "breach_abnormal_churn",
        "breach_stopped_dealing",
    ]
    assert [t.evidence for t in joint.validation] == [
        "online_only_share",
        "unsubscribe_per_email",
        "complaint_per_email",
        "social_login_use",
    ]
    figures = {t.evidence: t.model_dump() for t in (*base.targets, *base.validation)}
    assert {t.evidence: t.model_dump() for t in (*joint.targets, *joint.validation)} == figures
    params = [p.model_dump() for p in joint.parameters]
    assert params[:6] == [p.model_dump() for p in base.parameters]
    touch = {p.path: p.model_dump() for p in journey.parameters}
    assert params[6:8] == [touch["journey.store_touch"], touch["population.need_rate"]]
    churn = _bundled("churn")
    assert params[8:] == [p.model_dump() for p in churn.parameters[:2]]
    assert [p["path"] for p in params[8:]] == ["trust.churn_threshold", "trust.churn_rate"]
    trust = Scenario.model_fields["trust"].default_factory()
    assert params[8]["high"] < trust.return_threshold


def test_the_seventh_fit_starts_from_the_union_point_and_the_defaults():
    """calibration/baseline.toml, the seventh fit (docs/CALIBRATION.md, "The seventh fit"), fits
    the joint fit's figures at the sixth fit's sizes (calibration/sixth.toml: trials, posterior,
    confirmation bar the posterior's generations),
    frees touch_share besides the joint fit's levers, and starts from three points that give every
    parameter: the union point of docs/CALIBRATION.md (its J and S lines, churn_threshold 0.31,
    churn_rate 0.1), the same with the churn fit's estimate, and the defaults it ran on (the sixth
    fit's, calibration/sixth-defaults/baseline.toml)."""
    import re

    from sim.scenario.loading import load_scenario

    seventh, base, joint = _bundled("baseline"), _bundled("sixth"), _bundled("joint")
    for field in ("replications", "days", "consumers", "batch", "seed", "trials", "confirm"):
        assert getattr(seventh, field) == getattr(base, field), field
    assert (seventh.scenario, base.scenario) == (
        "../scenarios/baseline.toml",  # the bundled one: the fit frees what it ran on and more
        "sixth-defaults/baseline.toml",
    )
    assert seventh.posterior.population == base.posterior.population
    assert seventh.posterior.generations >= base.posterior.generations
    for kind in ("targets", "validation"):
        assert [t.model_dump() for t in getattr(seventh, kind)] == [
            t.model_dump() for t in getattr(joint, kind)
        ]
    paths = [p.path for p in seventh.parameters]
    assert set(paths) == {p.path for p in joint.parameters} | {"journey.touch_share"}
    assert len(seventh.start) == 3 and all(set(s) == set(paths) for s in seventh.start)
    doc = (ROOT / "docs" / "CALIBRATION.md").read_text()
    union = {}
    for name in ("J", "S"):
        line = re.search(rf"^{name}=(\S+)$", doc, re.M).group(1)
        union |= {k: float(v) for k, v in (kv.split("=") for kv in line.split(","))}
    scenario = load_scenario(SIXTH_DEFAULTS).model_dump()
    defaults = {p: scenario[p.split(".")[0]][p.split(".")[1]] for p in paths}
    assert seventh.start[0] == defaults | union | {
        "trust.churn_threshold": 0.31,
        "trust.churn_rate": 0.1,
    }
    assert seventh.start[1] == seventh.start[0] | {
        "trust.churn_threshold": 0.2995,
        "trust.churn_rate": 0.07066,
    }
    assert seventh.start[2] == defaults
    rate = next(p for p in seventh.parameters if p.path == "trust.churn_rate")
    assert rate.high > 0.1  # the union point needed the churn fit's prior top
    threshold = next(p for p in seventh.parameters if p.path == "trust.churn_threshold")
    assert threshold.high < scenario["trust"]["return_threshold"]
