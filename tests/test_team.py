"""The spinning thread team (`sim.core.team`): block passes on 2 threads without a hand-off cost.

The team's worker threads poll a control array in compiled code and call the pass's kernel by
address; blocks are claimed one at a time. These tests check what must hold whatever the timing:
every block runs exactly once with the right arguments (results against NumPy's own
computation), a model's numbers on 2 threads equal its numbers on 1 (the serial path, which does
not touch the team), the worker sleeps when idle and wakes for the next pass, and a kernel's
exception comes out of `over_blocks` as in a serial call. Which thread takes which block depends
on the machine's load; the tests only ask that the worker take part at some point.
"""

from __future__ import annotations

import gc
import hashlib
import threading
import time
from pathlib import Path

import numba as nb
import numpy as np
import pytest

from sim.core import blocks, team
from sim.loading import load_scenario
from sim.model import TrustModel

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
N = 3 * blocks.BLOCK + 123  # 4 blocks, the last one short


@nb.njit(nogil=True)
def _shift_blocks(k0, k1, r, s, step):
    """r[i, :] += step * (block of i); s[i, :] += 1 (a layout of the team: two float32 tables and
    a float32 scalar, like trust._forget_blocks)."""
    n = r.shape[0]
    for k in range(k0, k1):
        for i in range(k * blocks.BLOCK, min(n, (k + 1) * blocks.BLOCK)):
            for j in range(r.shape[1]):
                r[i, j] += step * np.float32(k)
                s[i, j] += np.float32(1.0)


@nb.njit(nogil=True)
def _slow_blocks(k0, k1, r, s, step):
    """`_shift_blocks` that takes ~0.5 ms a block (so a woken worker has time to join in)."""
    n = r.shape[0]
    for k in range(k0, k1):
        acc = 0.0
        for rep in range(200):  # a chain of dependent additions: time passes
            for i in range(k * blocks.BLOCK, min(n, (k + 1) * blocks.BLOCK)):
                acc += r[i, 0] * 1.0000001 + rep
        if acc == -1.0:  # never (acc > 0): keeps the loop from being optimised away
            s[0, 0] = np.float32(acc)
        for i in range(k * blocks.BLOCK, min(n, (k + 1) * blocks.BLOCK)):
            for j in range(r.shape[1]):
                r[i, j] += step * np.float32(k)
                s[i, j] += np.float32(1.0)


@nb.njit(nogil=True)
def _raise_on_block_2(k0, k1, r, s, step):
    for k in range(k0, k1):
        if k == 2:
            raise ValueError("block 2 refuses")
        r[k * blocks.BLOCK, 0] += step


def _model(consumers=N, seed=3, threads=2, days=10, name="baseline.toml"):
    sc = load_scenario(SCENARIOS / name, consumers=consumers, days=days)
    return TrustModel(sc, seed=seed, threads=threads, overrides={"simulation.warmup_days": 5})


def _digest(model) -> str:
    text = model.timeseries().to_csv(index=False, float_format="%.17g", lineterminator="\n")
    return hashlib.sha256(text.encode()).hexdigest()


def _block_of_rows(n):
    return (np.arange(n) // blocks.BLOCK).astype(np.float32)[:, None]


def _team_threads():
    return [t for t in threading.enumerate() if t.name.startswith("omnitrust-team")]


def _passes(model, fn, r, s, step, times):
    with blocks.bound(model._bound):
        blocks.set_threads(2)
        try:
            for _ in range(times):
                blocks.over_blocks(fn, r.shape[0], r, s, np.float32(step))
        finally:
            blocks.set_threads(1)


@pytest.fixture(autouse=True)
def always_the_team(monkeypatch):
    """Every pass on the team, even where a serial call has been faster (a busy machine)."""
    monkeypatch.setattr(team, "adaptive", False)


def _ready(model, bound=None):
    """Passes until the team has loaded its compiled code (`Team.prepare`: until then a pass
    runs serially) and taken the model (or ``bound``) on."""
    bound = bound or model._bound
    r = np.zeros((N, 1), np.float32)
    deadline = time.perf_counter() + 60.0
    while bound.team_of is not team._team or team._team is None:
        assert time.perf_counter() < deadline and not (team._team and team._team.failed)
        with blocks.bound(bound):
            blocks.set_threads(2)
            try:
                blocks.over_blocks(_shift_blocks, N, r, r.copy(), np.float32(1.0))
            finally:
                blocks.set_threads(1)
        time.sleep(0.005)


@pytest.fixture
def model():
    m = _model(days=2)
    m.run()
    _ready(m)
    return m


def test_every_mechanism_kernel_runs_on_the_team(model):
    """The eight block kernels of the mechanisms fit a layout of the team: a changed signature
    would silently send them back to the slow thread pool."""
    from sim.mechanisms import churn, incidents, journey, metrics, outreach, trust

    pop, brands, par = model._bound.objects
    nk = blocks.n_blocks(N)
    counts = np.zeros((nk,) + model._counts.shape)
    key, day = np.uint64(7), 3
    calls = {
        journey._needs_blocks: (pop, par, key),
        journey._research_blocks: (pop, brands, par, key, key, key, day, counts),
        outreach._send_blocks: (pop, brands, par, key, counts),
        journey._purchase_blocks: (
            pop,
            brands,
            par,
            key,
            key,
            key,
            day,
            counts,
            np.zeros((nk,) + model._purchases.shape),
            np.zeros((nk,) + model._revenue.shape),
        ),  # fmt: skip
        trust._forget_blocks: (pop.r, pop.s, np.float32(0.99)),
        churn._leave_blocks: (pop, brands, par, key, day, counts),
        metrics._tally_blocks: (
            pop,
            par,
            day,
            np.zeros((nk,) + model._stocks.T.shape),
            np.zeros((nk,) + model._trust_hist.shape),
            np.zeros((nk, model._market.size)),
        ),  # fmt: skip
        incidents._land_harm_blocks: (pop, par, key, day, counts, np.zeros(nk, np.int64)),
    }
    layouts = set()
    for fn, args in calls.items():
        p = team.plan(fn, args, model._bound.objects, model._bound.numba_types())
        assert p is not None, fn.__name__
        layouts.add(p.layout)
    assert layouts == set(range(len(team.LAYOUTS)))
    # a call that fits no layout (an int32 key) is left to the pool
    assert team.plan(journey._needs_blocks, (pop, par, np.int32(7)), model._bound.objects,
                     model._bound.numba_types()) is None  # fmt: skip


def test_two_threads_give_the_one_thread_numbers_with_models_alternating():
    """Two models stepped in turn from one thread (the team switches between their tuples at
    every pass) give, each, the table it gives alone on one thread."""
    alone = []
    for seed in (1, 2):
        m = _model(seed=seed, threads=1, days=30)
        m.run()
        alone.append(_digest(m))
    a, b = _model(seed=1, days=30), _model(seed=2, days=30)
    while a.running or b.running:
        for m in (a, b):
            if m.running:
                m.step()
    assert [_digest(a), _digest(b)] == alone
    assert sum(team._team.taken()[1:]) > 0  # the worker took blocks at some point


def test_many_short_passes(model):
    """2,000 passes in a row over 4 blocks: every block exactly once per pass."""
    r = np.zeros((N, 3), np.float32)
    s = np.zeros((N, 3), np.float32)
    _passes(model, _shift_blocks, r, s, 1.0, 2000)
    np.testing.assert_array_equal(s, np.full((N, 3), 2000, np.float32))
    np.testing.assert_array_equal(r, np.broadcast_to(2000 * _block_of_rows(N), (N, 3)))


def test_the_worker_sleeps_when_idle_and_wakes_for_the_next_pass(model):
    r = np.zeros((N, 2), np.float32)
    s = np.zeros((N, 2), np.float32)
    _passes(model, _shift_blocks, r, s, 1.0, 1)
    crew = team._team
    sleeping = team._SLEEP
    passes, joined = 1, False
    for _ in range(20):
        deadline = time.perf_counter() + 2.0
        while crew.ctrl[sleeping] != 1 and time.perf_counter() < deadline:
            time.sleep(0.005)
        assert crew.ctrl[sleeping] == 1, "the idle worker did not go to sleep"
        before = crew.taken()[1]
        _passes(model, _slow_blocks, r, s, 1.0, 1)
        passes += 1
        if crew.taken()[1] > before:
            joined = True
            break
    assert joined, "a sleeping worker never joined a later pass"
    np.testing.assert_array_equal(s[:, 1], np.full(N, passes, np.float32))
    np.testing.assert_array_equal(r[:, 1], passes * _block_of_rows(N)[:, 0])


def test_no_thread_spins_when_the_model_is_idle(model):
    """After a pass and the worker's short poll, the process uses (almost) no CPU while idle."""
    r = np.zeros((N, 2), np.float32)
    s = np.zeros((N, 2), np.float32)
    _passes(model, _shift_blocks, r, s, 1.0, 50)
    assert _team_threads()
    time.sleep(0.05)  # > team.SPIN_SECONDS: the worker has gone to sleep
    cpu = time.process_time()
    time.sleep(0.2)
    assert time.process_time() - cpu < 0.02


def test_a_kernel_that_raises_in_the_team_raises_in_the_caller(model):
    r = np.zeros((N, 2), np.float32)
    s = np.zeros((N, 2), np.float32)
    with pytest.raises(ValueError, match="block 2 refuses"):
        _passes(model, _raise_on_block_2, r, s, 1.0, 1)
    _passes(model, _shift_blocks, r, s, 1.0, 3)  # the team still works
    np.testing.assert_array_equal(s, np.full((N, 2), 3, np.float32))


def test_shutdown_then_reuse(model):
    r = np.zeros((N, 2), np.float32)
    s = np.zeros((N, 2), np.float32)
    _passes(model, _shift_blocks, r, s, 1.0, 5)
    assert _team_threads()
    blocks.shutdown()
    assert not _team_threads()
    _passes(model, _shift_blocks, r, s, 1.0, 5)
    assert _team_threads()
    _ready(model)
    _passes(model, _shift_blocks, r, s, 1.0, 5)
    assert sum(team._team.taken()) > 0  # the new team ran passes
    np.testing.assert_array_equal(s, np.full((N, 2), 15, np.float32))
    np.testing.assert_array_equal(r, np.broadcast_to(15 * _block_of_rows(N), (N, 2)))
    blocks.shutdown()


def test_the_last_dropped_model_takes_the_threads_along(model):
    """When no model (its `Bound`) that used the team is left, the team's threads end; the next
    model's first pass starts a new team. (A `TrustModel` itself stays alive in this Mesa:
    ``mesa.Agent._ids`` keeps every model; a `Bound` over its tuples stands in for one.)"""
    blocks.shutdown()
    r = np.zeros((N, 2), np.float32)
    s = np.zeros((N, 2), np.float32)
    b = blocks.Bound(*model._bound.objects)
    _ready(model, b)
    with blocks.bound(b):
        blocks.set_threads(2)
        try:
            blocks.over_blocks(_shift_blocks, N, r, s, np.float32(1.0))
        finally:
            blocks.set_threads(1)
    assert team._team.live == 1  # b only
    assert _team_threads()
    del b
    gc.collect()
    deadline = time.perf_counter() + 5.0
    while _team_threads() and time.perf_counter() < deadline:
        time.sleep(0.01)
    assert not _team_threads()
    _passes(model, _shift_blocks, r, s, 1.0, 2)
    assert _team_threads()
    np.testing.assert_array_equal(s, np.full((N, 2), 3, np.float32))


def test_a_model_built_after_another_is_dropped_gives_its_one_thread_numbers():
    first = _model(seed=5, days=8)
    first.run()
    del first
    gc.collect()
    again = _model(seed=5, days=8)
    again.run()
    alone = _model(seed=5, days=8, threads=1)
    alone.run()
    assert _digest(again) == _digest(alone)


def test_a_kernel_runs_the_faster_way_and_tries_the_other_now_and_then(monkeypatch):
    """`_Plan.use_team`: both ways first, then the one with the lower moving average of wall
    time, the other once in `PROBE_EVERY` passes."""
    monkeypatch.setattr(team, "adaptive", True)
    p = team._Plan(0, 0, (), ())
    ways = []
    for _ in range(2 + 3 * team.PROBE_EVERY):
        on_team = p.use_team()
        ways.append(on_team)
        p.timed(on_team, 2.0 if on_team else 1.0)  # the team twice as slow: a busy machine
    assert ways[:2] == [True, False]
    assert sum(ways[2:]) == 3  # serial, but for one probe of the team per PROBE_EVERY passes
    for _ in range(40):  # the machine frees up: the team becomes 4 times as fast
        p.timed(on_team := p.use_team(), 0.25 if on_team else 1.0)
    assert p.use_team() or p.passes % team.PROBE_EVERY == 0
    assert p.seconds[1] < p.seconds[0]
