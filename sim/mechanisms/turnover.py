"""Turnover: consumers leave the market and newcomers arrive (ODD 7.11).

A market is open: people move away or change life stage, others arrive. Each day every consumer
leaves the market with probability

    p = 1 - (1 - T) ** (1 / 365)                                                        (N1)

(T = ``population.turnover_per_year``: a share T leaves in a year). A leaving consumer's row is
re-born as a newcomer, so the arrays keep their size and the market its number of consumers (N2):
new traits (segment, concern, affinity, reading, need rate) drawn as for the initial population,
trust in every brand drawn as for the initial population (newcomers know the brands by
reputation), and no relation with any brand: no consent asked or given, no subscription, no
record, no purchase, no breach exposure or pending harm; no journey under way and an empty
journey history; no channel aversion from a breach (``wary``) and no fraud suffered
(``fraud_day``). Every array whose `sim.state.population.LAYOUT` start value is fixed takes that
value, so the list of what a newcomer lacks cannot fall behind the state. The newcomer takes the
leaver's place in the social network (its ties).

A leaver defrauded today is still counted in the day's ``fraud_victims_any``: frauds are counted
where they happen (`sim.mechanisms.incidents`), not read back from ``fraud_day`` at the end of the
day.

Brands count the leavers who were their (not churned) customers as ``departed_customers``. The
records a brand held on a leaver leave the population with the row (the brand's holdings are the
records of consumers in the market).

Who leaves depends only on (seed, day, consumer) through the ``turnover`` stream, and the
newcomers' traits on (seed, day) and the number of leavers, so turnover is the same whatever the
brands' policies (common random numbers).
"""

from __future__ import annotations

import numpy as np
from numba import literal_unroll

from ..core.blocks import call
from ..core.jit import njit
from ..core.streams import consumer_state, stream_key, uniform
from ..state.day import Day
from ..state.population import (
    CHURNED,
    CUSTOMER,
    LAYOUT,
    Population,
    draw_initial_trust,
    draw_traits,
)
from .metrics import Event


def leavers(seed: int, day: int, n: int, p: float) -> np.ndarray:
    """Indices of the consumers who leave the market on internal day ``day`` (eq. N1): those whose
    uniform of slot 0 of the ``turnover`` stream is below ``p``, in index order."""
    if p <= 0.0:
        return np.empty(0, np.int64)
    return np.flatnonzero(_below(stream_key(seed, "turnover", day), n, p))


@njit(cache=True, nogil=True)
def _below(key, n, p):
    """``uniforms(key, n, 0) < p`` in one pass, without the array of n uniforms (half the time of
    the two steps at 20,000 consumers; a loop that collects the few indices itself was slower)."""
    out = np.empty(n, np.bool_)
    for i in range(n):
        out[i] = uniform(consumer_state(key, i), 0) < p
    return out


def reborn_between(seed: int, first: int, last: int, n: int, p: float) -> np.ndarray:
    """Mask of the rows re-born as newcomers on any internal day ``first``..``last`` - 1 (eq. N1):
    the rows whose consumer was not in the market all along."""
    mask = np.zeros(n, np.bool_)
    for day in range(first, last):
        mask[leavers(seed, day, n, p)] = True
    return mask


def renew(pop, par, seed: int, day: int, counts: np.ndarray) -> int:
    """Replace today's leavers by newcomers (eqs. N1-N2); return how many were replaced. The
    newcomers' traits follow ``par.population`` and their trust ``par.trust``."""
    idx = leavers(seed, day, pop.size, par.derived.turnover)
    if idx.size == 0:
        return 0
    rng = np.random.Generator(np.random.PCG64(int(stream_key(seed, "turnover", day, 1))))
    traits = draw_traits(par.population, idx.size, rng)
    for name, values in traits.items():
        getattr(pop, name)[idx] = values
    # Trust in every brand, brand after brand: one draw of brands x leavers values takes the
    # same numbers from the generator as one draw per brand.
    n_brands = pop.r.shape[1]
    r, s = draw_initial_trust(par.trust, idx.size * n_brands, rng)
    r, s = r.reshape(n_brands, idx.size), s.reshape(n_brands, idx.size)
    call(_reborn, pop, idx, r, s, counts, _RESET, _START)
    return int(idx.size)


# Which arrays of a `Population` a newcomer's row resets, and to what: every array whose `LAYOUT`
# start value is fixed (not drawn) starts at that value (N2), so a new state array is reset by
# being declared there. Field order is `LAYOUT`'s (asserted). The two tuples are passed to
# `_reborn` as arguments, not read as globals: Numba freezes a global into the cached compiled
# code, which a change of `LAYOUT` in another module would not invalidate.
assert tuple(LAYOUT) == Population._fields
assert all(kind in ("N", "NB") for _, kind, start in LAYOUT.values() if start is not None)
_RESET = tuple(start is not None for _, _, start in LAYOUT.values())
_START = tuple(0 if start is None else start for _, _, start in LAYOUT.values())


@njit(cache=True)
def _reborn(pop, idx, r, s, counts, reset, start):
    """The rows ``idx`` become newcomers (N2): brands count their departed customers; then every
    array with a fixed `LAYOUT` start value (``reset[k]``, ``start[k]`` for field k) holds it in
    those rows (no relation with any brand, no journey history, no channel aversion, no fraud),
    trust evidence is ``r[b, j], s[b, j]`` for consumer ``idx[j]`` and brand b, and no journey is
    under way. The traits were drawn by the caller."""
    nb_ = pop.r.shape[1]
    departed = np.zeros(nb_, np.int64)
    for j in range(idx.size):
        i = idx[j]
        for b in range(nb_):
            f = pop.flags[i, b]
            departed[b] += ((f & CUSTOMER) != 0) & ((f & CHURNED) == 0)
    for b in range(nb_):
        counts[b, Event.departed_customers] += departed[b]
    k = 0
    for a in literal_unroll(pop):  # one version of the body per array type; k is the field
        if reset[k]:
            for j in range(idx.size):
                a[idx[j]] = start[k]  # a row of a per-brand array: every brand
        k += 1  # noqa: SIM113 - Numba unrolls no enumerate(literal_unroll(...))
    for j in range(idx.size):
        i = idx[j]
        pop.journey_left[i] = 0  # drawn for the initial population; a newcomer is idle
        for b in range(nb_):
            pop.r[i, b] = r[b, j]
            pop.s[i, b] = s[b, j]


def renew_phase(day: Day) -> None:
    """Consumers leave the market and newcomers take their rows (N1-N2)."""
    renew(day.population, day.params, day.seed, day.t, day.counts)
