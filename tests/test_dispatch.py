"""The fixed cost of a day (issue 14): kernels called through cached entry points, warm-up days
that skip the tally, and what must still hold on every day.

Expected values come from the kernels called through Numba's own dispatcher and from NumPy
counts over the population, not from the code under test.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from sim.core import blocks
from sim.core.streams import stream_key
from sim.mechanisms import social
from sim.model import TrustModel
from sim.model.market import Phase
from sim.scenario import Scenario
from sim.state.population import ACCOUNT

from .conftest import baseline_data


def _scenario(consumers: int = 300, warmup: int = 12, days: int = 4) -> Scenario:
    return Scenario.model_validate(baseline_data(consumers=consumers, days=days, warmup=warmup))


@nb.njit(cache=False)
def _weighted(pop, par, scale, out):
    out[0] = scale * pop.r.sum() + par.trust.prior
    return out[0]


def test_call_within_a_model_gives_what_the_dispatcher_gives():
    model = TrustModel(_scenario())
    pop, par = model.population, model.params
    expected = _weighted(pop, par, np.float32(0.5), np.zeros(1))  # through the dispatcher
    with blocks.bound(model._bound):
        out = np.zeros(1)
        assert blocks.call(_weighted, pop, par, np.float32(0.5), out) == expected
        assert out[0] == expected
        entry = blocks._entry(_weighted, (pop, par, np.float32(0.5), out))
        assert entry is not _weighted  # the compiled entry point, cached for the model
        assert blocks._entry(_weighted, (pop, par, np.float32(0.5), np.zeros(1))) is entry
        # another scalar type is another signature, as for the dispatcher
        other = blocks._entry(_weighted, (pop, par, 0.5, out))
        assert other is not entry
        assert blocks.call(_weighted, pop, par, 0.5, out) == _weighted(pop, par, 0.5, out)
        # a tuple that is not the model's own goes through the dispatcher
        copy = type(pop)(*pop)
        assert blocks._entry(_weighted, (copy, par, 0.5, out)) is _weighted
    # outside a model's day: the dispatcher
    assert blocks._entry(_weighted, (pop, par, 0.5, out)) is _weighted


def test_a_second_model_reuses_the_entry_points_of_the_first():
    first, second = TrustModel(_scenario()), TrustModel(_scenario())
    args = (first.population, first.params, stream_key(1, "social", 3))
    with blocks.bound(first._bound):
        entry = blocks._entry(social.talk, args)
    with blocks.bound(second._bound):
        again = blocks._entry(social.talk, (second.population, second.params, args[2]))
    assert entry is again and entry is not social.talk


def test_word_of_mouth_through_the_entry_point_equals_the_dispatcher():
    a, b = TrustModel(_scenario(warmup=5)), TrustModel(_scenario(warmup=5))
    key = stream_key(7, "social", 40)
    social.talk(a.population, a.params, key)  # the dispatcher
    with blocks.bound(b._bound):
        blocks.call(social.talk, b.population, b.params, key)
    for x, y in zip(a.population, b.population, strict=True):
        assert np.array_equal(x, y)


class _Watched(TrustModel):
    """Keeps, at the start of each day, the records held the day hands the phases and the
    records held counted from the flags."""

    def build_phases(self):
        self.seen = []

        def watch(day):
            counted = ((day.population.flags & ACCOUNT) != 0).sum(axis=0)
            self.seen.append((day.t, day.records_held.copy(), counted))

        return [Phase("watch", watch), *super().build_phases()]


def test_every_day_hands_the_phases_yesterdays_records_held():
    """Warm-up days before the last skip the tally, but not the records held."""
    model = _Watched(_scenario(consumers=400, warmup=30, days=6))
    model.run()
    assert len(model.seen) == 36
    held_accounts = 0
    for t, given, counted in model.seen[1:]:
        assert np.array_equal(given, counted), t
        held_accounts += counted.sum()
    assert held_accounts > 0  # brands do hold records in this run


def test_the_last_warm_up_day_is_tallied_as_before():
    """Day 0 starts from the last warm-up day's stocks: the DataCollector's first row is the
    tally of the population as the warm-up leaves it."""
    model = TrustModel(_scenario(consumers=400, warmup=20, days=3))
    first = model.datacollector.get_model_vars_dataframe().iloc[0]
    pop, par = model.population, model.params
    r, s = pop.r.astype(np.float64), pop.s.astype(np.float64)
    prior, weight = par.trust.prior, par.trust.prior_weight
    trust = (r + prior * weight) / (r + s + weight)
    for k, brand in enumerate(model.brands):
        assert first["day"] == -1
        assert abs(first[f"{brand.name} trust"] - trust[:, k].mean()) < 1e-6
        assert brand.records_held == ((pop.flags[:, k] & ACCOUNT) != 0).sum()
