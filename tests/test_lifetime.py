"""How long a model lives: a model nothing refers to any more is collected, with its consumer
arrays, and the worker threads of the thread team it used end.

Mesa 3.3 counts each model's agent ids in ``mesa.Agent._ids``, a ``defaultdict`` keyed by the
model itself, which kept every model that ever made an agent alive for the rest of the process
(a notebook, a calibration or sweep worker building model after model grew by the model's arrays
each time, and the team's threads, which end when their last model is collected, never ended).
The project's agents count through `sim.core.mesa_core.MODEL_IDS`, keyed weakly. These tests
fail on a Mesa (or a change of ours) that keeps a dropped model alive again.
"""

from __future__ import annotations

import gc
import time
import weakref

import mesa
import numba as nb
import numpy as np
import pytest

from sim.core import blocks, team
from sim.core.mesa_core import Agent
from sim.core.streams import mesa_seed
from sim.model import TrustModel
from sim.reference.model import ReferenceModel
from sim.scenario import Scenario

from .conftest import baseline_data


def _scenario(consumers: int = 300, days: int = 3) -> Scenario:
    return Scenario.model_validate(baseline_data(consumers=consumers, days=days, warmup=5))


def _collect() -> None:
    for _ in range(3):
        gc.collect()


def _stepped(scenario: Scenario, seed: int):
    """A model of ``scenario`` run to its horizon, dropped: weak references to it and to one of
    its consumer arrays, and its brands' unique ids."""
    model = TrustModel(scenario, seed=seed)
    while model.running:
        model.step()
    return weakref.ref(model), weakref.ref(model.population.r), [b.unique_id for b in model.brands]


def _mesas_own_ids() -> int:
    """How many models Mesa's own counter dict holds (0 on a Mesa without one)."""
    return len(getattr(mesa.Agent, "_ids", {}))


def test_a_dropped_model_is_collected_with_its_consumer_arrays():
    model, arrays, _ = _stepped(_scenario(), seed=1)
    _collect()
    assert model() is None, "a TrustModel nothing refers to is still alive"
    assert arrays() is None, "a dropped model's consumer arrays are still alive"


def test_building_ten_models_keeps_none_of_them():
    scenario = _scenario()
    held = _mesas_own_ids()
    refs = [_stepped(scenario, seed)[0] for seed in range(10)]
    _collect()
    assert [r for r in refs if r() is not None] == []
    assert _mesas_own_ids() == held  # Mesa's class-level dict took none of them


def test_a_dropped_reference_model_is_collected():
    def stepped():
        model = ReferenceModel(_scenario(consumers=200), seed=4)
        for _ in range(3):
            model.step()
        return weakref.ref(model), weakref.ref(model.consumers[0])

    model, consumer = stepped()
    _collect()
    assert model() is None and consumer() is None


def test_unique_ids_count_from_1_in_each_model_as_mesa_documents():
    """Mesa's documented numbering (``mesa.Agent``: "unique_id is unique relative to a model
    instance and starts from 1"), one sequence for all of a model's agents in the order they are
    made, is kept: the brands of every model are 1..B; in the reference model the brands, made
    first, are 1..B and its consumers B+1..B+N."""
    scenario = _scenario(consumers=200)
    n_brands = len(scenario.brands)
    for seed in (1, 2, 1):
        assert _stepped(scenario, seed)[2] == list(range(1, n_brands + 1))
    ref = ReferenceModel(scenario, seed=1)
    assert [b.unique_id for b in ref.brands] == list(range(1, n_brands + 1))
    assert [c.unique_id for c in ref.consumers] == list(range(n_brands + 1, n_brands + 201))


def test_a_model_whose_plain_mesa_agents_came_first_keeps_one_sequence():
    """An agent of a plain ``mesa.Agent`` class made before ours (a user's own agent class in a
    model): ours go on with the model's counter, so no id is given twice."""
    model = mesa.Model(**mesa_seed(1))
    try:
        agents = [mesa.Agent(model), Agent(model), Agent(model), mesa.Agent(model)]
        assert [a.unique_id for a in agents] == [1, 2, 3, 4]
    finally:
        getattr(mesa.Agent, "_ids", {}).pop(model, None)  # the plain agents' entry


@nb.njit(nogil=True)
def _touch_blocks(k0, k1, r, s, step):
    """r[i, :] += step, s[i, :] += 1 over blocks k0..k1-1 (a layout of the team's, as
    trust._forget_blocks: two float32 tables and a float32 scalar)."""
    n = r.shape[0]
    for k in range(k0, k1):
        for i in range(k * blocks.BLOCK, min(n, (k + 1) * blocks.BLOCK)):
            for j in range(r.shape[1]):
                r[i, j] += step
                s[i, j] += np.float32(1.0)


def _on_the_team():
    """A 2-thread model that the (fresh) team has taken on and whose days ran on it, dropped:
    a weak reference to it and the team."""
    scenario = _scenario(consumers=3 * blocks.BLOCK + 123, days=4)  # 4 blocks
    model = TrustModel(scenario, seed=3, threads=2)
    n = scenario.simulation.consumers
    r, s = np.zeros((n, 1), np.float32), np.zeros((n, 1), np.float32)
    deadline = time.monotonic() + 300.0  # a cold Numba cache: the team's code is compiled first
    while model._bound.team_of is None or model._bound.team_of is not team._team:
        assert time.monotonic() < deadline and not (team._team and team._team.failed)
        with blocks.bound(model._bound):  # a pass, as in tests/test_team.py's `_ready`
            blocks.set_threads(2)
            try:
                blocks.over_blocks(_touch_blocks, n, r, s, np.float32(1.0))
            finally:
                blocks.set_threads(1)
        time.sleep(0.005)
    crew = team._team
    before = sum(crew.taken())
    while model.running:
        model.step()
    assert sum(crew.taken()) > before  # the model's own passes ran on the team
    assert crew.live == 1
    return weakref.ref(model), crew


@pytest.mark.skipif(not team.CYCLES, reason="the thread team runs only on x86-64")
def test_the_team_threads_of_a_dropped_two_thread_model_end(monkeypatch):
    """The team's workers end once the last model that used the team is collected (its `Bound`'s
    finalizer, `sim.core.team._gone`); a model kept alive kept them polling and sleeping for the
    rest of the process. Up to 4 threads on any machine and every pass on the team, as in
    tests/test_team.py; no timing is asserted (a minute for the threads to see the stop)."""
    monkeypatch.setattr(team, "adaptive", False)
    monkeypatch.setattr(blocks, "max_threads", lambda: 4)
    blocks.shutdown()  # a team of its own: no model of an earlier test shares it
    model, crew = _on_the_team()
    threads = [w.thread for w in crew.workers]
    assert threads and all(t.is_alive() for t in threads)
    _collect()
    assert model() is None, "a 2-thread TrustModel nothing refers to is still alive"
    deadline = time.monotonic() + 60.0
    while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not any(t.is_alive() for t in threads), "the dropped model's team threads still run"
    assert crew.stopped and team._team is not crew
