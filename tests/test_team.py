"""The spinning thread team (`sim.core.team`): block passes on 2 threads without a hand-off cost.

The team's worker threads poll a control array in compiled code and call the pass's kernel by
address; blocks are claimed one at a time. These tests check what must hold whatever the timing:
every block runs exactly once with the right arguments (results against NumPy's own
computation), a model's numbers on 2 threads equal its numbers on 1 (the serial path, which does
not touch the team), the worker sleeps when idle and wakes for the next pass, and a kernel's
exception comes out of `over_blocks` as in a serial call. Which thread takes which block depends
on the machine's load; the tests only ask that the worker take part at some point. Every test
allows 4 threads whatever the machine's cores (`always_the_team`) and waits for the team to be
ready (`_ready`: its compiled code may have to be compiled first) before it counts on it, so none
depends on the core count, on a warm Numba cache or on the tests run before it.
"""

from __future__ import annotations

import gc
import hashlib
import sys
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
    """`_shift_blocks` that takes ~5 ms a block: a woken worker has time to join in even when the
    machine is loaded (at ~0.5 ms a block, 2 ms a pass, a CI run beside other work saw the
    woken worker miss 20 passes in a row)."""
    n = r.shape[0]
    for k in range(k0, k1):
        acc = 0.0
        for rep in range(2000):  # a chain of dependent additions: time passes
            for i in range(k * blocks.BLOCK, min(n, (k + 1) * blocks.BLOCK)):
                acc += r[i, 0] * 1.0000001 + rep
        if acc == -1.0:  # never (acc > 0): keeps the loop from being optimised away
            s[0, 0] = np.float32(acc)
        _shift_blocks(k, k + 1, r, s, step)


@nb.njit(nogil=True)
def _raise_on_block_2(k0, k1, r, s, step):
    for k in range(k0, k1):
        if k == 2:
            raise ValueError("block 2 refuses")
        r[k * blocks.BLOCK, 0] += step


def _model(consumers=N, seed=3, threads=2, days=10, name="baseline.toml", overrides=None):
    sc = load_scenario(SCENARIOS / name, consumers=consumers, days=days)
    overrides = {"simulation.warmup_days": 5, **(overrides or {})}
    return TrustModel(sc, seed=seed, threads=threads, overrides=overrides)


def _digest(model) -> str:
    text = model.timeseries().to_csv(index=False, float_format="%.17g", lineterminator="\n")
    return hashlib.sha256(text.encode()).hexdigest()


def _block_of_rows(n):
    return (np.arange(n) // blocks.BLOCK).astype(np.float32)[:, None]


def _team_threads():
    return [t for t in threading.enumerate() if t.name.startswith("omnitrust-team")]


def _passes(model, fn, r, s, step, times, threads=2):
    with blocks.bound(model._bound):
        blocks.set_threads(threads)
        try:
            for _ in range(times):
                blocks.over_blocks(fn, r.shape[0], r, s, np.float32(step))
        finally:
            blocks.set_threads(1)


@pytest.fixture(autouse=True)
def always_the_team(monkeypatch):
    """Every pass on the team, even where a serial call has been faster (a busy machine), and
    up to 4 threads on any machine (as tests/test_threads.py: else threads=2 is 1 thread on one
    core or with NUMBA_NUM_THREADS=1, and the team is never used)."""
    monkeypatch.setattr(team, "adaptive", False)
    monkeypatch.setattr(blocks, "max_threads", lambda: 4)


def _ready(model, bound=None):
    """Passes until the team has loaded its compiled code (`Team.prepare`: until then a pass
    runs serially) and taken the model (or ``bound``) on."""
    bound = bound or model._bound
    r = np.zeros((N, 1), np.float32)
    deadline = time.perf_counter() + 300.0  # a cold cache: the team's code is compiled
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
        journey._research_blocks: (pop, brands, par, key, key, key, day, counts, key),
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


def test_need_for_touch_on_the_team_gives_the_one_thread_numbers():
    """J2 with need for touch on (store_touch 0.9, touch_share 0.6): the trait's key is the
    research pass's fifth scalar (layout 1), read by the team's worker from the control array. A
    key read from another slot (the research key's, which changes daily) gives the blocks the team
    runs other consumers with need for touch than the serial path, so the tables differ. The team
    is made ready first: tests/test_threads.py's check with need for touch runs before the team
    is, on a cold Numba cache (a fresh checkout: CI), so it never puts J2 on the team there."""
    touch = {"journey.store_touch": 0.9, "journey.touch_share": 0.6}
    alone = _model(threads=1, days=30, overrides=touch)
    alone.run()
    m = _model(days=30, overrides=touch)
    _ready(m)
    before = sum(team._team.taken())
    m.run()
    assert _digest(m) == _digest(alone)
    assert sum(team._team.taken()) - before > 0  # the passes ran on the team


def test_two_threads_give_the_one_thread_numbers_with_models_alternating():
    """Two models stepped in turn from one thread (the team switches between their tuples at
    every pass) give, each, the table it gives alone on one thread."""
    alone = []
    for seed in (1, 2):
        m = _model(seed=seed, threads=1, days=30)
        m.run()
        alone.append(_digest(m))
    a, b = _model(seed=1, days=30), _model(seed=2, days=30)
    _ready(a)  # else the 30 days may end before the team is ready: all serial
    before = sum(team._team.taken())
    while a.running or b.running:
        for m in (a, b):
            if m.running:
                m.step()
    assert [_digest(a), _digest(b)] == alone
    # the passes ran on the team (which thread took a block is the machine's business: on one
    # core the leader may take them all; test_the_worker_sleeps... makes the worker take some)
    assert sum(team._team.taken()) - before > 0


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
    model's first pass starts a new team. (A `Bound` over the fixture's tuples stands in for a
    model here; tests/test_lifetime.py drops a whole 2-thread `TrustModel`.)"""
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
    _ready(first)
    first.run()
    del first
    gc.collect()
    again = _model(seed=5, days=8)
    _ready(again)
    before = sum(team._team.taken())
    again.run()
    assert sum(team._team.taken()) - before > 0  # its passes ran on the team
    alone = _model(seed=5, days=8, threads=1)
    alone.run()
    assert _digest(again) == _digest(alone)


@nb.njit(nogil=True)
def _very_slow_blocks(k0, k1, r, s, step):
    """`_slow_blocks` at twice the work a block (~10 ms)."""
    n = r.shape[0]
    for k in range(k0, k1):
        acc = 0.0
        for rep in range(4000):
            for i in range(k * blocks.BLOCK, min(n, (k + 1) * blocks.BLOCK)):
                acc += r[i, 0] * 1.0000001 + rep
        if acc == -1.0:
            s[0, 0] = np.float32(acc)
        for i in range(k * blocks.BLOCK, min(n, (k + 1) * blocks.BLOCK)):
            for j in range(r.shape[1]):
                s[i, j] += np.float32(1.0)


def test_an_abandoned_pass_takes_no_block_once_the_exception_is_out(model):
    """An exception in the leader's thread after it published a pass (here its poll raises
    KeyboardInterrupt once the worker has taken a block): when the exception reaches the
    caller, the blocks taken are finished and no block is taken after it (the pass's arrays
    may be freed then)."""
    r = np.zeros((N, 2), np.float32)
    s = np.zeros((N, 2), np.float32)
    _passes(model, _very_slow_blocks, r, s, 1.0, 1)  # compiled, and run once
    crew = team._team

    def interrupted(ctrl, *args):
        deadline = time.perf_counter() + 10.0
        while int(ctrl[team._CLAIM]) & team._BLOCK_MASK == 0:  # until the worker takes one
            assert time.perf_counter() < deadline, "the worker took no block"
            time.sleep(0.0001)
        raise KeyboardInterrupt

    model._bound.team.lead = interrupted
    taken = crew.taken()[1]
    with pytest.raises(KeyboardInterrupt):
        _passes(model, _very_slow_blocks, r, s, 1.0, 1)
    then = s.copy()
    time.sleep(0.3)  # > the 3 other blocks' time: a worker still taking blocks would write
    np.testing.assert_array_equal(s, then)
    done = (then[:, 0] == 2).reshape(-1)  # the rows of the blocks run in the abandoned pass
    ks = np.arange(N) // blocks.BLOCK
    per_block = [set(done[ks == k]) for k in range(blocks.n_blocks(N))]
    assert all(len(v) == 1 for v in per_block), "a block was left half done"
    # the blocks run are the worker's (the leader's poll took none): at least the one it took
    assert 1 <= sum(v == {True} for v in per_block) == crew.taken()[1] - taken
    assert crew.stopped and team._team is not crew
    _passes(model, _shift_blocks, r, s, 1.0, 2)  # a new team takes over
    np.testing.assert_array_equal(s[:, 1], then[:, 1] + 2)


def test_a_shutdown_from_another_thread_mid_pass_lets_the_pass_finish(model):
    """`blocks.shutdown()` while another thread's pass runs on the team (a notebook's or a
    console's shutdown while a worker thread steps a model) stops the team without closing the
    pass's claims, as `_abandon` does: the pass's thread stays in it until every block is done,
    taking the blocks the stopped workers leave, so each block runs exactly once and nothing
    writes into the pass's tables once it has returned."""
    r = np.zeros((N, 2), np.float32)
    s = np.zeros((N, 2), np.float32)
    _passes(model, _very_slow_blocks, r, s, 1.0, 1)  # compiled, and run once
    crew = team._team
    seq, errors = crew.seq, []

    def one_pass():
        try:
            _passes(model, _very_slow_blocks, r, s, 1.0, 1)
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    th = threading.Thread(target=one_pass)
    th.start()
    deadline = time.perf_counter() + 10.0
    while crew.seq == seq or int(crew.ctrl[team._CLAIM]) & team._BLOCK_MASK == 0:
        assert time.perf_counter() < deadline, "the pass took no block"
        time.sleep(0.0001)
    blocks.shutdown()  # while the pass's blocks (several ms each) are running
    th.join(timeout=60.0)
    assert not th.is_alive() and errors == []
    np.testing.assert_array_equal(s, np.full((N, 2), 2, np.float32))  # every block, once
    time.sleep(0.05)
    np.testing.assert_array_equal(s, np.full((N, 2), 2, np.float32))
    assert crew.stopped and not any(w.thread.is_alive() for w in crew.workers)


def test_two_threads_starting_workers_at_once_start_each_worker_once():
    """`Team.ensure_workers` from several threads at once (a Dask worker's threads each
    starting a model's first pass): each worker index once, no worker too many."""
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # a thread switch between any two bytecodes, about
    try:
        for _ in range(30):
            t = team.Team()
            go = threading.Barrier(4)

            def start(t=t, go=go):
                go.wait()
                t.ensure_workers(2)

            threads = [threading.Thread(target=start) for _ in range(4)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            indices = [w.thread._args[1] for w in t.workers]
            t.stop()
            assert indices == [0, 1]
    finally:
        sys.setswitchinterval(switch)


def test_a_worker_left_out_of_the_passes_falls_asleep(model):
    """A worker in none of the passes (a model on fewer threads than the one before: worker 1
    when ``ACTIVE`` is 1) leaves its poll (`_serve` returns 0: it goes to sleep) after its idle
    time, however often passes come; it used to poll for as long as they came. Here `_serve`
    runs in this thread on a fresh control array while another thread publishes a pass every
    ~0.3 ms (GO only: no blocks for worker 1 to take). The idle time is 5 ms here."""
    t = team.Team()
    ctrl = t.ctrl
    ctrl[team._KIND], ctrl[team._ACTIVE], ctrl[team._NK] = 1, 1, 0
    kind = team._team.kinds[1]
    c0, t0 = team._control(ctrl, 0, 0, 0), time.perf_counter()
    time.sleep(0.01)
    rate = (team._control(ctrl, 0, 0, 0) - c0) / (time.perf_counter() - t0)  # ticks a second
    publishing = threading.Event()
    publishing.set()

    def publish():  # for 1 s at most (before the fix, `_serve` returned only after that)
        end = time.perf_counter() + 1.0
        while publishing.is_set() and time.perf_counter() < end:
            team._control(ctrl, 1, int(ctrl[team._GO]) + 1, 0)
            time.sleep(0.0003)

    th = threading.Thread(target=publish)
    th.start()
    try:
        start = time.perf_counter()
        why, _ = team._serve(ctrl, t.cu, t.cf, kind, 1, 1, -1, int(rate * 0.005), int(rate))
        took = time.perf_counter() - start
    finally:
        publishing.clear()
        th.join()
    assert why == 0
    assert took < 0.25, f"a worker in no pass polled {took:.3f} s while passes went on"


def test_the_flags_are_each_on_their_own_cache_line():
    """The flags a thread polls or writes at every pass are alone on their 64-byte line: a
    worker's counters, written as it polls, do not share the line of its SLEEP flag."""
    t = team.Team()
    assert t.ctrl.ctypes.data % 64 == 0
    lines = [team._GO, team._CLAIM, team._DONE, team._ERR, team._STOP, team._LEADS]
    for w in range(3):
        at = team._SLEEP + team._WORKER * w
        lines += [at, at + team._TAKEN]
        assert {at + team._TAKEN, at + team._OFF, at + team._POLLING} <= set(
            range(at + team._LINE, at + 2 * team._LINE)
        )
    assert len({x // team._LINE for x in lines}) == len(lines)
    assert t.ctrl.size >= team._SLEEP + team._WORKER * t.MAX_WORKERS


def test_no_team_without_the_x86_64_cycle_counter(model, monkeypatch):
    """Where the cycle counter is not the TSC the team is not used: the pool runs the pass."""
    monkeypatch.setattr(team, "CYCLES", False)
    assert team.team_for(model._bound, 2) is None
    r = np.zeros((N, 2), np.float32)
    s = np.zeros((N, 2), np.float32)
    crew = team._team
    before = crew.taken()
    _passes(model, _shift_blocks, r, s, 1.0, 3)
    assert crew.taken() == before
    np.testing.assert_array_equal(s, np.full((N, 2), 3, np.float32))


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
