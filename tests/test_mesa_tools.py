"""Mesa's own tools on TrustModel: batch_run, keyword construction, DataCollector, seeding."""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd
import pytest

from sim.core.errors import ScenarioError, ScenarioErrors
from sim.core.streams import mesa_seed
from sim.loading import load_scenario
from sim.model import TrustModel
from sim.reference import ReferenceModel
from sim.scenario import Scenario

from .conftest import SCENARIOS, baseline_data

DAYS = 12
HEADLINES = ("trust", "consent rate", "subscribers", "revenue/day", "net value/day", "breaches")


def small(days: int = DAYS, consumers: int = 600, warmup: int = 20, events=()) -> Scenario:
    data = baseline_data(consumers=consumers, days=days)
    data["simulation"]["warmup_days"] = warmup
    data["events"] = list(events)
    return Scenario.model_validate(data)


def ran(model: TrustModel) -> TrustModel:
    model.run()
    return model


# --- batch_run ---------------------------------------------------------------------------------
@pytest.mark.parametrize("processes", [1, 2])
def test_batch_run_every_step_matches_direct_runs(processes):
    """batch_run with data_collection_period=1, in one and in two processes: one row per Mesa
    step 0..days-1 (Mesa's batch runner reads steps 0..steps-1), and the numbers of a direct run
    with the same seed (row s = the market after day s-1; row 0 = end of the warm-up)."""
    sc = small()
    rows = mesa.batch_run(
        TrustModel,
        parameters={"scenario": [sc], "seed": [1, 2]},
        iterations=1,
        max_steps=DAYS,
        number_processes=processes,
        data_collection_period=1,
        display_progress=False,
    )
    df = pd.DataFrame(rows)
    brands = [b.name for b in sc.brands]
    assert len(df) == 2 * DAYS * len(brands)  # agent rows: one per brand and step
    for seed in (1, 2):
        direct = ran(TrustModel(sc, seed=seed))
        ts = direct.timeseries()
        mine = df[df["seed"] == seed]
        assert sorted(mine["Step"].unique()) == list(range(DAYS))
        for s in range(1, DAYS):
            for k, name in enumerate(brands):
                row = mine[(mine["Step"] == s) & (mine["brand"] == name)].iloc[0]
                day = ts[(ts["day"] == s - 1) & (ts["brand"] == name) & (ts["channel"] == "all")]
                value = dict(zip(day["metric"], day["value"], strict=False))
                assert row[f"{name} trust"] == value["trust"] == row["trust"]
                assert row[f"{name} consent rate"] == value["consent_rate"]
                assert row[f"{name} subscribers"] == value["subscribers"]
                assert row[f"{name} revenue/day"] == pytest.approx(value["revenue"], abs=1e-9)
                assert row[f"{name} net value/day"] == pytest.approx(value["net_value"], abs=1e-9)
                assert row["day"] == s - 1
                assert direct.recorder.stocks[s - 1, k, 0] == row["trust"]


@pytest.mark.parametrize("processes", [1, 2])
def test_batch_run_defaults(processes):
    """Mesa's defaults (data collection at the end): one row per brand and run, no error."""
    sc = small()
    rows = mesa.batch_run(
        TrustModel,
        parameters={"scenario": [sc], "seed": [3]},
        max_steps=100,
        number_processes=processes,
        display_progress=False,
    )
    df = pd.DataFrame(rows)
    assert len(df) == len(sc.brands)
    direct = ran(TrustModel(sc, seed=3))
    expected = direct.datacollector.get_model_vars_dataframe().iloc[DAYS - 1]
    assert (df["Step"] == DAYS - 1).all()  # Mesa reports steps - 1
    for name in (b.name for b in sc.brands):
        assert df[f"{name} trust"].iloc[0] == expected[f"{name} trust"]


def test_batch_run_sweeps_a_lever_through_overrides(tmp_path):
    """A grid of override dicts varies a lever; each run equals the same scenario written as a
    file that extends the baseline (an independent route to the same inputs)."""
    lever = "brands.Aurora.policy.transparency"
    rows = mesa.batch_run(
        TrustModel,
        parameters={
            "scenario": str(SCENARIOS / "baseline.toml"),
            "overrides": [
                {"simulation.consumers": 500, "simulation.days": 8, lever: v} for v in (0.1, 0.9)
            ],
            "seed": 4,
        },
        max_steps=50,
        data_collection_period=1,
        display_progress=False,
    )
    df = pd.DataFrame(rows)
    child = tmp_path / "transparent.toml"
    child.write_text(
        f'extends = "{SCENARIOS / "baseline.toml"}"\n[simulation]\nconsumers = 500\ndays = 8\n'
        '[[brands]]\nname = "Aurora"\n[brands.policy]\ntransparency = 0.9\n'
    )
    by_file = ran(TrustModel(load_scenario(child), seed=4)).datacollector
    expected = by_file.get_model_vars_dataframe()
    high = df[df["overrides"].map(lambda o: o[lever]) == 0.9].drop_duplicates("Step")
    low = df[df["overrides"].map(lambda o: o[lever]) == 0.1].drop_duplicates("Step")
    for step, value in zip(high["Step"], high["Aurora consent rate"], strict=True):
        assert value == expected["Aurora consent rate"].iloc[step]
    assert not np.array_equal(high["Aurora consent rate"], low["Aurora consent rate"])


# --- construction -------------------------------------------------------------------------------
def test_built_from_a_path_with_dotted_overrides():
    model = TrustModel(
        str(SCENARIOS / "baseline.toml"),
        overrides={"brands.Aurora.policy.transparency": 0.9, "world.attack_pressure": 2.5},
    )
    assert model.scenario.brands[0].name == "Aurora"
    assert model.scenario.brands[0].policy.transparency == 0.9
    assert model.scenario.world.attack_pressure == 2.5
    assert model.steps == 0 and model.day == 0  # the warm-up ran in __init__, not as Mesa steps


def test_bad_overrides_are_user_errors():
    with pytest.raises(ScenarioError, match="no brands entry named 'Zed'; allowed: Aurora"):
        TrustModel(small(), overrides={"brands.Zed.policy.transparency": 0.5})
    with pytest.raises(ScenarioErrors, match=r"transparency = 1.5.*\[0, 1\]"):
        TrustModel(small(), overrides={"brands.Aurora.policy.transparency": 1.5})


def test_warm_up_is_not_mesa_steps():
    """Warm-up runs while the model is built: Mesa's step counter counts recorded days only,
    `run()` and a plain `step()` loop agree, and the warm-up still shapes the market."""
    sc = small(days=6, warmup=15)
    a = ran(TrustModel(sc, seed=9))
    b = TrustModel(sc, seed=9)
    while b.running:
        b.step()
    assert a.steps == b.steps == 6
    pd.testing.assert_frame_equal(a.timeseries(), b.timeseries())
    # the warm-up really ran: a no-warm-up market starts elsewhere
    c = ran(TrustModel(small(days=6, warmup=0), seed=9))
    assert not np.array_equal(a.recorder.stocks, c.recorder.stocks)


# --- DataCollector ------------------------------------------------------------------------------
def test_datacollector_reports_headlines_per_brand():
    breach = {"kind": "breach", "day": 3, "brand": "Aurora", "records_share": 0.5,
              "data_types": ["contact"]}  # fmt: skip
    sc = small(days=7, events=[breach])
    model = ran(TrustModel(sc, seed=2))
    frame = model.datacollector.get_model_vars_dataframe()
    names = [b.name for b in sc.brands]
    assert {f"{n} {h}" for n in names for h in HEADLINES} <= set(frame.columns)
    assert list(frame["day"]) == list(range(-1, 7))
    ts = model.timeseries()
    daily = ts[(ts["brand"] == "Aurora") & (ts["metric"] == "breaches") & (ts["channel"] == "all")]
    assert daily["value"].sum() >= 1
    assert list(frame["Aurora breaches"].iloc[1:]) == list(daily["value"].cumsum())
    agents = model.datacollector.get_agent_vars_dataframe()
    assert set(agents["brand"]) == set(names)
    last = agents.xs(7, level="Step").set_index("brand")
    assert last.loc["Aurora", "breaches"] == frame["Aurora breaches"].iloc[-1]
    assert last.loc["Borealis", "consent_rate"] == frame["Borealis consent rate"].iloc[-1]


# --- seeding ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("version", "keyword"),
    [("3.3.1", "seed"), ("3.3.0", "seed"), ("3.4.0", "rng"), ("3.10.2", "rng"), ("4.0.0a1", "rng")],
)
def test_mesa_seed_keyword_follows_the_version(version, keyword):
    assert mesa_seed(7, version) == {keyword: 7}


def test_installed_mesa_gets_its_keyword():
    from importlib.metadata import version

    major, minor = (int(x) for x in version("mesa").split(".")[:2])
    assert list(mesa_seed(1)) == (["rng"] if (major, minor) >= (3, 4) else ["seed"])


def test_seed_and_rng_give_identical_numbers():
    """Both Mesa keywords seed the same generators, and `seed=`/`rng=` give the same run."""
    a, b = mesa.Model(seed=11), mesa.Model(rng=11)
    assert a.rng.random(5).tolist() == b.rng.random(5).tolist()
    assert a.random.random() == b.random.random()
    sc = small(days=4)
    x, y = ran(TrustModel(sc, seed=11)), ran(TrustModel(sc, rng=11))
    pd.testing.assert_frame_equal(x.timeseries(), y.timeseries())
    assert x.rng.random() == y.rng.random()
    with pytest.raises(ValueError, match="not both"):
        TrustModel(sc, seed=1, rng=1)


def test_reference_model_seeding():
    sc = small(days=2, consumers=60, warmup=2)
    x, y = ReferenceModel(sc, seed=5), ReferenceModel(sc, rng=5)
    for m in (x, y):
        while m.running:
            m.step()
    assert x.summary() == y.summary()
    assert x.random.random() == y.random.random()
