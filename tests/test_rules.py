"""Leaving, turnover, initialisation, the network, the tally and derived parameters, against the ODD.

The expected values are computed here from the ODD's equations (5 Initialisation, 7.8 L1-L5,
7.9 metrics, 7.11 N1-N2 and the derived quantities of `sim.state.parameters`), with the same counter-based
draws where a rule draws (as tests/test_equations.py does): a wrong constant, sign or dropped term
in these rules changes which consumers churn, revoke, return, lapse or leave, and the comparison
is exact. The initial draws are checked against the moments of their documented distributions
(bands of 5 standard errors at 100,000 consumers). No model run: the kernels are called on a
freshly drawn population, so each test takes a second or two.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from sim.core import streams
from sim.core.catalogue import (
    CHANNEL_MARGIN,
    CHANNELS,
    COVERT_MASK,
    DATA_TYPES,
    DIGITAL,
    DIGITAL_BITS,
    EMAIL,
    PURCHASE_WEIGHT,
    RESEARCH_WEIGHT,
    SENSITIVITY,
    VALUE,
    mask_of,
)
from sim.core.constants import EMAIL_SLOTS_PER_BRAND_DAY, SLOTS_PER_EMAIL, TRUST_BINS
from sim.mechanisms import churn, journey, outreach, trust, turnover
from sim.mechanisms.incidents import Breach, Incidents, background_fraud, land_harm
from sim.mechanisms.metrics import EV, STOCKS, tally
from sim.scenario import Scenario
from sim.state.network import small_world
from sim.state.parameters import brand_table, parameters
from sim.state.population import (
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
    HARMED,
    HEARD,
    SUBSCRIBED,
    create_population,
    draw_initial_trust,
    draw_traits,
)

from .conftest import baseline_data

N_EVENTS = len(EV)


def scenario(consumers: int = 3000, **sections) -> Scenario:
    d = baseline_data(consumers=consumers, days=30, replications=1)
    for section, values in sections.items():
        d.setdefault(section, {}).update(values)
    return Scenario.model_validate(d)


def t1(r, s, prior, weight):
    return (r + prior * weight) / (r + s + weight)


# -- 7.8 Leaving, L1-L5 ----------------------------------------------------------------------


@pytest.mark.parametrize("drift_per_year", [0.5, -0.5])
def test_leaving_follows_l1_to_l5_consumer_by_consumer(drift_per_year):
    """Random relations around the thresholds, high rates so that every branch is taken many
    times; then the kernel against the ODD's steps, in their order, with the same draws."""
    s = scenario(
        world={"privacy_concern_trend": drift_per_year},
        trust={"churn_threshold": 0.45, "return_threshold": 0.55, "churn_rate": 0.4},
        consent={"revoke_rate": 0.3},
        incidents={"account_deletion": 0.5},
    )
    pop = create_population(s, seed=3)
    par = parameters(s)
    lev = brand_table(s)
    n, nb_ = pop.r.shape
    rng = np.random.default_rng(17)
    lev = lev._replace(
        data_retention_days=np.array([20.0, 40.0, 60.0][:nb_]),
        consent_lapse=np.array([0.1, 0.25, 0.5][:nb_]),
    )
    day = 100
    # trust spread over [0.2, 0.8] with the same evidence total, so both thresholds bite
    target = rng.uniform(0.2, 0.8, size=(n, nb_))
    e, w, a = 4.0, s.trust.prior_weight, s.trust.prior
    pop.r[:] = np.clip(target * (e + w) - a * w, 0, e)
    pop.s[:] = e - pop.r
    pop.flags[:] = rng.integers(0, 256, size=(n, nb_), dtype=np.uint8)
    pop.consent[:] = np.where(rng.random((n, nb_)) < 0.5, rng.integers(1, 256, (n, nb_)), 0)
    pop.asked[:] = np.where(rng.random((n, nb_)) < 0.6, rng.integers(1, 256, (n, nb_)), 0)
    pop.last_seen[:] = rng.integers(day - 80, day, size=(n, nb_))
    pop.exposed_day[:] = np.where(rng.random((n, nb_)) < 0.5, 50, -1)
    pop.concern[: n // 10] = 0.9995  # the drift clips at 1 (or 0 below)
    pop.concern[n // 10 : n // 5] = 0.0005
    before = copy.deepcopy(pop)
    counts = np.zeros((nb_, N_EVENTS), dtype=np.float64)
    key = streams.stream_key(8, "churn", day)
    churn.leave(pop, lev, par, key, day, counts)

    drift = np.float32(drift_per_year / 365.0)
    q = np.clip(before.concern + drift, np.float32(0.0), np.float32(1.0))
    assert np.allclose(pop.concern, q, atol=1e-7)
    assert (pop.concern == 1.0).sum() >= n // 20 or (pop.concern == 0.0).sum() >= n // 20

    flags, consent, asked = before.flags.copy(), before.consent.copy(), before.asked.copy()
    expected = np.zeros_like(counts)
    ev = {k: EV[k] for k in ("churn_events", "accounts_deleted", "consent_revocations")}
    ev["consent_lapses"] = EV["consent_lapses"]
    tr = s.trust
    trust = t1(before.r.astype(np.float64), before.s.astype(np.float64), a, w)
    for i in range(n):
        st = np.uint64(streams.consumer_state(key, i))
        for b in range(nb_):
            f = int(flags[i, b])
            if f & ACCOUNT and day - int(before.last_seen[i, b]) > lev.data_retention_days[b]:
                f &= ~ACCOUNT  # L4
                expected[b, ev["accounts_deleted"]] += 1
            t = trust[i, b]
            if t < tr.churn_threshold:
                if f & CUSTOMER and not f & CHURNED and streams.uniform(st, 3 * b) < tr.churn_rate:
                    f |= CHURNED  # L1
                    expected[b, ev["churn_events"]] += 1
                    if (
                        before.exposed_day[i, b] >= 0
                        and f & ACCOUNT
                        and streams.uniform(st, 3 * b + 1) < s.incidents.account_deletion
                    ):
                        f &= ~ACCOUNT
                        consent[i, b] = 0
                        expected[b, ev["accounts_deleted"]] += 1
                if (consent[i, b] or f & SUBSCRIBED) and streams.uniform(
                    st, 3 * b + 2
                ) < s.consent.revoke_rate:
                    consent[i, b] = 0  # L3
                    f &= ~SUBSCRIBED
                    expected[b, ev["consent_revocations"]] += 1
            elif f & CHURNED and t > tr.return_threshold:
                f &= ~CHURNED  # L2
            if asked[i, b] and streams.uniform(st, 192 + b) < lev.consent_lapse[b]:
                asked[i, b] = 0  # L5
                f &= ~AWARE
                expected[b, ev["consent_lapses"]] += 1
            flags[i, b] = f
    near = np.isclose(trust, tr.churn_threshold, atol=1e-6) | np.isclose(
        trust, tr.return_threshold, atol=1e-6
    )
    assert (pop.flags == flags)[~near].all()
    assert (pop.consent == consent)[~near].all() and (pop.asked == asked).all()
    assert not near.any() or near.sum() < 3
    for k in ev.values():
        assert np.allclose(counts[:, k], expected[:, k], atol=near.sum()), k
        assert (expected[:, k] >= 20).all(), k  # every step taken many times
    returned = (before.flags & CHURNED != 0) & (pop.flags & CHURNED == 0)
    assert returned.sum() >= 20


def test_harm_landing_counts_each_consumer_defrauded_today_once():
    """I7 and fraud_victims_any (ODD 7.9): `land_harm` returns the consumers it defrauds today who
    were not already (a fraud landing from two brands, or after today's background fraud, is one
    victim), counted as the fraud happens; ``fraud_victims`` counts per brand."""
    s = scenario(consumers=3000)
    pop = create_population(s, seed=3)
    par = parameters(s)
    n, nb_ = pop.r.shape
    rng = np.random.default_rng(8)
    day = 300
    pop.harm_day[:] = np.where(rng.random((n, nb_)) < 0.3, day, -1)
    pop.harm_kind[:] = np.where(rng.random((n, nb_)) < 0.5, HARM_FRAUD, HARM_PHISHING)
    already = rng.random(n) < 0.2  # defrauded earlier today (background fraud, I9)
    pop.fraud_day[:] = np.where(already, day, 5)
    fraud = (pop.harm_day == day) & ((pop.harm_kind & HARM_FRAUD) != 0)
    counts = np.zeros((nb_, N_EVENTS))
    got = land_harm(pop, par, streams.stream_key(3, "harm", day), day, counts)
    assert got == (fraud.any(axis=1) & ~already).sum()
    assert (fraud.sum(axis=1) > 1).sum() > 50 and (fraud.any(axis=1) & already).sum() > 50
    assert (pop.fraud_day[fraud.any(axis=1) | already] == day).all()
    assert (pop.fraud_day[~(fraud.any(axis=1) | already)] == 5).all()
    assert (counts[:, EV["fraud_victims"]] == fraud.sum(axis=0)).all()


@pytest.mark.parametrize(
    ("harm_evidence", "fraud_weight", "share"), [(2.5, 0.6, 0.5), (0.4, 3.0, 0.9)]
)
def test_background_fraud_adds_the_i9_evidence_about_every_brand(
    harm_evidence, fraud_weight, share
):
    """I9: a victim of background fraud takes s_ik += w- h w_f e_harm about every brand k (ODD:
    nobody can tell where the card was stolen); the other consumers take nothing. Away from the
    defaults (e_harm = w_f = 1, where dropping either factor changes nothing), so that each factor
    shows."""
    s = scenario(
        consumers=60000,
        incidents={
            "background_fraud_per_year": 1.0,  # the schema's most, p = 1/365 a day: ~164 victims
            "harm_evidence": harm_evidence,
            "fraud_weight": fraud_weight,
            "unattributed_harm_share": share,
        },
    )
    pop = create_population(s, seed=3)
    par = parameters(s)
    pop.s[:] = 0.0
    pop.spam_share[:] = 0
    pop.fraud_day[:] = -1
    day = 50
    background_fraud(pop, par, streams.stream_key(3, "fraud", day), day)
    victims = pop.fraud_day == day
    assert 100 < victims.sum() < 250
    expected = s.trust.negative_weight * share * fraud_weight * harm_evidence
    np.testing.assert_allclose(pop.s[victims], expected, rtol=1e-6)
    assert (pop.s[~victims] == 0.0).all()


# -- 7.11 Turnover, N1-N2 ----------------------------------------------------------------------


@pytest.mark.parametrize("per_year", [0.1, 0.9])
def test_turnover_replaces_the_n1_share_by_newcomers(per_year):
    s = scenario(consumers=20000, population={"turnover_per_year": per_year})
    pop = create_population(s, seed=5)
    par = parameters(s)
    n, nb_ = pop.r.shape
    pop.flags[:] = CUSTOMER | ACCOUNT | SUBSCRIBED
    pop.flags[::4] |= CHURNED
    pop.consent[:] = 7
    pop.exposed_day[:] = 3
    p = 1.0 - (1.0 - per_year) ** (1.0 / 365.0)  # N1
    total = 0
    for day in range(40, 45):
        u = streams.uniforms(streams.stream_key(5, "turnover", day), n, 0)
        leaving = u < p
        was_customer = ((pop.flags & CUSTOMER) != 0) & ((pop.flags & CHURNED) == 0)
        counts = np.zeros((nb_, N_EVENTS))
        assert turnover.renew(pop, par, 5, day, counts) == leaving.sum()
        assert (counts[:, EV["departed_customers"]] == was_customer[leaving].sum(axis=0)).all()
        # N2: the newcomers have no relation with any brand
        assert (pop.flags[leaving] == 0).all() and (pop.consent[leaving] == 0).all()
        assert (pop.exposed_day[leaving] == -1).all() and (pop.last_seen[leaving] == -1).all()
        total += int(leaving.sum())
    mean = 5 * n * p
    assert abs(total - mean) < 5 * math.sqrt(mean) + 1
    assert total > 0


# -- 5 Initialisation and the network ----------------------------------------------------------


def test_initial_traits_and_trust_follow_their_distributions():
    """ODD 5, steps 1-5 and 7: each draw's mean and variance within 5 standard errors."""
    s = scenario()
    spec, t = s.population, s.trust
    n = 100_000
    rng = np.random.default_rng(23)
    tr = draw_traits(spec, n, rng)

    def close(x, mean, var, what):
        se = math.sqrt(var / x.size)
        assert abs(x.mean() - mean) < 5 * se, (what, x.mean(), mean)
        if var > 0:  # the sample variance of a bounded variable: 5 rough SEs of 20% each way
            assert 0.8 * var < x.var() < 1.25 * var, (what, x.var(), var)

    shares = np.array([spec.fundamentalist, spec.pragmatist, spec.unconcerned])
    shares = shares / shares.sum()
    for g, (share, m) in enumerate(zip(shares, (0.8, 0.5, 0.15), strict=True)):
        close((tr["segment"] == g).astype(float), share, share * (1 - share), f"segment {g}")
        k = spec.concern_concentration
        close(tr["concern"][tr["segment"] == g], m, m * (1 - m) / (k + 1), f"concern {g}")
    m, k = spec.digital_affinity, spec.affinity_concentration
    close(tr["affinity"], m, m * (1 - m) / (k + 1), "affinity")
    close(tr["reads_terms"].astype(float), spec.literacy, spec.literacy * (1 - spec.literacy), "")
    nu, shape = spec.need_rate, spec.need_shape
    assert nu * (1 + 10 / math.sqrt(shape)) < 1  # the clip at 1 is negligible
    close(tr["need_rate"], nu, nu * nu / shape, "need_rate")

    # 7: t0 ~ Beta(k t, k (1 - t)) behind E units of evidence: r + s = E, trust = clip(t0)
    r, neg = draw_initial_trust(t, n, rng)
    e, w, a = t.initial_evidence, t.prior_weight, t.prior
    assert np.allclose(r + neg, e, atol=1e-5)
    trust = t1(r.astype(np.float64), neg.astype(np.float64), a, w)
    lo, hi = a * w / (e + w), (e + a * w) / (e + w)  # r = 0 and r = E
    inside = (trust > lo + 1e-6) & (trust < hi - 1e-6)
    assert inside.mean() > 0.5
    m, k = t.initial, t.initial_concentration
    draws = np.random.default_rng(1).beta(m * k, (1 - m) * k, size=400_000)
    for q in (0.25, 0.5, 0.75):  # quantiles inside the clip equal the Beta's
        if lo < np.quantile(draws, q) < hi:
            assert abs(np.quantile(trust, q) - np.quantile(draws, q)) < 0.01, q
    assert abs(lo - trust.min()) < 1e-5 or trust.min() > lo


@pytest.mark.parametrize("mean", [0.0, 0.322, 1.0])
def test_digital_affinity_is_beta_with_shapes_at_least_a_thousandth(mean):
    """ODD 5, step 3: affinity ~ Beta(m k, (1 - m) k), each shape at least 0.001 k so that the
    ends m = 0 and m = 1 are allowed; the same draws replayed here (segment, concern, then
    affinity from one generator) must give the same numbers."""
    s = scenario(population={"digital_affinity": mean})
    spec, n = s.population, 20_000
    tr = draw_traits(spec, n, np.random.default_rng(12))
    rng = np.random.default_rng(12)
    shares = np.array([spec.fundamentalist, spec.pragmatist, spec.unconcerned])
    segment = rng.choice(3, size=n, p=shares / shares.sum())
    m_seg, k_c = np.array([0.8, 0.5, 0.15])[segment], spec.concern_concentration
    rng.beta(m_seg * k_c, (1 - m_seg) * k_c)  # concern
    k = spec.affinity_concentration
    want = rng.beta(max(mean, 0.001) * k, max(1 - mean, 0.001) * k, size=n)
    assert np.array_equal(tr["affinity"], want)


def test_journeys_in_progress_follow_the_stationary_state():
    """ODD 5, step 6: mid-journey with probability nL / (1 + nL), Geometric(1/L) days left."""
    s = scenario(consumers=100_000)
    pop = create_population(s, seed=9)
    n_i = pop.need_rate.astype(np.float64)
    big_l = s.journey.research_days
    p = n_i * big_l / (1 + n_i * big_l)
    busy = pop.journey_left > 0
    assert abs(busy.sum() - p.sum()) < 5 * math.sqrt((p * (1 - p)).sum())
    left = pop.journey_left[busy].astype(np.float64)
    capped = np.minimum(np.arange(1, 400), s.journey.max_days)
    g = 1 / big_l
    pmf = g * (1 - g) ** np.arange(0, 399)
    mean = (capped * pmf).sum() / pmf.sum()
    var = ((capped - mean) ** 2 * pmf).sum() / pmf.sum()
    assert abs(left.mean() - mean) < 5 * math.sqrt(var / left.size)


@pytest.mark.parametrize("rewiring", [0.0, 0.3])
def test_network_is_the_documented_small_world(rewiring):
    """ODD 5: a ring lattice to the next degree/2 consumers, far ends rewired with probability
    ``rewiring`` to a uniform consumer (drawn in this order), no self-loops, no duplicates, both
    directions."""
    n, degree, seed = 500, 8, 12
    tie_start, ties = small_world(n, degree, rewiring, np.random.default_rng(seed))
    half = degree // 2
    rng = np.random.default_rng(seed)
    far = np.array([(i + k) % n for i in range(n) for k in range(1, half + 1)])
    rewire = np.flatnonzero(rng.random(n * half, dtype=np.float32) < rewiring)
    far[rewire] = rng.integers(0, n, size=rewire.size, dtype=np.int32)
    expected = {i: set() for i in range(n)}
    for e, j in enumerate(far):
        i = e // half
        if i != j:
            expected[i].add(int(j))
            expected[int(j)].add(i)
    assert tie_start.shape == (n + 1,) and tie_start[0] == 0 and tie_start[-1] == ties.size
    for i in range(n):
        row = ties[tie_start[i] : tie_start[i + 1]].tolist()
        assert len(row) == len(set(row)) and set(row) == expected[i], i
    assert abs(ties.size / n - degree) < (0.5 if rewiring else 1e-12)
    one_start, one_ties = small_world(1, degree, rewiring, np.random.default_rng(seed))
    assert one_start.tolist() == [0, 0] and one_ties.size == 0  # a market of one: no ties


def test_drawing_a_population_holds_little_more_than_the_population():
    """Issue 14 (at most 200 B per consumer at 1M x 5 brands, 188 of them the population's own
    arrays): the build's temporaries are freed before the population's arrays are laid out, so
    the most NumPy and the compiled code hold at once while `create_population` runs (as
    tracemalloc traces it) is within 5% of `Population.nbytes()` (0.06% over at 3 brands). The
    build before issue 14's fix, which held the float64 traits (24 B per consumer) until the
    layout and built the network (~100 B per consumer of transient arrays) after the per-brand
    arrays, peaked 19% over."""
    import tracemalloc

    s = scenario(consumers=100_000)
    create_population(scenario(consumers=1000), seed=1)  # compiled code loaded before tracing
    tracemalloc.start()
    try:
        pop = create_population(s, seed=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert pop.nbytes() <= peak <= 1.05 * pop.nbytes(), (peak / pop.size, pop.nbytes() / pop.size)


# -- derived parameters ------------------------------------------------------------------------


def test_derived_parameters_follow_their_definitions():
    """The unit conversions the kernels read (docs/ODD.md 7.4, 7.7, 7.8, 7.10, 7.11, 7.2)."""
    s = scenario(
        world={"privacy_concern_trend": 0.02},
        population={"turnover_per_year": 0.15},
        outreach={"list_decay_per_year": 0.2},
    )
    d = parameters(s).derived
    assert d.n_brands == len(s.brands)
    assert math.isclose(d.decay, 0.5 ** (1 / s.trust.half_life_days), rel_tol=1e-12)
    assert math.isclose(d.concern_drift, 0.02 / 365, rel_tol=1e-12)
    fraud = s.incidents.background_fraud_per_year / 365
    assert math.isclose(d.background_fraud, fraud, rel_tol=1e-12)
    assert math.isclose(d.turnover, 1 - 0.85 ** (1 / 365), rel_tol=1e-12)
    assert math.isclose(d.list_decay, 1 - 0.8 ** (1 / 365), rel_tol=1e-12)
    # O0: a remembered e-mail fades by 1 / inbox_memory_days a day, so a steady r irrelevant
    # e-mails a day settle at r / (1 - keep) = r * inbox_memory_days remembered
    assert math.isclose(1 / (1 - d.inbox_keep), s.outreach.inbox_memory_days, rel_tol=1e-12)
    # ... read as a rate a month: x 30.4 / inbox_memory_days, so 1 at the default memory
    assert d.inbox_per_month == 1.0 and s.outreach.inbox_memory_days == 30.4
    # 7.2: at prior trust and no relevance a consumer buys with purchase_probability: the
    # outside option's weight exp(u0) against the brands' presences sum P gives P / (P + e^u0)
    presence = sum(b.presence for b in s.brands)
    p_buy = presence / (presence + math.exp(d.outside_utility))
    assert math.isclose(p_buy, s.journey.purchase_probability, rel_tol=1e-9)
    for p, odds in ((0.0, (1 - 1e-9) / 1e-9), (1.0, 1e-9 / (1 - 1e-9))):  # J3: p in [1e-9, 1-1e-9]
        u0 = parameters(scenario(journey={"purchase_probability": p})).derived.outside_utility
        # 1 - (1 - 1e-9) is 1e-9 to about 1e-7 in floats
        assert math.isclose(u0, math.log(odds * presence), rel_tol=0, abs_tol=1e-6), (p, u0)
    lev = brand_table(s)
    for b, spec in enumerate(s.brands):
        pol = spec.policy
        assert math.isclose(lev.emails_per_day[b], pol.emails_per_week / 7, rel_tol=1e-12)
        assert math.isclose(lev.consent_lapse[b], 1 / pol.consent_refresh_days, rel_tol=1e-12)
        assert math.isclose(lev.log_presence[b], math.log(spec.presence), rel_tol=1e-12)


# -- 7.9 Metrics: the end-of-day tally -------------------------------------------------------


@pytest.mark.parametrize("n_brands", [3, 1])
def test_tally_counts_the_stocks_and_shares_of_7_9(n_brands):
    """Random relations, histories and trust; every stock and market share of docs/ODD.md 7.9
    (and stated intent, 7.10: below the best rival, below the prior a with no rival) counted
    here with NumPy from its definition."""
    d = baseline_data(consumers=3000, days=30, replications=1)
    d["brands"] = d["brands"][:n_brands]
    s = Scenario.model_validate(d)
    pop = create_population(s, seed=4)
    par = parameters(s)
    n, nb_ = pop.r.shape
    rng = np.random.default_rng(29)
    day, window = 400, s.simulation.active_window_days
    target = rng.uniform(0.05, 0.95, size=(n, nb_))
    # enough evidence that no trust is clipped at r = 0: trust spreads evenly over its 50 bins,
    # so the 8th, 10th and 12.5th percentiles fall in different bins (trust_p10's 0.1 bites)
    e, w, a = 40.0, s.trust.prior_weight, s.trust.prior
    pop.r[:] = np.clip(target * (e + w) - a * w, 0, e)
    assert (pop.r > 0).all() and (pop.r < e).all()
    pop.s[:] = e - pop.r
    pop.flags[:] = rng.integers(0, 256, size=(n, nb_), dtype=np.uint8)
    pop.asked[:] = np.where(rng.random((n, nb_)) < 0.6, rng.integers(1, 256, (n, nb_)), 0)
    pop.consent[:] = rng.integers(0, 256, (n, nb_))
    pop.last_purchase[:] = rng.integers(day - 2 * window, day + 1, size=(n, nb_))
    used = rng.choice([H_USED_STORE, H_USED_DIGITAL, H_USED_STORE | H_USED_DIGITAL], size=n)
    extra = rng.integers(0, 256, size=n) & (H_WEBROOMED | H_SHOWROOMED | H_BOUGHT)
    pop.history[:] = used | extra  # every buyer has touched a channel
    stocks = np.zeros((nb_, len(STOCKS)))
    hist = np.zeros((nb_, TRUST_BINS))
    market = np.zeros(7)
    tally(pop, par, day, stocks, hist, market, 17)  # 17 defrauded today, counted by incidents

    trust = t1(pop.r.astype(np.float64), pop.s.astype(np.float64), a, w)
    f = pop.flags
    has = lambda bit: (f & bit) != 0  # noqa: E731
    got = {name: stocks[:, k] for k, name in enumerate(STOCKS)}
    assert np.allclose(got["trust"], trust.mean(axis=0), rtol=1e-9)
    for b in range(nb_):
        counts, _ = np.histogram(trust[:, b], bins=50, range=(0.0, 1.0))
        k = int(np.argmax(np.cumsum(counts) >= 0.1 * n))
        assert abs(got["trust_p10"][b] - (k + 1) / 50) <= 1e-12
        assert np.cumsum(counts)[k - 1] >= 0.08 * n and np.cumsum(counts)[k] < 0.125 * n
        # the data types asked (7.3 C1); the covert bits of asked record TOLD (C5), not requests
        requests = pop.asked[:, b] & (0xFF ^ COVERT_MASK)
        asked = np.unpackbits(requests[:, None], axis=1).sum()
        granted = np.unpackbits((pop.consent[:, b] & requests)[:, None], axis=1).sum()
        assert math.isclose(got["consent_rate"][b], granted / asked, rel_tol=1e-12)
    assert (got["subscribers"] == has(SUBSCRIBED).sum(axis=0)).all()
    assert (got["records_held"] == has(ACCOUNT).sum(axis=0)).all()
    assert (got["churned"] == has(CHURNED).sum(axis=0)).all()
    active = has(CUSTOMER) & ~has(CHURNED) & (pop.last_purchase >= day - window)
    assert (got["active_customers"] == active.sum(axis=0)).all()
    assert 0 < active.sum() < (has(CUSTOMER) & ~has(CHURNED)).sum()  # the window bites
    aware = has(CUSTOMER) & (has(HEARD) | has(HARMED))
    assert (got["breach_aware"] == aware.sum(axis=0)).all()
    if nb_ > 1:
        rival = np.array([np.delete(trust, b, axis=1).max(axis=1) for b in range(nb_)]).T
    else:
        rival = np.full((n, 1), a)
    stated = (aware & (trust < rival)).sum(axis=0) / aware.sum(axis=0)
    assert np.allclose(got["stated_intent_to_leave"], stated, rtol=1e-12)
    assert (stated > 0.1).all() and (stated < 0.9).all()
    left = (aware & has(CHURNED)).sum(axis=0) / aware.sum(axis=0)
    assert np.allclose(got["breach_aware_churned"], left, rtol=1e-12)
    h = pop.history
    buyers = (h & H_BOUGHT) != 0
    hb = h[buyers]
    store, digital = (hb & H_USED_STORE) != 0, (hb & H_USED_DIGITAL) != 0
    shares = [
        ((hb & H_WEBROOMED) != 0).mean(),
        ((hb & H_SHOWROOMED) != 0).mean(),
        (store & digital).mean(),
        (store & ~digital).mean(),
        (digital & ~store).mean(),
    ]
    assert np.allclose(market[:5], shares, rtol=1e-12)
    assert market[5] == buyers.sum() and market[6] == 17


def test_trust_of_and_trust_matrix_are_t1():
    """T1 (docs/ODD.md 7.7): t = (r + a W) / (r + s + W), in the kernels' scalar form and in the
    vectorised form the analysis uses."""
    s = scenario(consumers=500)
    pop = create_population(s, seed=2)
    par = parameters(s)
    rng = np.random.default_rng(5)
    pop.r[:] = rng.exponential(3.0, size=pop.r.shape)
    pop.s[:] = rng.exponential(3.0, size=pop.s.shape)
    a, w = s.trust.prior, s.trust.prior_weight
    expected = t1(pop.r.astype(np.float64), pop.s.astype(np.float64), a, w)
    assert np.allclose(trust.trust_matrix(pop, par), expected, rtol=1e-6)
    for i, b in ((0, 0), (7, 1), (123, 2)):
        got = trust.trust_of(pop.r[i, b], pop.s[i, b], a, w)
        assert math.isclose(got, expected[i, b], rel_tol=1e-6)


# -- 7.5 Purchase, J3-J4 -----------------------------------------------------------------------


def comfort(pop_wary, pop_wary_day, par_s: Scenario, i, b, c, day):
    """I8 (docs/ODD.md 7.10): 1 - aversion * lambda^(day - d0) for the channel of b the consumer
    is wary of (store, web, app: c < 3), else 1."""
    if c >= 3 or pop_wary[i] != 3 * b + c:
        return 1.0
    lam = 0.5 ** (1 / par_s.trust.half_life_days)
    return 1.0 - par_s.incidents.channel_aversion * lam ** (day - pop_wary_day[i])


@pytest.mark.parametrize(("switching", "integration"), [(0.3, 0.4), (0.85, 0.3)])
def test_purchase_chooses_brand_and_channel_by_j3_j4(switching, integration):
    """Every consumer ends a journey today: the brand by the multinomial logit with the outside
    option (J3), the channel by staying or drawing afresh with the affinity, trust and comfort
    weights (J4), the basket, revenue, margin, flags and history (7.5, 7.9), recomputed here with
    the same draws. Relevance (C3) as in tests/test_equations.py, from the data held. The second
    case switches channels with probability above 0.8, up to the cap of 1. Also from 7.5 and
    7.9: subscribing after a purchase, the margin from personalization m (1 - P0 V0 / (P V)) and
    the losses to spam (P' - P) V gross_margin at every decision, with random spam shares."""
    s = scenario(
        consumers=4000,
        journey={"channel_switching": switching, "integration_switching": integration},
        incidents={"channel_aversion": 0.6},
    )
    pop = create_population(s, seed=6)
    par = parameters(s)
    lev = brand_table(s)
    n, nb_ = pop.r.shape
    rng = np.random.default_rng(31)
    day = 300
    pop.r[:] = rng.exponential(4.0, size=(n, nb_))
    pop.s[:] = rng.exponential(4.0, size=(n, nb_))
    pop.flags[:] = rng.integers(0, 256, size=(n, nb_), dtype=np.uint8) & (
        CHURNED | ACCOUNT | SUBSCRIBED
    )
    pop.flags[rng.random((n, nb_)) < 0.7] &= np.uint8(0xFF ^ CHURNED)
    pop.consent[:] = rng.integers(0, 256, size=(n, nb_))
    pop.journey_left[:] = 0
    pop.journey_channels[:] = rng.integers(1, 1 << len(CHANNELS), size=n) & 0x7F
    pop.journey_channels[pop.journey_channels == 0] = 1
    pop.last_research[:] = rng.integers(-1, len(CHANNELS), size=n)
    pop.history[:] = 0
    wary_b, wary_c = rng.integers(0, nb_, size=n), rng.integers(0, 3, size=n)
    pop.wary[:] = np.where(rng.random(n) < 0.5, 3 * wary_b + wary_c, -1)
    pop.wary_day[:] = day - rng.integers(0, 60, size=n)
    pop.spam_share[:] = np.where(rng.random((n, nb_)) < 0.5, rng.integers(1, 256, (n, nb_)), 0)
    pop.inbox[:] = rng.uniform(0.5, 20.0, size=(n, nb_))  # mail remembered from an earlier spell
    before = copy.deepcopy(pop)
    counts = np.zeros((nb_, N_EVENTS))
    purchases = np.zeros((nb_, len(CHANNELS)))
    revenue = np.zeros_like(purchases)
    key = streams.stream_key(4, "purchase", day)
    journey.purchase(
        pop,
        lev,
        par,
        key,
        streams.stream_key(4, "consent", day),
        streams.stream_key(4, "personalization", day),
        day,
        counts,
        purchases,
        revenue,
    )

    j, a_, w_ = s.journey, s.trust.prior, s.trust.prior_weight
    presence = np.array([b.presence for b in s.brands])
    p0 = j.purchase_probability
    u_out = math.log((1 - p0) / p0 * presence.sum())  # J3: U_0
    skill = np.array([b.policy.personalization_skill for b in s.brands])
    integ = np.array([b.policy.omnichannel_integration for b in s.brands])
    margin = np.array([b.gross_margin for b in s.brands])
    scope = np.array([mask_of(b.policy.data_collection) for b in s.brands])
    trust_all = t1(before.r.astype(np.float64), before.s.astype(np.float64), a_, w_)
    store, social = CHANNELS.index("store"), CHANNELS.index("social")
    exp_purchases = np.zeros_like(purchases)
    exp_revenue = np.zeros_like(revenue)
    exp_margin = np.zeros(nb_)
    exp_history = np.zeros(n, dtype=np.int64)
    exp_personal = np.zeros(nb_)  # 7.9: margin from personalization
    exp_spam = np.zeros(nb_)  # 7.9: losses to spam
    contact = 1 << DATA_TYPES.index("contact")
    exp_subscribed = (before.flags & SUBSCRIBED) != 0
    buyer_of = np.full(n, -1)
    for i in range(n):
        st = np.uint64(streams.consumer_state(key, i))
        util = np.zeros(nb_)
        rho = np.zeros(nb_)
        for b in range(nb_):
            if before.flags[i, b] & CHURNED:
                continue
            held = scope[b] & (int(before.consent[i, b]) | COVERT_MASK)
            if before.flags[i, b] & ACCOUNT and held:
                value = sum(float(VALUE[d]) for d in range(8) if held & (1 << d))
                rho[b] = skill[b] * value * (0.5 + 0.5 * integ[b])
            u_b = (
                math.log(presence[b])
                + j.trust_weight * (trust_all[i, b] - a_)
                + j.relevance_weight * rho[b]
            )
            util[b] = math.exp(u_b - u_out)
        total = 1.0 + util.sum()  # the outside option's weight is exp(U_0 - U_0) = 1
        for b in range(nb_):  # 7.9 losses to spam: b's utility with trust read without spam
            spam = before.spam_share[i, b] / 255 * float(before.s[i, b])
            if util[b] == 0 or spam == 0:
                continue
            clean = t1(float(before.r[i, b]), max(float(before.s[i, b]) - spam, 0.0), a_, w_)
            e1 = util[b] * math.exp(j.trust_weight * (clean - trust_all[i, b]))
            lost = e1 / (total - util[b] + e1) - util[b] / total
            exp_spam[b] += lost * j.basket_value * (1 + j.relevance_uplift * rho[b]) * margin[b]
        target = streams.uniform(st, 0) * total
        cum = np.cumsum(util)
        chosen = [b for b in range(nb_) if util[b] > 0 and target < cum[b]]
        if not chosen:
            continue
        b = chosen[0]
        buyer_of[i] = b
        last = int(before.last_research[i])
        switching = min(1.0, j.channel_switching + j.integration_switching * integ[b])
        if (
            last >= 0
            and PURCHASE_WEIGHT[last] > 0
            and streams.uniform(st, 1) >= switching
            and streams.uniform(st, 4) < comfort(before.wary, before.wary_day, s, i, b, last, day)
        ):
            c = last
        else:
            aff, tb = float(before.affinity[i]), trust_all[i, b]
            w = np.zeros(len(CHANNELS))
            for k in range(len(CHANNELS)):
                if DIGITAL[k]:
                    w[k] = PURCHASE_WEIGHT[k] * 2 * aff * tb**j.digital_trust_exponent
                    w[k] *= integ[b] if k == social else 1.0
                else:
                    w[k] = PURCHASE_WEIGHT[k] * 2 * (1 - aff)
                w[k] *= comfort(before.wary, before.wary_day, s, i, b, k, day)
            target = streams.uniform(st, 2) * w.sum()
            cum = np.cumsum(w)
            c = next(k for k in range(len(CHANNELS)) if w[k] > 0 and target < cum[k])
        value = j.basket_value * (1 + j.relevance_uplift * rho[b])
        exp_purchases[b, c] += 1
        exp_revenue[b, c] += value
        exp_margin[b] += value * margin[b] * CHANNEL_MARGIN[c]
        if rho[b] > 0:  # 7.9: P0, V0 without b's relevance term and basket uplift
            e0 = util[b] * math.exp(-j.relevance_weight * rho[b])
            p_over_p0 = (util[b] / total) / (e0 / (total - util[b] + e0))
            v_over_v0 = 1 + j.relevance_uplift * rho[b]
            exp_personal[b] += (
                value * margin[b] * CHANNEL_MARGIN[c] * (1 - 1 / (p_over_p0 * v_over_v0))
            )
        # 7.5: subscribe with U(purchase, 3) if not subscribed and contact granted (the
        # consent after the purchase touch, which comes first)
        if (
            not exp_subscribed[i, b]
            and pop.consent[i, b] & contact
            and streams.uniform(st, 3) < s.outreach.subscribe_probability
        ):
            exp_subscribed[i, b] = True
        h = H_BOUGHT | (H_USED_DIGITAL if DIGITAL[c] else H_USED_STORE)
        if c == store and before.journey_channels[i] & DIGITAL_BITS:
            h |= H_WEBROOMED
        if DIGITAL[c] and before.journey_channels[i] & (1 << store):
            h |= H_SHOWROOMED
        exp_history[i] = h
    assert (purchases == exp_purchases).all()
    assert np.allclose(revenue, exp_revenue, rtol=1e-9)
    assert np.allclose(counts[:, EV["margin"]], exp_margin, rtol=1e-9)
    # the kernel scales the utilities by their running maximum, this test by exp(U_0): rounding
    # differs by ~1e-12, which the differences 1 - P0 V0 / (P V) and P' - P magnify
    assert np.allclose(counts[:, EV["personalization_margin"]], exp_personal, rtol=1e-7)
    assert np.allclose(counts[:, EV["spam_losses"]], exp_spam, rtol=1e-7)
    assert (exp_personal > 0.02 * exp_margin).all() and (exp_spam > 0).all()
    assert (((pop.flags & SUBSCRIBED) != 0) == exp_subscribed).all()
    new = exp_subscribed & ((before.flags & SUBSCRIBED) == 0)
    assert new.sum() > 100
    # O0: a new subscriber remembers none of the brand's mail; everyone else's memory is as it was
    assert (pop.inbox[new] == 0).all() and (pop.inbox[~new] == before.inbox[~new]).all()
    assert (pop.history == exp_history).all()
    bought = np.zeros((n, nb_), bool)
    bought[buyer_of >= 0, buyer_of[buyer_of >= 0]] = True
    assert ((pop.flags & CUSTOMER) != 0)[bought].all()
    assert (pop.last_purchase[bought] == day).all()
    assert (pop.last_purchase[~bought] == before.last_purchase[~bought]).all()
    assert (pop.journey_channels == 0).all() and (pop.last_research == -1).all()
    # enough of every branch: some buy nothing, stay, switch, buy online and in the store
    assert 0.1 * n < (buyer_of >= 0).sum() < 0.9 * n
    assert exp_purchases[:, store].sum() > 100 and exp_purchases.sum(0)[DIGITAL].sum() > 100


# -- 7.4 Outreach, O1-O4 -----------------------------------------------------------------------


def test_newsletters_follow_o0_to_o4_consumer_by_consumer():
    """Targeted mail from skilled brands, more than one e-mail a day, subscribers who remember
    0 to 20 irrelevant e-mails: the fading memory (O0), who gets how many e-mails, which are
    relevant (O1), the evidence, complaints (O2), clicks, unsubscribes (O3) and stale addresses
    (O4), recomputed here with the same draws (slot layout: docs/ODD.md, Streams)."""
    s = scenario(
        consumers=3000,
        outreach={
            "list_decay_per_year": 0.9,
            "unsubscribe_per_email": 0.02,
            "complaint_per_email": 0.002,
            "inbox_memory_days": 20.0,  # not the default 30.4: R = M x 30.4 / 20 (O2-O3)
        },
    )
    pop = create_population(s, seed=8)
    par = parameters(s)
    n, nb_ = pop.r.shape
    epw = np.array([10.0, 3.5, 20.0])[:nb_]
    targeting = np.array([0.8, 0.3, 1.0])[:nb_]
    skill = np.array([0.9, 0.6, 0.5])[:nb_]
    lev = brand_table(s)
    o = s.outreach
    lev = lev._replace(
        emails_per_day=epw / 7, email_targeting=targeting, personalization_skill=skill
    )
    rng = np.random.default_rng(37)
    pop.flags[:] = rng.integers(0, 256, size=(n, nb_), dtype=np.uint8) & (
        SUBSCRIBED | ACCOUNT | AWARE
    )
    pop.flags[rng.random((n, nb_)) < 0.5] |= SUBSCRIBED
    pop.consent[:] = rng.integers(0, 256, size=(n, nb_))
    # told when asked (the covert bits of asked, C5) independently of AWARE: a consumer who
    # found out by discovery (AWARE, not told) gets no relief from the spam's trust cost
    pop.asked[:] = np.where(rng.random((n, nb_)) < 0.5, COVERT_MASK, 0)
    pop.journey_left[:] = np.where(rng.random(n) < 0.5, 0, 3)
    pop.journey_channels[:] = np.where(pop.journey_left > 0, 1, 0)
    pop.inbox[:] = rng.uniform(0.0, 20.0, size=(n, nb_))
    before = copy.deepcopy(pop)
    counts = np.zeros((nb_, N_EVENTS))
    key = streams.stream_key(9, "outreach", 20)
    outreach.send(pop, lev, par, key, counts)

    t = s.trust
    scope = np.array([mask_of(b.policy.data_collection) for b in s.brands])
    stale_p = 1 - (1 - o.list_decay_per_year) ** (1 / 365)  # O4
    per_email = EMAIL_SLOTS_PER_BRAND_DAY * SLOTS_PER_EMAIL + 1
    decay_slot = 64 * per_email
    r = before.r.astype(np.float64)
    neg = before.s.astype(np.float64)
    flags, left, chans = (
        before.flags.copy(),
        before.journey_left.copy(),
        before.journey_channels.copy(),
    )
    inbox = before.inbox.copy()  # float32, as stored
    keep = 1 - 1 / o.inbox_memory_days
    month = 30.4 / o.inbox_memory_days  # remembered mail as a rate a month (ODD 7.4, O2-O3)
    exp = np.zeros_like(counts)
    relevant_seen = 0
    for i in range(n):
        st = np.uint64(streams.consumer_state(key, i))
        for b in range(nb_):
            if not flags[i, b] & SUBSCRIBED:
                continue
            if streams.uniform(st, decay_slot + b) < stale_p:
                flags[i, b] &= ~SUBSCRIBED & 0xFF
                exp[b, EV["stale_addresses"]] += 1
                continue
            memory = float(inbox[i, b]) * keep  # O0
            inbox[i, b] = memory
            base = b * per_email
            k = int(lev.emails_per_day[b]) + (streams.uniform(st, base) < lev.emails_per_day[b] % 1)
            k = min(k, o.max_emails_per_day)
            held = scope[b] & (int(before.consent[i, b]) | COVERT_MASK)
            if not flags[i, b] & ACCOUNT:
                held = 0
            value = sum(float(VALUE[d]) for d in range(8) if held & (1 << d))
            p_rel = targeting[b] * skill[b] * value  # O1
            told = before.asked[i, b] & COVERT_MASK
            spam = t.spam_evidence * ((1 - t.informed_relief) if told else 1.0)
            exp[b, EV["emails_sent"]] += k
            exp[b, EV["marketing_cost"]] += k * o.email_cost
            for e in range(k):
                slot = base + 1 + e * SLOTS_PER_EMAIL
                relevant = streams.uniform(st, slot) < p_rel
                relevant_seen += relevant
                if relevant:
                    r[i, b] += t.personalization_evidence * p_rel
                else:
                    neg[i, b] += t.negative_weight * spam
                    memory += 1
                    inbox[i, b] = memory
                    p_complaint = (
                        o.complaint_per_email * (memory * month / 5) ** o.fatigue_exponent
                    )  # O2
                    if streams.uniform(st, slot + 2) < p_complaint:
                        exp[b, EV["spam_complaints"]] += 1
                        exp[b, EV["unsubscribes"]] += 1
                        neg[i, b] += t.negative_weight * o.complaint_penalty * t.spam_evidence
                        flags[i, b] &= ~SUBSCRIBED & 0xFF
                        break
                p_click = o.click_rate * (1.0 if relevant else o.irrelevant_click_ratio)
                if streams.uniform(st, slot + 1) < p_click:
                    exp[b, EV["email_clicks"]] += 1
                    if left[i] == 0 and chans[i] == 0:
                        left[i] = 1
                    chans[i] |= 1 << EMAIL
                ratio = o.relevant_unsubscribe_ratio if relevant else 1.0
                p_unsub = (
                    o.unsubscribe_per_email * (memory * month / 5) ** o.unsubscribe_fatigue_exponent
                )
                if streams.uniform(st, slot + 3) < p_unsub * ratio:  # O3
                    exp[b, EV["unsubscribes"]] += 1
                    flags[i, b] &= ~SUBSCRIBED & 0xFF
                    break
    for name in ("emails_sent", "marketing_cost", "spam_complaints", "unsubscribes"):
        assert np.allclose(counts[:, EV[name]], exp[:, EV[name]], rtol=1e-9), name
    for name in ("email_clicks", "stale_addresses"):
        assert np.allclose(counts[:, EV[name]], exp[:, EV[name]], rtol=1e-9), name
        assert (exp[:, EV[name]] >= 3).all(), name
    assert (pop.flags == flags).all()
    assert (pop.journey_left == left).all() and (pop.journey_channels == chans).all()
    assert np.allclose(pop.r, r, rtol=1e-5, atol=1e-6)
    assert np.allclose(pop.s, neg, rtol=1e-5, atol=1e-6)
    assert (pop.inbox == inbox).all()
    mailed = before.flags & SUBSCRIBED != 0
    assert (pop.inbox[~mailed] == before.inbox[~mailed]).all()  # no subscription, no memory change
    assert relevant_seen > 100 and exp[:, EV["spam_complaints"]].sum() > 10


# -- 7.10 Incidents: a breach becomes public (I3, I4, I6) --------------------------------------


@pytest.mark.parametrize("notified", [True, False])
def test_a_breach_becomes_public_by_i6_and_costs_by_i4(notified):
    """The shocks of I6 composed here from the ODD (severity, loudness, reach, compensation,
    candour, late notice, media framing, spill by overlap) and the fine and notification costs
    of I4, against `Incidents._disclose` on a population with a third of it exposed."""
    s = scenario(
        consumers=6000,
        incidents={"late_notice_penalty": 0.05, "candour_softening": 0.4},
        world={"contagion": 0.3, "media_amplification": 0.3},
    )
    pop = create_population(s, seed=10)
    par = parameters(s)
    lev = brand_table(s)
    n, nb_ = pop.r.shape
    comp, candour = 1, 0.6  # a voucher, a fairly candid notice
    lev = lev._replace(
        compensation=np.full(nb_, comp, dtype=np.int64), breach_candour=np.full(nb_, candour)
    )
    scopes = [mask_of(["contact", "payment_card"]), mask_of(["contact"]), mask_of(["location"])]
    lev = lev._replace(scope=np.array(scopes[:nb_], dtype=np.int64))
    inc = Incidents(s, par, lev, seed=3)
    b, breach_day, day, size = 0, 200, 212, 0.3
    types = mask_of(["contact", "payment_card"])
    br = Breach(brand=b, day=breach_day, records_share=0.5, types=types, scheduled=True)
    br.size, br.channel = size, 1
    exposed = np.arange(n) % 3 == 0
    pop.exposed_day[:, b] = np.where(exposed, breach_day, -1)
    s0 = pop.s.astype(np.float64).copy()
    counts = np.zeros((nb_, N_EVENTS))
    revenue = np.array([1e6, 2e6, 3e6])[:nb_]
    inc._disclose(pop, par, br, day, notified, counts, revenue)

    i_, w_ = s.incidents, s.world
    sens = {d: float(SENSITIVITY[DATA_TYPES.index(d)]) for d in ("contact", "payment_card")}
    sev = 0.5 + max(sens.values())
    loud = sev * (size / i_.reach_reference_share) ** i_.reach_elasticity
    reach_ = 1 - (1 - w_.media_amplification) ** loud
    late = 1 + i_.late_notice_penalty * (day - breach_day)
    soft = i_.compensation_softening * i_.voucher_share if notified else 0.0
    told = 1 - i_.candour_softening * candour if notified else 1.0
    frame = 1.0 if notified else 1.0 + i_.media_framing
    own = i_.disclosure_evidence * sev * (1 - soft) * told * late
    news = i_.news_evidence * loud * told
    wneg = s.trust.negative_weight
    got = pop.s.astype(np.float64) - s0
    assert np.allclose(got[exposed, b], wneg * own, rtol=1e-4)
    heard = ~exposed & (got[:, b] > 0)
    assert np.allclose(got[heard, b], wneg * news, rtol=1e-4)
    m = (~exposed).sum()
    assert abs(heard.sum() / m - reach_) < 5 * math.sqrt(reach_ * (1 - reach_) / m)
    shock = np.where(exposed, own, np.where(heard, news, 0.0))
    for k in range(1, nb_):
        held = [d for d in sens if scopes[k] & mask_of([d])]
        spill = w_.contagion * sum(sens[d] for d in held) / sum(sens.values()) * frame
        assert np.allclose(got[:, k], wneg * spill * shock, rtol=1e-4, atol=1e-7), k
    assert (pop.wary[heard | exposed] == 3 * b + 1).all()
    fine = w_.fine_share_of_revenue * revenue[b]
    if notified:
        per_person = i_.notification_cost + i_.voucher_cost + i_.candour_cost * candour
        assert counts[b, EV["consumers_notified"]] == exposed.sum()
        assert math.isclose(
            counts[b, EV["breach_cost"]], fine + per_person * exposed.sum(), rel_tol=1e-9
        )
    else:
        assert counts[b, EV["consumers_notified"]] == 0
        assert math.isclose(counts[b, EV["breach_cost"]], fine, rel_tol=1e-9)


def test_breach_hazard_is_i1():
    """I1 (docs/ODD.md 7.10), with brands that differ in every factor."""
    s = scenario(consumers=1000, world={"attack_pressure": 2.0})
    par = parameters(s)
    lev = brand_table(s)
    nb_ = len(s.brands)
    scopes = [
        mask_of(["contact", "social_login", "payment_card"]),
        mask_of(["contact"]),
        mask_of(DATA_TYPES),
    ][:nb_]
    lev = lev._replace(
        scope=np.array(scopes, dtype=np.int64),
        third_party_sharing=np.array([0.0, 0.5, 1.0][:nb_]),
        security_investment=np.array([0.1, 0.5, 0.9][:nb_]),
    )
    held = np.array([100.0, 400.0, 900.0][:nb_])
    got = Incidents(s, par, lev, seed=1).hazard(held)
    i_ = s.incidents
    for b in range(nb_):
        types = bin(scopes[b]).count("1")
        social = bool(scopes[b] & mask_of(["social_login"]))
        h = (
            i_.base_hazard_per_year
            / 365
            * 2.0
            * types
            / 8
            * (0.5 + held[b] / 1000)
            * (1 + i_.sharing_effect * lev.third_party_sharing[b])
            * (1 + i_.social_login_effect * social)
            * math.exp(-i_.security_effect * (lev.security_investment[b] - 0.5))
        )
        assert math.isclose(got[b], min(h, 1.0), rel_tol=1e-12), b


@pytest.mark.parametrize("store_touch", [0.0, 0.6])
def test_research_touches_channel_and_brand_by_j2(store_touch):
    """J2 (docs/ODD.md 7.2): the research channel with weights research_c (2 a_i for a digital
    channel, 2 (1 - a_i) (1 - nu) + nu for the store, nu = store_touch), the brand with weights
    presence_b (floor + t_ib) times the comfort of I8, churned brands left out; recomputed here
    with the same draws. Every type is granted and asked, so the touched brand (and only it)
    records the consumer today."""
    s = scenario(
        consumers=4000,
        incidents={"channel_aversion": 0.7},
        journey={"store_touch": store_touch, "touch_share": 1.0},  # everyone: the rule above
    )
    pop = create_population(s, seed=12)
    par = parameters(s)
    lev = brand_table(s)
    n, nb_ = pop.r.shape
    lev = lev._replace(scope=np.full(nb_, mask_of(DATA_TYPES), dtype=np.int64))
    rng = np.random.default_rng(41)
    day = 250
    pop.r[:] = rng.exponential(4.0, size=(n, nb_))
    pop.s[:] = rng.exponential(4.0, size=(n, nb_))
    pop.flags[:] = np.where(rng.random((n, nb_)) < 0.3, CHURNED, 0)
    pop.flags[: n // 50] = CHURNED  # a few have no brand left to touch
    pop.consent[:] = 0xFF
    pop.asked[:] = 0xFF
    pop.journey_left[:] = np.where(rng.random(n) < 0.8, rng.integers(1, 5, size=n), 0)
    pop.journey_channels[:] = 0
    pop.history[:] = 0
    wary_b, wary_c = rng.integers(0, nb_, size=n), rng.integers(0, 3, size=n)
    pop.wary[:] = np.where(rng.random(n) < 0.5, 3 * wary_b + wary_c, -1)
    pop.wary_day[:] = day - rng.integers(0, 60, size=n)
    before = copy.deepcopy(pop)
    key = streams.stream_key(5, "research", day)
    counts = np.zeros((nb_, N_EVENTS))
    _research_day(pop, lev, par, 5, day, counts)
    a_, w_ = s.trust.prior, s.trust.prior_weight
    trust_all = t1(before.r.astype(np.float64), before.s.astype(np.float64), a_, w_)
    presence = np.array([b.presence for b in s.brands])
    floor = s.journey.research_brand_floor
    touched = np.full(n, -1)
    channel = np.full(n, -1)
    for i in range(n):
        if before.journey_left[i] <= 0:
            continue
        st = np.uint64(streams.consumer_state(key, i))
        aff = float(before.affinity[i])
        w = RESEARCH_WEIGHT * np.where(
            DIGITAL, 2 * aff, 2 * (1 - aff) * (1 - store_touch) + store_touch
        )
        target = streams.uniform(st, 0) * w.sum()
        c = next(k for k in range(len(w)) if w[k] > 0 and target < np.cumsum(w)[k])
        channel[i] = c
        bw = np.array(
            [
                0.0
                if before.flags[i, b] & CHURNED
                else presence[b]
                * (floor + trust_all[i, b])
                * comfort(before.wary, before.wary_day, s, i, b, c, day)
                for b in range(nb_)
            ]
        )
        if bw.sum() <= 0:
            continue
        target = streams.uniform(st, 1) * bw.sum()
        touched[i] = next(b for b in range(nb_) if bw[b] > 0 and target < np.cumsum(bw)[b])
    busy = before.journey_left > 0
    assert (pop.journey_left == np.where(busy, before.journey_left - 1, 0)).all()
    assert (pop.last_research[busy] == channel[busy]).all()
    assert (pop.journey_channels[busy] == (1 << channel[busy])).all()
    used = np.where(DIGITAL[channel[busy]], H_USED_DIGITAL, H_USED_STORE)
    assert (pop.history[busy] == used).all() and (pop.history[~busy] == 0).all()
    seen = pop.last_seen == day
    expected = np.zeros((n, nb_), bool)
    expected[touched >= 0, touched[touched >= 0]] = True
    assert (seen == expected).all()
    assert (touched >= 0).sum() > 0.7 * busy.sum() and ((touched < 0) & busy).sum() > 10


# The research weights of docs/ODD.md 7.2 as published in the channel catalogue
# (sim/core/catalogue.py, CHANNEL_PROPS): the store 0.30; web 0.25, app 0.10, social 0.15,
# marketplace 0.12, magazine 0.08, e-mail 0 (all digital): 0.70 in all.
STORE_RESEARCH, DIGITAL_RESEARCH = 0.30, 0.25 + 0.10 + 0.15 + 0.12 + 0.08


def _research_day(pop, lev, par, seed: int, day: int, counts=None, touch=None) -> None:
    """One day of J2 research with the run keys of ``seed`` (as `sim.mechanisms.journey` gets
    them from the model), counting into ``counts`` (a fresh table if None)."""
    journey.research(
        pop,
        lev,
        par,
        streams.stream_key(seed, "research", day),
        streams.stream_key(seed, "consent", day),
        streams.stream_key(seed, "personalization", day),
        day,
        np.zeros((lev.presence.size, N_EVENTS)) if counts is None else counts,
        journey.touch_key(seed) if touch is None else touch,
    )


STORE_SHARES = [
    # share of research touches in the store = s / (s + d), by hand (J2):
    #   s = 0.30 (2 (1 - a) (1 - nu) + nu),  d = 0.70 * 2 a
    # a = 0.2: nu = 0 -> 0.48 / 0.76 = 0.6316; 0.5 -> 0.39 / 0.67 = 0.5821; 1 -> 0.30 / 0.58
    # a = 0.8: nu = 0 -> 0.12 / 1.24 = 0.0968; 0.5 -> 0.21 / 1.33 = 0.1579; 1 -> 0.30 / 1.42
    (0.0, 1.0, {0.2: 0.48 / 0.76, 0.8: 0.12 / 1.24}),
    (0.5, 1.0, {0.2: 0.39 / 0.67, 0.8: 0.21 / 1.33}),
    (1.0, 1.0, {0.2: 0.30 / 0.58, 0.8: 0.30 / 1.42}),
    # touch_share q: a share q of each group has need for touch (nu), the rest nu = 0, so the
    # group's store share is q share(nu) + (1 - q) share(0):
    # nu = 1, q = 0.5: a = 0.2 -> (0.5172 + 0.6316) / 2 = 0.5744; a = 0.8 -> (0.2113 +
    # 0.0968) / 2 = 0.1540 (against 0.5172 and 0.2113 with everyone, q = 1)
    (1.0, 0.5, {0.2: (0.30 / 0.58 + 0.48 / 0.76) / 2, 0.8: (0.30 / 1.42 + 0.12 / 1.24) / 2}),
    (0.5, 0.5, {0.2: (0.39 / 0.67 + 0.48 / 0.76) / 2, 0.8: (0.21 / 1.33 + 0.12 / 1.24) / 2}),
    # q = 0: nobody has it, the rule without need for touch whatever nu
    (1.0, 0.0, {0.2: 0.48 / 0.76, 0.8: 0.12 / 1.24}),
]
"""(store_touch, touch_share, share of research touches in the store by affinity), by hand."""


@pytest.mark.parametrize("store_touch, touch_share, expected", STORE_SHARES)
def test_store_touch_sets_the_share_of_research_in_the_store(store_touch, touch_share, expected):
    """Need for touch (J2, `journey.store_touch` = nu): the store's research weight is
    research_store (2 (1 - a) (1 - nu) + nu), digital channels keep research_c 2 a, for the
    consumers who have need for touch (a share `journey.touch_share`); the others use nu = 0. Two
    groups of consumers, of affinity 0.2 and 0.8, each make one research touch; the share who
    touched the store in each group must be the hand-computed one within 4.5 binomial standard
    errors (at 20,000 consumers a group, about 0.015). The shares of the three values of nu differ
    by 5-11 points within each group, and nu applied to the digital channels too would give 0.30
    in both groups at nu = 1; at touch_share 0.5 the shares lie halfway between the rule's at nu
    and at 0, 3-6 points from either."""
    assert RESEARCH_WEIGHT[0] == STORE_RESEARCH and CHANNELS[0] == "store"
    assert math.isclose(RESEARCH_WEIGHT[DIGITAL].sum(), DIGITAL_RESEARCH)
    n = 40_000
    s = scenario(consumers=n, journey={"store_touch": store_touch, "touch_share": touch_share})
    pop = create_population(s, seed=23)
    par = parameters(s)
    lev = brand_table(s)
    group = np.arange(n) % 2 == 0
    pop.affinity[:] = np.where(group, np.float32(0.2), np.float32(0.8))
    pop.journey_left[:] = 1
    pop.journey_channels[:] = 0
    pop.last_research[:] = -1
    counts = np.zeros((lev.presence.size, N_EVENTS))
    day = 40
    _research_day(pop, lev, par, 9, day, counts)
    assert (pop.last_research >= 0).all()
    in_store = pop.last_research == CHANNELS.index("store")
    for a, members in ((0.2, group), (0.8, ~group)):
        p = expected[a]
        got = in_store[members].mean()
        se = math.sqrt(p * (1 - p) / members.sum())
        assert abs(got - p) <= 4.5 * se, (a, store_touch, touch_share, got, p, se)


@pytest.mark.parametrize("store_touch, touch_share, expected", STORE_SHARES)
def test_the_reference_sets_the_same_share_of_research_in_the_store(
    store_touch, touch_share, expected
):
    """The per-agent Mesa reference's J2 (`sim.reference.journey`) against the same hand-computed
    shares: the agreement test runs at the default store_touch 0 only, so without this a reference
    that dropped or broke need for touch would pass. 6,000 consumers a group (4.5 binomial
    standard errors: at most 0.029)."""
    from sim.reference import ReferenceModel

    n = 12_000
    s = scenario(consumers=n, journey={"store_touch": store_touch, "touch_share": touch_share})
    model = ReferenceModel(s, seed=23)
    for i, agent in enumerate(model.consumers):
        agent.affinity = 0.2 if i % 2 == 0 else 0.8
        agent.journey_left = 1
        agent.journey_channels = set()
        agent.research()
    for a, parity in ((0.2, 0), (0.8, 1)):
        members = model.consumers[parity::2]
        p = expected[a]
        got = np.mean([c.last_research == "store" for c in members])
        se = math.sqrt(p * (1 - p) / len(members))
        assert abs(got - p) <= 4.5 * se, (a, store_touch, touch_share, got, p, se)


def test_the_reference_redraws_need_for_touch_for_a_newcomer():
    """The Mesa reference's newcomers (N2, `sim.reference.turnover`) are new people: need for
    touch (J2) is drawn afresh, as in the engine. At turnover 1 a year every consumer leaves on
    the day (p = 1 - 0^(1/365) = 1); at touch_share 0.5 the newcomer has the trait as often as
    not, independently of the leaver, so the trait agrees in 0.5^2 + 0.5^2 = 0.5 of the rows
    (a reference that kept the leaver's U_i: all of them). 8,000 consumers: 4.5 binomial
    standard errors are 0.025."""
    from sim.reference import ReferenceModel

    n = 8_000
    s = scenario(
        consumers=n,
        journey={"store_touch": 1.0, "touch_share": 0.5},
        population={"turnover_per_year": 1.0},
    )
    model = ReferenceModel(s, seed=37)
    before = np.array([c.touch_u < 0.5 for c in model.consumers])
    for agent in model.consumers:
        agent.move()
    after = np.array([c.touch_u < 0.5 for c in model.consumers])
    tol = 4.5 * math.sqrt(0.25 / n)
    assert abs(after.mean() - 0.5) <= tol, after.mean()
    assert abs((after == before).mean() - 0.5) <= tol, (after == before).mean()


def test_need_for_touch_is_a_trait_of_the_consumer_redrawn_for_a_newcomer():
    """`journey.touch_share` (J2): need for touch is fixed over a consumer's life, not drawn per
    touch. Consumers of affinity 1 at store_touch 1 and touch_share 0.5 research over 10 days:
    without need for touch the store's weight 0.30 (2 (1 - 1) (1 - 0) + 0) is 0, with it 0.30
    against 0.70 * 2 digital, so a consumer who has it touches the store on a day with
    p = 0.30 / 1.70 = 0.1765. If the trait is fixed, the share who touched the store on at least
    one day is 0.5 (1 - (1 - p)^10) = 0.4283 (by hand: (14/17)^10 = 0.1435), and they are all
    among those with U_i < 0.5; drawn per touch it would be 1 - (1 - p / 2)^10 = 0.6025. A
    newcomer (N2) redraws affinity and need rate, hence U_i: about half the newcomers' rows
    change their trait (agreement 0.5^2 + 0.5^2 = 0.5), not none."""
    n = 20_000
    s = scenario(
        consumers=n,
        journey={"store_touch": 1.0, "touch_share": 0.5},
        population={"turnover_per_year": 0.9},
    )
    pop = create_population(s, seed=31)
    par = parameters(s)
    lev = brand_table(s)
    pop.affinity[:] = np.float32(1.0)
    tkey = journey.touch_key(31)
    u = streams.person_uniforms(tkey, np.arange(n), pop.affinity, pop.need_rate)
    ever = np.zeros(n, bool)
    for day in range(50, 60):
        pop.journey_left[:] = 1
        _research_day(pop, lev, par, 31, day, touch=tkey)
        ever |= pop.last_research == CHANNELS.index("store")
    p_day = 0.30 / 1.70
    p = 0.5 * (1 - (1 - p_day) ** 10)
    assert math.isclose(p, 0.4283, abs_tol=1e-4)
    assert abs(ever.mean() - p) <= 4.5 * math.sqrt(p * (1 - p) / n), ever.mean()
    assert not ever[u >= 0.5].any()  # those without it never touched the store
    assert abs((u < 0.5).mean() - 0.5) <= 4.5 * math.sqrt(0.25 / n)
    # a newcomer is a new person: its trait is drawn afresh (from its redrawn traits)
    reborn = np.zeros(n, bool)
    for day in range(60, 160):
        reborn[turnover.leavers(31, day, n, par.derived.turnover)] = True
        turnover.renew(pop, par, 31, day, np.zeros((lev.presence.size, N_EVENTS)))
    after = streams.person_uniforms(tkey, np.arange(n), pop.affinity, pop.need_rate)
    assert (after[~reborn] == u[~reborn]).all()  # the others keep theirs
    same = ((after < 0.5) == (u < 0.5))[reborn]
    assert reborn.sum() > 2000
    assert abs(same.mean() - 0.5) <= 4.5 * math.sqrt(0.25 / reborn.sum()), same.mean()
