"""The consumer population: a structure of NumPy arrays, one row per consumer, a column per brand.

Consumers are not Python objects. Their state lives in typed arrays so that every rule is a pass
over the arrays (docs/ODD.md, section 2 "Entities, state variables and scales"). Compact types keep
the memory near the floor: 188 bytes per consumer at 5 brands (`Population.nbytes()`, network
included; `python benchmarks/memory_probe.py 1000000 3`).

Per consumer (N):    segment, concern, affinity, reads_terms, need_rate, journey_left,
                     journey_channels, last_research, history, social ties (CSR)
Per consumer x brand (N x B): r, s (trust evidence), consent, asked, flags, last_seen,
                     last_purchase, exposed_day, harm_day, harm_kind, spam_share,
                     inbox (remembered irrelevant mail)
Per consumer (N), incidents: wary, wary_day, fraud_day
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

# The bit vocabularies of the state arrays live with the other true constants; re-exported here.
from ..core.constants import (  # noqa: F401
    ACCOUNT,
    AWARE,
    CHURNED,
    CUSTOMER,
    H_BOUGHT,
    H_SHOWROOMED,
    H_USED_DIGITAL,
    H_USED_STORE,
    H_WEBROOMED,
    HARM_FRAUD,
    HARM_PHISHING,
    HARM_TAKEOVER,
    HARMED,
    HEARD,
    NEVER,
    NOTIFIED,
    SUBSCRIBED,
)
from ..core.streams import generator
from ..scenario import Scenario
from .network import small_world

SEGMENTS = ("fundamentalist", "pragmatist", "unconcerned")
# Mean privacy concern of each Westin segment (Beta distributed, concentration
# population.concern_concentration). Assumption: fundamentalists are highly concerned, the
# unconcerned barely; docs/PARAMETERS.md.
SEGMENT_CONCERN = np.array([0.8, 0.5, 0.15])


class Population(NamedTuple):
    """Arrays of consumer state. Row i is consumer i; column b of 2-D arrays is brand b."""

    segment: np.ndarray  # int8 (N,): 0 fundamentalist, 1 pragmatist, 2 unconcerned
    concern: np.ndarray  # float32 (N,): privacy concern in [0, 1]
    affinity: np.ndarray  # float32 (N,): digital affinity in [0, 1]
    reads_terms: np.ndarray  # bool (N,): reads privacy terms before consenting
    need_rate: np.ndarray  # float32 (N,): journeys per day
    journey_left: np.ndarray  # int8 (N,): research days left in the current journey (0 = idle)
    journey_channels: np.ndarray  # uint8 (N,): bit mask of channels touched in this journey
    last_research: np.ndarray  # int8 (N,): channel of the latest research touch (-1 none)
    history: np.ndarray  # uint8 (N,): cumulative H_* bits
    tie_start: np.ndarray  # int64 (N+1,): CSR row pointer of the social network
    ties: np.ndarray  # int32 (E,): CSR column indices
    r: np.ndarray  # float32 (N, B): positive trust evidence
    s: np.ndarray  # float32 (N, B): negative trust evidence (already weighted)
    consent: np.ndarray  # uint8 (N, B): bit mask of data types granted
    asked: np.ndarray  # uint8 (N, B): bit mask of data types asked for
    flags: np.ndarray  # uint8 (N, B): relation flags (SUBSCRIBED, CUSTOMER, ...)
    last_seen: np.ndarray  # int16 (N, B): day the brand last recorded data (-1 never)
    last_purchase: np.ndarray  # int16 (N, B): day of the last purchase (-1 never)
    exposed_day: np.ndarray  # int16 (N, B): day of the last breach that exposed the record
    harm_day: np.ndarray  # int16 (N, B): day pending harm lands (-1 none)
    harm_kind: np.ndarray  # uint8 (N, B): HARM_* bits of the pending harm
    wary: np.ndarray  # int8 (N,): 3 b + c for the latest breach in channel c (< 3) of brand b
    #                    the consumer learnt of (-1 none; one per consumer keeps memory low)
    wary_day: np.ndarray  # int16 (N,): day the consumer learnt of it
    fraud_day: np.ndarray  # int16 (N,): day of the latest fraud suffered, any cause (-1 never)
    spam_share: np.ndarray  # uint8 (N, B): the part of s from the brand's irrelevant mail, as a
    #                         share of s in steps of 1/255; it fades with s, so it keeps no day
    inbox: np.ndarray  # float32 (N, B): the brand's irrelevant e-mails a subscriber remembers,
    #                    a count fading by 1 / outreach.inbox_memory_days a day (ODD 7.4, O0)

    @property
    def size(self) -> int:
        return int(self.segment.shape[0])

    def nbytes(self) -> int:
        """Bytes held by the population's arrays."""
        return int(sum(a.nbytes for a in self))


# The one statement of a `Population`'s arrays: each one's dtype, its shape (per consumer N, per
# consumer and brand NB, the CSR row pointer N+1, the ties E of any length) and the value it starts
# at, or None for the arrays `create_population` draws. `create_population` builds exactly this;
# `check_population` holds a saved state to it.
LAYOUT: dict[str, tuple[str, str, int | None]] = {
    "segment": ("int8", "N", None),
    "concern": ("float32", "N", None),
    "affinity": ("float32", "N", None),
    "reads_terms": ("bool", "N", None),
    "need_rate": ("float32", "N", None),
    "journey_left": ("int8", "N", None),
    "journey_channels": ("uint8", "N", 0),
    "last_research": ("int8", "N", -1),
    "history": ("uint8", "N", 0),
    "tie_start": ("int64", "N+1", None),
    "ties": ("int32", "E", None),
    "r": ("float32", "NB", None),
    "s": ("float32", "NB", None),
    "consent": ("uint8", "NB", 0),
    "asked": ("uint8", "NB", 0),
    "flags": ("uint8", "NB", 0),
    "last_seen": ("int16", "NB", -1),
    "last_purchase": ("int16", "NB", -1),
    "exposed_day": ("int16", "NB", -1),
    "harm_day": ("int16", "NB", -1),
    "harm_kind": ("uint8", "NB", 0),
    "wary": ("int8", "N", -1),
    "wary_day": ("int16", "N", -1),
    "fraud_day": ("int16", "N", -1),
    "spam_share": ("uint8", "NB", 0),
    "inbox": ("float32", "NB", 0),
}


def check_population(arrays: dict[str, np.ndarray], n: int, n_brands: int, n_channels: int) -> None:
    """Raise `ValueError` unless ``arrays`` are a population of ``n`` consumers and ``n_brands``
    brands: the names, dtypes and shapes of `LAYOUT`, and the values the compiled rules use as
    indices in range (the kernels do not check bounds, so a saved state must)."""
    if list(arrays) != list(LAYOUT):
        raise ValueError("not the arrays of a population")
    for name, (dtype, kind, _) in LAYOUT.items():
        a = arrays[name]
        e = len(arrays["ties"]) if kind == "E" else 0
        shape = {"N": (n,), "NB": (n, n_brands), "N+1": (n + 1,), "E": (e,)}[kind]
        if not isinstance(a, np.ndarray) or a.dtype != np.dtype(dtype) or a.shape != shape:
            got = f"{getattr(a, 'dtype', type(a).__name__)} {getattr(a, 'shape', '')}"
            raise ValueError(f"population array {name} is {got}, not {dtype} {shape}")
    tie_start, ties = arrays["tie_start"], arrays["ties"]
    if tie_start[0] != 0 or tie_start[-1] != len(ties) or np.any(np.diff(tie_start) < 0):
        raise ValueError("population tie_start is not a row pointer into ties")
    ranges = {
        "ties": (0, n),
        "segment": (0, len(SEGMENTS)),
        "last_research": (-1, n_channels),
        "wary": (-1, 3 * n_brands),
    }
    for name, (low, high) in ranges.items():
        a = arrays[name]
        if a.size and (a.min() < low or a.max() >= high):
            raise ValueError(f"population array {name} has values outside [{low}, {high})")


def initial_evidence(trust: np.ndarray, evidence: float, prior: float, weight: float):
    """Evidence (r, s) with r + s = evidence whose beta-reputation trust equals ``trust``.

    t = (r + a W) / (r + s + W)  =>  r = t (E + W) - a W,  s = E - r  (clipped at 0).
    """
    r = np.clip(trust * (evidence + weight) - prior * weight, 0.0, evidence)
    return r.astype(np.float32), (evidence - r).astype(np.float32)


def journeys_in_progress(
    need_rate: np.ndarray, research_days: float, max_days: int, rng: np.random.Generator
) -> np.ndarray:
    """Research days left when the run starts (the first warm-up day), drawn from the stationary
    state so the market does not start empty: a consumer is mid-journey with probability p = n L / (1 + n L) (need rate n, mean
    length L), with a geometric number of days left (mean L), at most ``max_days``."""
    busy = need_rate * research_days
    in_journey = rng.random(need_rate.size) < busy / (1.0 + busy)
    left = rng.geometric(1.0 / research_days, size=need_rate.size)
    return np.where(in_journey, np.minimum(left, max_days), 0).astype(np.int8)


def draw_traits(spec, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Traits (float64) of ``n`` consumers drawn from the [population] section ``spec``: privacy segment and
    concern, digital affinity, whether they read terms, need rate (ODD 2, "Consumers"). Used for
    the initial population and for newcomers (`sim.turnover`)."""
    shares = np.array([spec.fundamentalist, spec.pragmatist, spec.unconcerned])
    # The segment by the inverse of its cumulative distribution at one uniform per consumer:
    # what ``rng.choice(3, size=n, p=shares / shares.sum())`` computes, the same numbers (and the
    # same draws from ``rng``) without its argument checks, which cost more than the draw for the
    # few newcomers of a day.
    cdf = (shares / shares.sum()).cumsum()
    cdf /= cdf[-1]
    segment = cdf.searchsorted(rng.random(n), side="right").astype(np.int8)
    mean = SEGMENT_CONCERN[segment]
    k = spec.concern_concentration
    concern = rng.beta(mean * k, (1 - mean) * k)
    a = max(spec.digital_affinity, 1e-3) * spec.affinity_concentration
    b = max(1.0 - spec.digital_affinity, 1e-3) * spec.affinity_concentration
    affinity = rng.beta(a, b, size=n)
    reads_terms = rng.random(n) < spec.literacy
    need_rate = np.clip(rng.gamma(spec.need_shape, spec.need_rate / spec.need_shape, size=n), 0, 1)
    return {
        "segment": segment,
        "concern": concern,
        "affinity": affinity,
        "reads_terms": reads_terms,
        "need_rate": need_rate,
    }


def draw_initial_trust(t, n: int, rng: np.random.Generator):
    """Evidence (r, s) of ``n`` consumers about one brand they know by reputation: trust drawn from
    Beta(k m, k (1 - m)) with m = ``trust.initial`` and k = ``trust.initial_concentration`` (8),
    behind ``trust.initial_evidence`` units."""
    if 0.0 < t.initial < 1.0:
        k0 = t.initial_concentration
        t0 = rng.beta(t.initial * k0, (1.0 - t.initial) * k0, size=n)
    else:
        t0 = np.full(n, t.initial)
    return initial_evidence(t0, t.initial_evidence, t.prior, t.prior_weight)


def create_population(scenario: Scenario, seed: int) -> Population:
    """Draw a population for ``scenario`` from the ``init`` and ``network`` streams of ``seed``.

    The population depends only on the [population] and [trust] sections, the number of consumers,
    ``journey.research_days`` (journeys in progress), the brand count and the seed, so the same
    seed gives the same consumers whatever the brands' policies (CRN).
    """
    spec = scenario.population
    n = scenario.simulation.consumers
    n_brands = len(scenario.brands)
    # The order of the steps is set by the peak memory, not by the draws: the network has its
    # own stream, and the "init" draws keep their order. The network comes first, while nothing
    # else is held, so its build's transient arrays (~100 B per consumer at degree 8) are freed
    # before the consumers' arrays exist and their pages are reused by them; the float64 traits
    # are rounded to their float32 layout and dropped as soon as the journeys in progress have
    # read the need rate, not held (24 B per consumer) while the per-brand arrays are allocated.
    # At 1M consumers x 5 brands that took the peak from ~197 B per consumer to ~172, the
    # population's own arrays being 168 (`python benchmarks/memory_probe.py 1000000 5`).
    tie_start, ties = small_world(
        n, spec.social_degree, spec.social_rewiring, generator(seed, "network")
    )
    rng = generator(seed, "init")
    traits = draw_traits(spec, n, rng)
    journey_left = journeys_in_progress(
        traits["need_rate"], scenario.journey.research_days, scenario.journey.max_days, rng
    )
    drawn = {name: as_laid(name, value) for name, value in traits.items()}
    del traits
    r = np.empty((n, n_brands), np.float32)
    s = np.empty((n, n_brands), np.float32)
    for b in range(n_brands):  # one brand column at a time keeps the peak memory low
        r[:, b], s[:, b] = draw_initial_trust(scenario.trust, n, rng)
    drawn.update(journey_left=journey_left, tie_start=tie_start, ties=ties, r=r, s=s)
    shapes = {"N": (n,), "NB": (n, n_brands)}
    arrays = {
        name: np.full(shapes[kind], fill, dtype) if fill is not None else as_laid(name, drawn[name])
        for name, (dtype, kind, fill) in LAYOUT.items()
    }
    return Population(**arrays)


def as_laid(name: str, drawn: np.ndarray) -> np.ndarray:
    """Drawn array ``name`` in its `LAYOUT` dtype. It must be drawn in that dtype, except that a
    float32 array may be drawn in float64 (the traits are drawn in double precision and rounded
    once, here); anything else is a drawing function that drifted from the layout (an int64
    segment would wrap when cast to int8), refused rather than cast over (TypeError)."""
    dtype = np.dtype(LAYOUT[name][0])
    drawn = np.asarray(drawn)
    if drawn.dtype == dtype:
        return drawn
    if dtype == np.float32 and drawn.dtype == np.float64:
        return drawn.astype(dtype)
    raise TypeError(
        f"internal error: create_population: {name} was drawn as {drawn.dtype}, but LAYOUT "
        f"lays it out as {dtype} (allowed: {dtype}"
        + (", or float64 rounded to float32)" if dtype == np.float32 else ")")
    )
