"""Saved warm-up states on disk (`sim.model.warmup`): a NumPy archive plus JSON, never a pickle.

The expected values are independent of the code under test: the state a model holds before it is
saved (compared bit for bit), the daily table of a model that spins its own warm-up up, and a
marker file that only a pickle's payload would create.
"""

from __future__ import annotations

import copy
import io
import math
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.core.catalogue import CHANNELS
from sim.core.streams import replication_seed
from sim.mechanisms.incidents import Breach
from sim.model import TrustModel, market
from sim.model.warmup import (
    CACHE,
    capture,
    dump_state,
    load_state,
    state_path,
    user_cache_dir,
    warmup_key,
)
from sim.runner import simulate, with_warm_starts
from sim.scenario import Scenario

from .conftest import SCENARIOS, baseline_data

TINY = dict(consumers=300, days=12, replications=1, warmup=25)
SEED = 9


def _scenario() -> Scenario:
    return Scenario.model_validate(baseline_data(**TINY))


def _same_array(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def _assert_same_state(got, want) -> None:
    assert got.key == want.key
    for part in ("population", "arrays"):
        g, w = getattr(got, part), getattr(want, part)
        assert list(g) == list(w)
        for name in w:
            assert _same_array(g[name], w[name]), f"{part}.{name}"
    assert _same_array(got.daily_revenue, want.daily_revenue)
    assert got.brands == want.brands
    assert [type(v) for b in got.brands for v in b.values()] == [
        type(v) for b in want.brands for v in b.values()
    ]
    assert got.incidents == want.incidents
    assert got.mesa_rng == want.mesa_rng
    assert got.mesa_random == want.mesa_random


def test_a_saved_state_comes_back_bit_for_bit_and_continues_like_its_own_warm_up(tmp_path):
    scenario = _scenario()
    seed = replication_seed(SEED, 0)
    state = capture(TrustModel(scenario, seed=seed))
    path = state_path(tmp_path, state.key)
    path.write_bytes(dump_state(state))
    assert path.suffix == ".npz"
    loaded = load_state(path, state.key)
    _assert_same_state(loaded, state)
    # the same daily table as a model that ran its own warm-up
    own = simulate(scenario, 0, seed=SEED)
    branched = simulate(scenario, 0, seed=SEED, warm=loaded)
    pd.testing.assert_frame_equal(branched, own, check_exact=True)


def test_every_kind_of_value_a_state_holds_round_trips(tmp_path):
    state = capture(TrustModel(_scenario(), seed=4))
    state = copy.deepcopy(state)
    # what a warm-up's incidents may hold, and awkward floats and NumPy scalars
    state.incidents["breaches"] = [
        Breach(1, 30, 0.25, 5, True, 17, 0.0625, 2, 41, True),
        Breach(-1, 31, 1e-300, 3, False),
    ]
    state.incidents["_uses"] = {("exposure", 30): 2, ("disclosure", 31): 1}
    state.incidents["last_harm_day"] = 44
    state.brands[0]["trust"] = -0.0
    state.brands[1]["trust"] = math.nextafter(0.5, 1.0)
    state.brands[2]["revenue"] = np.float32(1.1)
    state.brands[2]["net_value"] = float("inf")
    path = state_path(tmp_path, state.key)
    path.write_bytes(dump_state(state))
    loaded = load_state(path, state.key)
    _assert_same_state(loaded, state)
    assert math.copysign(1.0, loaded.brands[0]["trust"]) == -1.0
    assert type(loaded.brands[2]["revenue"]) is np.float32
    assert isinstance(loaded.incidents["breaches"][0], Breach)


class _Payload:
    """Unpickling this creates the marker file: what a hostile results folder could do."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def _scenario_file(tmp_path: Path) -> Path:
    f = tmp_path / "tiny.toml"
    f.write_text(
        f'extends = "{(SCENARIOS / "baseline.toml").as_posix()}"\n'
        f"[simulation]\nwarmup_days = {TINY['warmup']}\nseed = {SEED}\n"
    )
    return f


def _run(scenario: Path, out: Path) -> int:
    size = ["--consumers", str(TINY["consumers"]), "--days", str(TINY["days"])]
    return main(["run", str(scenario), *size, "--replications", "1", "--workers", "1",
                 "--out", str(out)])  # fmt: skip


def _key(scenario: Path) -> str:
    from sim.scenario.loading import load_scenario

    s = load_scenario(scenario, consumers=TINY["consumers"], days=TINY["days"], replications=1)
    return warmup_key(s, replication_seed(SEED, 0))


def _count_warm_up_days(monkeypatch) -> list[int]:
    """The warm-up days stepped from now on (a model that restores a saved state steps none)."""
    days: list[int] = []
    step = market.TrustModel.step

    def counted(self):
        if self.day < 0:
            days.append(self.day)
        return step(self)

    monkeypatch.setattr(market.TrustModel, "step", counted)
    return days


def test_a_pickle_in_the_warm_up_folder_is_never_opened(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OMNITRUST_CACHE_DIR", str(tmp_path / "cache"))
    scenario = _scenario_file(tmp_path)
    key = _key(scenario)
    # the payload works: unpickling it makes its marker
    probe = tmp_path / "probe"
    pickle.loads(pickle.dumps(_Payload(probe))).close()
    assert probe.exists()
    marker = tmp_path / "marker"
    payload = pickle.dumps(_Payload(marker))
    folder = tmp_path / "received"
    (folder / "warmups").mkdir(parents=True)
    (folder / "warmups" / f"{key}.pkl").write_bytes(payload)  # the old format's name
    (folder / "warmups" / f"{key}.npz").write_bytes(payload)  # and disguised as the new one
    CACHE.clear()
    days = _count_warm_up_days(monkeypatch)
    assert _run(scenario, folder) == 0
    capsys.readouterr()
    assert not marker.exists()
    assert len(days) == TINY["warmup"]  # the state was not usable: the warm-up was spun up
    assert load_state(folder / "warmups" / f"{key}.npz", key).key == key  # and saved over it


def test_a_damaged_or_edited_state_is_ignored_and_spun_up_again(tmp_path, monkeypatch):
    scenario = _scenario()
    task = (scenario.model_dump(mode="json"), 0, SEED)
    key = warmup_key(scenario, replication_seed(SEED, 0))
    good = dump_state(capture(TrustModel(scenario, seed=replication_seed(SEED, 0))))
    # edited by hand: one consumer's trust changed and the archive saved again with NumPy
    with np.load(io.BytesIO(good), allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["population.r"][0, 0] += 0.25
    edited = io.BytesIO()
    np.savez(edited, **arrays)
    for name, data in (("truncated", good[: len(good) // 2]), ("edited", edited.getvalue())):
        folder = tmp_path / name
        folder.mkdir()
        monkeypatch.setenv("OMNITRUST_CACHE_DIR", str(tmp_path / f"cache-{name}"))
        state_path(folder, key).write_bytes(data)
        CACHE.clear()
        assert CACHE.get(key, [folder]) is None, name
        hits = dict(CACHE.hits)
        [(*_, state)] = with_warm_starts([task], folder=folder)
        assert CACHE.hits == hits  # spun up, not read
        assert load_state(state_path(folder, key), key).key == key  # and written over the bad one
        pd.testing.assert_frame_equal(
            simulate(scenario, 0, seed=SEED, warm=state),
            simulate(scenario, 0, seed=SEED),
            check_exact=True,
        )


def test_a_second_run_into_a_new_folder_takes_the_warm_up_from_the_user_cache(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("OMNITRUST_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("OMNITRUST_WARMUP_CACHE", raising=False)
    scenario = _scenario_file(tmp_path)
    key = _key(scenario)
    days = _count_warm_up_days(monkeypatch)
    CACHE.clear()
    assert _run(scenario, tmp_path / "first") == 0
    assert len(days) == TINY["warmup"]
    assert state_path(tmp_path / "first" / "warmups", key).is_file()
    assert state_path(user_cache_dir(), key).is_file()
    CACHE.clear()  # a new process: nothing in memory
    disk = CACHE.hits["disk"]
    assert _run(scenario, tmp_path / "second") == 0
    assert len(days) == TINY["warmup"]  # no warm-up day stepped the second time
    assert CACHE.hits["disk"] == disk + 1
    # the folder keeps its own copy, so that it resumes without the user cache
    assert state_path(tmp_path / "second" / "warmups", key).is_file()
    # the numbers: the same, and those of a run that spins its own warm-up up
    monkeypatch.setenv("OMNITRUST_BRANCH", "off")
    assert _run(scenario, tmp_path / "alone") == 0
    capsys.readouterr()
    alone = pd.read_parquet(tmp_path / "alone" / "timeseries.parquet")
    for name in ("first", "second"):
        got = pd.read_parquet(tmp_path / name / "timeseries.parquet")
        pd.testing.assert_frame_equal(got, alone, check_exact=True, obj=name)


@pytest.mark.parametrize("setting", ["off", "0"])
def test_disk_caches_off_writes_no_state_anywhere(tmp_path, monkeypatch, setting):
    monkeypatch.setenv("OMNITRUST_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("OMNITRUST_WARMUP_CACHE", setting)
    scenario = _scenario()
    CACHE.clear()
    with_warm_starts([(scenario.model_dump(mode="json"), 0, SEED)], folder=tmp_path / "out")
    assert not list(tmp_path.rglob("*.npz"))


def _misfits(state):
    """Copies of ``state`` that a file with a recomputed digest could hold: each does not fit
    the scenario (the freshly built model's arrays: (n,), (n, brands), (warmup, brands)...)."""
    n = state.population["flags"].shape[0]

    def edit(change):
        bad = copy.deepcopy(state)
        change(bad)
        return bad

    def rows(s):
        s.population["flags"] = s.population["flags"][:5].copy()

    def dtype(s):
        s.population["r"] = s.population["r"].astype(np.float64)

    def tie(s):
        s.population["ties"][0] = n + 1000  # a friend beyond the last consumer

    def pointer(s):
        s.population["tie_start"][-1] += 7

    def tally(s):
        s.arrays["_counts"] = s.arrays["_counts"][:, :5].copy()

    def days(s):
        s.daily_revenue = s.daily_revenue[:3].copy()

    def brands(s):
        s.brands = s.brands[:2]

    def harm_day(s):
        s.incidents["last_harm_day"] = 3.0

    def breach(s):
        s.incidents["breaches"] = [Breach(7, 30, 0.25, 5, True)]

    cases = (rows, dtype, tie, pointer, tally, days, brands, harm_day, breach)
    return {f.__name__: edit(f) for f in cases}


def test_a_state_that_does_not_fit_the_scenario_is_refused_and_spun_up_again(tmp_path, monkeypatch):
    """The kernels do not check bounds: a file whose arrays do not have the dtypes and shapes of
    the scenario (with a recomputed, valid digest) must never reach them."""
    scenario = _scenario()
    seed = replication_seed(SEED, 0)
    state = capture(TrustModel(scenario, seed=seed))
    task = (scenario.model_dump(mode="json"), 0, SEED)
    want = simulate(scenario, 0, seed=SEED)
    for name, bad in _misfits(state).items():
        with pytest.raises(ValueError, match="does not fit"):
            TrustModel(scenario, seed=seed, warm_start=bad)
        folder = tmp_path / name
        folder.mkdir()
        state_path(folder, bad.key).write_bytes(dump_state(bad))  # its own digest is valid
        load_state(state_path(folder, bad.key), bad.key)  # the file itself checks out
        monkeypatch.setenv("OMNITRUST_CACHE_DIR", str(tmp_path / f"cache-{name}"))
        CACHE.clear()
        hits = dict(CACHE.hits)
        [(*_, got)] = with_warm_starts([task], folder=folder)
        assert CACHE.hits == hits, name  # spun up, not read
        _assert_same_state(got, state)
        pd.testing.assert_frame_equal(simulate(scenario, 0, seed=SEED, warm=got), want,
                                      check_exact=True)  # fmt: skip


def test_the_population_layout_is_what_a_population_is_drawn_with():
    from sim.state.population import LAYOUT, Population, check_population, create_population

    scenario = _scenario()
    population = create_population(scenario, 3)
    assert list(LAYOUT) == list(Population._fields)
    n, b = scenario.simulation.consumers, len(scenario.brands)
    for name, (dtype, kind, fill) in LAYOUT.items():
        a = getattr(population, name)
        assert a.dtype == np.dtype(dtype), name
        if kind != "E":
            assert a.shape == {"N": (n,), "NB": (n, b), "N+1": (n + 1,)}[kind], name
        if fill is not None:  # not drawn: every consumer starts at the stated value
            assert (a == fill).all(), name
    assert population.ties.size > 0 and population.r.std() > 0  # the drawn ones are drawn
    check_population(population._asdict(), n, b, len(CHANNELS))


@pytest.mark.parametrize(
    "name, wrong",
    [("segment", "int64"), ("concern", "float16"), ("reads_terms", "int8"), ("ties", "int64")],
)
def test_a_drawing_function_that_drifts_from_the_layout_is_refused(monkeypatch, name, wrong):
    """`create_population` holds what the drawing functions return to LAYOUT rather than casting
    it over: a drawn array of another dtype (an int64 segment, which would wrap above 127 when
    cast to int8; float16 traits; ties as int64) is a bug, refused. Only a float32 array may be
    drawn in float64 (the traits are drawn in double precision and rounded once)."""
    import sim.state.population as population_module

    def drifted(draw):
        def wrapper(*args, **kwargs):
            out = draw(*args, **kwargs)
            if isinstance(out, dict):
                return {k: v.astype(wrong) if k == name else v for k, v in out.items()}
            return (out[0], out[1].astype(wrong))  # small_world: (tie_start, ties)

        return wrapper

    drawer = "small_world" if name == "ties" else "draw_traits"
    monkeypatch.setattr(population_module, drawer, drifted(getattr(population_module, drawer)))
    with pytest.raises(TypeError, match=f"{name}.*{wrong}"):
        population_module.create_population(_scenario(), 3)


def _no_member_read(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a member was read")

    monkeypatch.setattr(zipfile.ZipFile, "open", refuse)


def test_a_compressed_or_oversized_archive_is_refused_before_any_member_is_read(
    tmp_path, monkeypatch
):
    state = capture(TrustModel(_scenario(), seed=2))
    good = dump_state(state)
    with zipfile.ZipFile(io.BytesIO(good)) as archive:  # np.savez stores, never deflates
        assert {m.compress_type for m in archive.infolist()} == {zipfile.ZIP_STORED}
    with np.load(io.BytesIO(good), allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    # a deflated member of an expected name: 16 MB of zeros in a few kilobytes
    bomb = tmp_path / "bomb.npz"
    with (
        zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("daily_revenue.npy", "w", force_zip64=True) as f,
    ):
        np.lib.format.write_array_header_1_0(
            f, {"descr": "<f8", "fortran_order": False, "shape": (2_000_000,)}
        )
        f.write(bytes(16_000_000))
    assert bomb.stat().st_size < 100_000
    # the same state, deflated by NumPy: valid digest, but not what dump_state writes
    deflated = tmp_path / "deflated.npz"
    np.savez_compressed(deflated, **arrays)
    # a stored member whose entry claims more bytes than the file holds
    claims = tmp_path / "claims.npz"
    data = bytearray(good)
    with zipfile.ZipFile(io.BytesIO(good)) as archive:
        first = archive.infolist()[0]
    central = data.rindex(first.filename.encode()) - 26  # its central directory entry's sizes
    data[central : central + 8] = (2**31).to_bytes(4, "little") * 2
    claims.write_bytes(bytes(data))
    _no_member_read(monkeypatch)
    for path, why in ((bomb, "compressed"), (deflated, "compressed"), (claims, "more bytes")):
        with pytest.raises(ValueError, match=why):
            load_state(path, state.key)


def test_an_array_header_announcing_more_than_its_member_holds_is_refused(tmp_path):
    state = capture(TrustModel(_scenario(), seed=2))
    with np.load(io.BytesIO(dump_state(state)), allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    path = tmp_path / "header.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for name, a in arrays.items():
            with archive.open(f"{name}.npy", "w") as f:
                shape = (10**12,) if name == "daily_revenue" else a.shape
                header = {"descr": a.dtype.str, "fortran_order": False, "shape": shape}
                np.lib.format.write_array_header_1_0(f, header)
                f.write(a.tobytes())
    with pytest.raises(ValueError, match="header"):
        load_state(path, state.key)
