"""Policy changes at a known moment, and warm-ups spun up once and branched (docs/ODD.md,
"Policy changes at a known moment"; `sim.model.warmup`).

The expected values are independent runs: a scenario that spins its own warm-up up (branching
off), and the parent scenario run on its own.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.experiments import compare
from sim.model import TrustModel
from sim.model.warmup import CACHE, capture, warmup_key
from sim.runner import simulate
from sim.scenario import Scenario
from sim.scenario.loading import load_scenario
from sim.state.parameters import brand_table

from .conftest import SCENARIOS, baseline_data, brand

SMALL = dict(consumers=800, days=40, replications=2, warmup=60)
SWITCHED = {"transparency": 1.0, "personalization_skill": 0.9, "emails_per_week": 3.0}


def _parent() -> dict:
    return baseline_data(**SMALL)


def _switch(day: int | None, name: str = "switch", policy: dict | None = None) -> Scenario:
    """The small baseline with Aurora's policy changed on ``day`` (the baseline's before it)."""
    data = _parent()
    before = {b["name"]: copy.deepcopy(b.get("policy", {})) for b in data["brands"]}
    data["name"] = name
    brand(data, "Aurora").setdefault("policy", {}).update(SWITCHED if policy is None else policy)
    if day is not None:
        data["policy_from_day"] = day
        data["policy_before"] = before
    return Scenario.model_validate(data)


def _event_variant(days: int | None = None) -> Scenario:
    """The small baseline with a breach on day 5 (and another horizon when ``days`` is given):
    its warm-up is the baseline's. In a comparison every scenario has one horizon (`compare`
    refuses others), so `_compare` keeps the baseline's; a sweep's or `run`'s scenarios may
    differ in it, which `test_another_horizon_or_an_event_keeps_the_warm_up` covers."""
    data = _parent()
    data["name"] = "breach"
    if days is not None:
        data["simulation"]["days"] = days
    data["events"] = [
        {
            "kind": "breach",
            "brand": "Borealis",
            "day": 5,
            "records_share": 0.5,
            "data_types": ["contact", "payment_card"],
        }
    ]
    return Scenario.model_validate(data)


def test_another_horizon_or_an_event_keeps_the_warm_up():
    """A run of another horizon with a breach shares the baseline's warm-up: the same key, and
    the same state at the branch point (the warm-up records nothing that depends on either)."""
    parent = Scenario.model_validate(_parent())
    other = _event_variant(days=parent.simulation.days - 10)
    assert warmup_key(other, 11) == warmup_key(parent, 11)
    a, b = capture(TrustModel(parent, seed=11)), capture(TrustModel(other, seed=11))
    for name in a.population:
        np.testing.assert_array_equal(a.population[name], b.population[name], err_msg=name)


def _runs(folder: Path) -> dict[str, pd.DataFrame]:
    return {
        p.relative_to(folder).as_posix(): pd.read_parquet(p)
        for p in sorted((folder / "runs").rglob("*.parquet"))
    }


def test_the_loader_gives_a_switch_the_parents_policies_before_the_change(tmp_path):
    f = tmp_path / "switch.toml"
    f.write_text(
        f'extends = "{(SCENARIOS / "privacy_first.toml").as_posix()}"\n'
        "policy_from_day = 0\n"
        '[[brands]]\nname = "Aurora"\n[brands.policy]\ntransparency = 0.2\n'
    )
    s = load_scenario(f)
    parent = load_scenario(SCENARIOS / "privacy_first.toml")
    assert s.policy_from_day == 0
    assert {n: p for n, p in s.policy_before.items()} == {b.name: b.policy for b in parent.brands}
    assert s.brands[0].policy.transparency == 0.2
    assert s.before_change().brands == parent.brands
    # the bundled example switches from the baseline's policy to privacy_first's on day 90
    example = load_scenario("privacy_first_switch")
    assert example.policy_from_day == 90
    assert example.before_change().brands == load_scenario("baseline").brands
    assert example.brands == load_scenario("privacy_first").brands


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("policy_from_day = 40\n", ["policy_from_day = 40", "after the horizon", "0-39"]),
        ("policy_from_day = -1\n", ["policy_from_day = -1", "must be >= 0"]),
    ],
)
def test_a_change_day_outside_the_run_is_an_error(tmp_path, capsys, text, words):
    f = tmp_path / "bad.toml"
    f.write_text(f'extends = "{(SCENARIOS / "baseline.toml").as_posix()}"\n{text}')
    assert main(["run", str(f), "--days", "40", "--consumers", "100", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert all(w in err for w in words) and str(f) in err and "Traceback" not in err


def test_a_change_with_nothing_to_switch_from_is_an_error(tmp_path, capsys):
    f = tmp_path / "alone.toml"  # the baseline itself extends nothing
    text = (SCENARIOS / "baseline.toml").read_text()
    f.write_text(text.replace('name = "baseline"', 'name = "alone"\npolicy_from_day = 3', 1))
    assert main(["validate", str(f)]) == 2
    err = capsys.readouterr().err
    assert "policy_from_day = 3" in err and "no earlier policy" in err and str(f) in err


def test_a_change_at_day_0_shares_the_parents_warm_up_and_differs_after(monkeypatch):
    monkeypatch.setenv("OMNITRUST_BRANCH", "off")
    parent = Scenario.model_validate(_parent())
    switch = _switch(0)
    a, b = TrustModel(parent, seed=11), TrustModel(switch, seed=11)
    # the same state at the branch point: every consumer array, and the warm-up's revenue
    sa, sb = capture(a), capture(b)
    assert sa.population.keys() == sb.population.keys()
    for name in sa.population:
        np.testing.assert_array_equal(sa.population[name], sb.population[name], err_msg=name)
    np.testing.assert_array_equal(sa.daily_revenue, sb.daily_revenue)
    assert warmup_key(parent, 11) == warmup_key(switch, 11)
    # the change happens on day 0: the levers become the scenario's own
    a.run()
    b.run()
    for name, values in brand_table(switch)._asdict().items():
        np.testing.assert_array_equal(getattr(b.brand_levers, name), values, err_msg=name)
    ta, tb = a.timeseries(), b.timeseries()
    aurora = (ta["brand"] == "Aurora") & (ta["metric"] == "trust") & (ta["channel"] == "all")
    assert not np.array_equal(ta.loc[aurora, "value"], tb.loc[aurora, "value"])
    # the same levers from the first warm-up day are another market: it was born different
    born = TrustModel(_switch(None), seed=11)
    assert not np.array_equal(capture(born).population["r"], sb.population["r"])


def test_a_change_inside_the_horizon_leaves_the_days_before_it_untouched(monkeypatch):
    monkeypatch.setenv("OMNITRUST_BRANCH", "off")
    parent = simulate(Scenario.model_validate(_parent()), 0, seed=5)
    switch = simulate(_switch(15), 0, seed=5)
    key = ["day", "brand", "channel", "metric"]
    merged = parent.merge(switch, on=key, suffixes=("_parent", "_switch"))
    before = merged[merged["day"] < 15]
    after = merged[(merged["day"] >= 15) & (merged["brand"] == "Aurora")]
    np.testing.assert_array_equal(before["value_parent"], before["value_switch"])
    assert (after["value_parent"] != after["value_switch"]).any()


def test_a_change_to_the_same_policy_is_the_parent_exactly(monkeypatch):
    monkeypatch.setenv("OMNITRUST_BRANCH", "off")
    parent = simulate(Scenario.model_validate(_parent()), 1, seed=5)
    same = simulate(_switch(10, name="baseline", policy={}), 1, seed=5)
    pd.testing.assert_frame_equal(parent, same, check_exact=True)


def _compare(out: Path, workers: int) -> None:
    compare(
        [Scenario.model_validate(_parent()), _switch(0), _switch(12, "later"), _event_variant()],
        out=out,
        workers=workers,
        independent=False,
        charts=False,
        progress=False,
        bootstrap=0,
    )


@pytest.fixture(scope="module")
def unbranched(tmp_path_factory) -> dict[str, pd.DataFrame]:
    """The daily tables of the four scenarios, each run spinning its own warm-up up."""
    folder = tmp_path_factory.mktemp("plain")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OMNITRUST_BRANCH", "off")
        _compare(folder, workers=1)
    assert not (folder / "warmups").exists()
    return _runs(folder)


def test_branched_runs_store_the_same_daily_tables_as_unbranched_ones(
    tmp_path, monkeypatch, unbranched
):
    expected = unbranched
    assert len(expected) == 8
    monkeypatch.setenv("OMNITRUST_BRANCH", "on")
    for workers in (1, 2):
        CACHE.clear()
        _compare(tmp_path / f"branched{workers}", workers=workers)
        got = _runs(tmp_path / f"branched{workers}")
        assert got.keys() == expected.keys()
        for name, table in expected.items():
            pd.testing.assert_frame_equal(got[name], table, check_exact=True, obj=name)
        # four scenarios, two replications, one shared warm-up per replication seed
        assert len(list((tmp_path / f"branched{workers}" / "warmups").glob("*.npz"))) == 2
    # a rerun into a fresh folder with the states on disk spins nothing up again
    CACHE.clear()
    folder = tmp_path / "again"
    (folder / "warmups").mkdir(parents=True)
    for p in (tmp_path / "branched1" / "warmups").glob("*.npz"):
        (folder / "warmups" / p.name).write_bytes(p.read_bytes())
    before = CACHE.hits["disk"]
    _compare(folder, workers=1)
    assert CACHE.hits["disk"] - before == 2
    got = _runs(folder)
    for name, table in expected.items():
        pd.testing.assert_frame_equal(got[name], table, check_exact=True, obj=name)


def test_branched_runs_on_a_dask_cluster_match(tmp_path, monkeypatch, unbranched):
    distributed = pytest.importorskip("dask.distributed")
    monkeypatch.setenv("OMNITRUST_BRANCH", "on")
    CACHE.clear()
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        compare(
            [
                Scenario.model_validate(_parent()),
                _switch(0),
                _switch(12, "later"),
                _event_variant(),
            ],
            out=tmp_path / "dask",
            client=client,
            independent=False,
            charts=False,
            progress=False,
            bootstrap=0,
        )
    expected, got = unbranched, _runs(tmp_path / "dask")
    assert got.keys() == expected.keys()
    for name, table in expected.items():
        pd.testing.assert_frame_equal(got[name], table, check_exact=True, obj=name)


def test_the_reference_model_switches_policy_on_the_same_day():
    from sim.reference import ReferenceModel

    data = baseline_data(consumers=60, days=4, replications=1, warmup=3)
    parent = Scenario.model_validate(data)
    switch = _switch(2)
    switch = Scenario.model_validate(
        {**switch.model_dump(mode="python"), "simulation": parent.simulation.model_dump()}
    )
    m = ReferenceModel(switch, seed=3)
    aurora = m.brands[0]
    seen = []
    while m.running:
        m.step()
        seen.append(aurora.transparency)
    # days -3..1 (internal 0..4) under the baseline's policy, days 2 and 3 under the new one
    assert seen == [parent.brands[0].policy.transparency] * 5 + [SWITCHED["transparency"]] * 2


def test_only_shared_warm_ups_are_spun_up_apart_in_experiments(tmp_path):
    from sim.runner import with_warm_starts

    tiny = dict(consumers=50, days=3, replications=1, warmup=4)
    a = Scenario.model_validate(baseline_data(**tiny))
    data = baseline_data(**tiny)
    data["name"] = "other_world"
    data["world"]["contagion"] = 0.5  # another market: its warm-up is its own
    b = Scenario.model_validate(data)
    # a with replications 0 and 1 (other seeds), b in another world: no warm-up is shared
    tasks = [(a.model_dump(mode="json"), 0, 3), (b.model_dump(mode="json"), 0, 3)]
    tasks.append((a.model_dump(mode="json"), 1, 3))
    CACHE.clear()
    out = with_warm_starts(tasks, folder=tmp_path, unique=False)
    assert [len(t) for t in out] == [3, 3, 3]  # nothing shared, nothing kept
    assert not list(tmp_path.glob("*.npz"))
    twin = (Scenario.model_validate({**a.model_dump(), "name": "twin"}).model_dump(mode="json"),)
    out = with_warm_starts([tasks[0], (*twin, 0, 3)], folder=tmp_path, unique=False)
    assert [len(t) for t in out] == [4, 4] and out[0][3] is out[1][3]
    assert len(list(tmp_path.glob("*.npz"))) == 1


def test_a_warm_up_folder_is_pruned_oldest_first(tmp_path, monkeypatch):
    import os

    from sim.model.warmup import prune

    for k in range(4):  # the oldest a pickle of the first format: it counts, and goes first
        path = tmp_path / f"{k}.{'pkl' if k == 0 else 'npz'}"
        path.write_bytes(b"x" * 400_000)
        os.utime(path, (1_000_000 + k, 1_000_000 + k))
    (tmp_path / "notes.txt").write_bytes(b"x" * 400_000)  # not a state: never counted nor removed
    monkeypatch.setenv("OMNITRUST_CACHE_MAX_MB", "1")  # 1 MiB holds two of the four
    prune(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2.npz", "3.npz", "notes.txt"]


def test_the_charts_mark_the_day_the_policies_change():
    import matplotlib.pyplot as plt

    from sim.experiments import run
    from sim.experiments.plots import trust_bands_figure

    tiny = dict(consumers=200, days=30, replications=1, warmup=10)
    data = baseline_data(**tiny)
    before = {b["name"]: copy.deepcopy(b.get("policy", {})) for b in data["brands"]}
    data.update(name="switch", policy_from_day=12, policy_before=before)
    brand(data, "Aurora")["policy"].update(SWITCHED)
    result = run([Scenario.model_validate(baseline_data(**tiny)), Scenario.model_validate(data)])

    def marked(fig) -> set[float]:
        return {
            float(line.get_xdata()[0])
            for ax in fig.axes
            for line in ax.get_lines()
            if line.get_linestyle() == "-." and len(set(line.get_xdata())) == 1
        }

    for fig in (result.plot_trust(), result.plot_consent()):
        assert marked(fig) == {12.0}
        assert "policy change" in [t.get_text() for leg in fig.legends for t in leg.get_texts()]
        plt.close(fig)
    trust = result.metric("trust").assign(scenario=lambda d: d["scenario"].astype(str))
    fig = trust_bands_figure(trust, ["baseline", "switch"], ["Aurora"], changes={"switch": 12})
    assert marked(fig) == {12.0}
    plt.close(fig)


def test_a_warm_up_shared_across_chunks_is_spun_up_once(tmp_path, monkeypatch):
    # three markets with one warm-up (they differ only in a breach from day 1) and two
    # replications: sorted by replication, chunks of four split replication 1's runs 1 | 2
    from sim.experiments import engine
    from sim.experiments.executors import TaskMap
    from sim.experiments.store import ResultStore, RunSpec
    from sim.model import market

    tiny = dict(consumers=60, days=3, replications=2, warmup=4)
    variants = []
    for k, name in enumerate(["a", "b", "c"]):
        data = baseline_data(**tiny)
        data["name"] = name
        if k:
            data["events"] = [
                {
                    "kind": "breach",
                    "brand": "Borealis",
                    "day": 1,
                    "records_share": 0.1 * k,
                    "data_types": ["contact"],
                }
            ]
        variants.append(Scenario.model_validate(data))
    specs = [RunSpec(s, r, 7) for r in range(2) for s in variants]
    spun: list[int] = []
    real = market.create_population

    def counted(scenario, seed):
        spun.append(seed)
        return real(scenario, seed)

    monkeypatch.setattr(market, "create_population", counted)
    monkeypatch.setattr(engine, "MIN_CHUNK", 4)
    CACHE.clear()
    assert engine.execute(specs, ResultStore(tmp_path), TaskMap(), progress=False) == 6
    assert sorted(spun) == sorted({s.replication_seed for s in specs})  # each warm-up once
    assert len(list((tmp_path / "warmups").glob("*.npz"))) == 2  # and both saved


def test_run_holds_the_warm_ups_of_one_chunk_at_a_time(monkeypatch):
    # ten replications of one market: ten warm-ups, of which run holds at most a chunk's (plus
    # the one the memory cache keeps at max_bytes 0), and the tables are those of runs that
    # spin their own warm-ups up, in replication order
    import gc
    import weakref

    from sim import runner

    tiny = dict(consumers=50, days=3, replications=10, warmup=4)
    s = Scenario.model_validate(baseline_data(**tiny))
    monkeypatch.setenv("OMNITRUST_BRANCH", "off")
    alone = runner.run(s, progress=False).timeseries
    monkeypatch.setenv("OMNITRUST_BRANCH", "on")
    monkeypatch.setenv("OMNITRUST_WARMUP_CACHE", "off")
    monkeypatch.setattr(CACHE, "max_bytes", 0)
    CACHE.clear()
    made: list[weakref.ref] = []
    live: list[int] = []
    spin, simulate_task = runner.warmup_task, runner.simulate_task

    def tracked_spin(task):
        state = spin(task)
        made.append(weakref.ref(state))
        return state

    def counted_run(task):
        gc.collect()
        live.append(sum(ref() is not None for ref in made))
        return simulate_task(task)

    monkeypatch.setattr(runner, "warmup_task", tracked_spin)
    monkeypatch.setattr(runner, "simulate_task", counted_run)
    branched = runner.run(s, progress=False).timeseries
    assert len(live) == 10 and max(live) <= runner.RUN_CHUNK + 1
    pd.testing.assert_frame_equal(branched, alone)


def test_a_file_pruned_by_another_process_meanwhile_is_no_error(tmp_path, monkeypatch):
    # another process prunes the shared cache between this one's listing and its stat/unlink:
    # the write that triggered the prune (after a finished warm-up) must still succeed
    import os

    from sim.model.warmup import WarmState, WarmupCache

    for k in range(3):
        path = tmp_path / f"old{k}.npz"
        path.write_bytes(b"x" * 400_000)
        os.utime(path, (1_000_000 + k, 1_000_000 + k))
    victim = tmp_path / "old0.npz"
    real_glob, real_scandir = Path.glob, os.scandir

    def glob_then_race(self, pattern):
        found = list(real_glob(self, pattern))
        victim.unlink(missing_ok=True)
        return iter(found)

    def scandir_then_race(path):
        entries = list(real_scandir(path))
        victim.unlink(missing_ok=True)

        class Listing(list):
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return False

        return Listing(entries)

    monkeypatch.setattr(Path, "glob", glob_then_race)
    monkeypatch.setattr(os, "scandir", scandir_then_race)
    monkeypatch.setenv("OMNITRUST_CACHE_MAX_MB", "0.5")  # room for one old file at most
    monkeypatch.delenv("OMNITRUST_WARMUP_CACHE", raising=False)
    state = WarmState("new", {}, {}, np.zeros(0), [], {}, None, None)
    WarmupCache().put(state, tmp_path)  # the first write prunes
    assert (tmp_path / "new.npz").is_file() and not victim.exists()
    assert sorted(p.name for p in real_glob(tmp_path, "old*.npz")) == ["old2.npz"]


def test_a_warm_start_of_another_market_or_seed_is_refused():
    tiny = dict(consumers=50, days=3, replications=1, warmup=4)
    a = Scenario.model_validate(baseline_data(**tiny))
    data = baseline_data(**tiny)
    data["world"]["contagion"] = 0.5
    other = Scenario.model_validate(data)
    state = capture(TrustModel(a, seed=11))
    TrustModel(a, seed=11, warm_start=state)  # its own: fine
    for scenario, seed in ((a, 12), (other, 11)):
        with pytest.raises(ValueError, match="not the warm-up of"):
            TrustModel(scenario, seed=seed, warm_start=state)


def test_a_comparison_reopened_from_its_folder_marks_the_policy_change(tmp_path):
    import matplotlib.pyplot as plt

    from sim.experiments.folders import open_results

    tiny = dict(consumers=60, days=6, replications=1, warmup=4)
    data = baseline_data(**tiny)
    before = {b["name"]: copy.deepcopy(b.get("policy", {})) for b in data["brands"]}
    data.update(name="switch", policy_from_day=3, policy_before=before)
    brand(data, "Aurora")["policy"].update(SWITCHED)
    scenarios = [Scenario.model_validate(baseline_data(**tiny)), Scenario.model_validate(data)]
    fresh = compare(
        scenarios, out=tmp_path, charts=False, progress=False, independent=False, bootstrap=50
    )
    loaded = open_results(tmp_path)
    assert fresh.policy_days == {"switch": 3} and loaded.policy_days == fresh.policy_days
    fig = loaded.plot_trust()
    lines = {
        float(line.get_xdata()[0])
        for ax in fig.axes
        for line in ax.get_lines()
        if line.get_linestyle() == "-." and len(set(line.get_xdata())) == 1
    }
    plt.close(fig)
    assert lines == {3.0}


def test_prune_counts_writes_in_progress_and_removes_those_a_killed_writer_left(
    tmp_path, monkeypatch
):
    import os
    import time

    from sim.model.warmup import prune

    now = time.time()
    for k in range(2):  # two states, two hours old
        path = tmp_path / f"{k}.npz"
        path.write_bytes(b"x" * 400_000)
        os.utime(path, (now - 7200 + k, now - 7200 + k))
    # what storage._atomic leaves of a killed writer (two hours old) and of one at work now
    stale = tmp_path / ".abc.npz.k1ll3d.tmp"
    stale.write_bytes(b"x" * 400_000)
    os.utime(stale, (now - 7200, now - 7200))
    fresh = tmp_path / ".def.npz.w0rk1n.tmp"
    fresh.write_bytes(b"x" * 400_000)
    other = tmp_path / ".notes.txt.old.tmp"  # not a state's: never counted nor removed
    other.write_bytes(b"x" * 400_000)
    os.utime(other, (now - 7200, now - 7200))
    # 1 MiB holds two of 400 kB: the write in progress counts, so the older state goes too
    monkeypatch.setenv("OMNITRUST_CACHE_MAX_MB", "1")
    prune(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".def.npz.w0rk1n.tmp",
        ".notes.txt.old.tmp",
        "1.npz",
    ]
