"""Kernels against their ODD equations, recomputed in the test from the population's own arrays.

* 7.9 stocks: recorded trust (T1 mean), trust_p10 (50-bin histogram rule), consent rate,
  subscribers, churned, records held, active customers, from the end-of-run arrays;
* 7.7 T2: forgetting multiplies every evidence by 0.5 ** (1 / half_life_days), once, over
  several consumer blocks on 1 to 3 threads;
* 7.3 C1-C3: one touch in the store for every consumer: which types are asked, who grants (the
  same counter-based draw against the logistic of C1 computed here), the trust cost of asking (C2)
  and the personalization evidence (C3).
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from sim.core import streams
from sim.core.blocks import BLOCK, set_threads
from sim.core.catalogue import (
    BUNDLED_MASK,
    CHANNELS,
    CONVENIENCE,
    COVERT_MASK,
    DATA_TYPES,
    OBSERVES,
    SENSITIVITY,
    VALUE,
)
from sim.mechanisms import consent, incidents, journey, outreach, social, trust
from sim.mechanisms.metrics import EV
from sim.model import TrustModel
from sim.scenario import Scenario
from sim.state.parameters import parameters
from sim.state.population import (
    ACCOUNT,
    AWARE,
    CHURNED,
    CUSTOMER,
    HEARD,
    SUBSCRIBED,
    create_population,
)

from .conftest import baseline_data

DAYS, WARMUP = 40, 30


@pytest.fixture(scope="module")
def model():
    d = baseline_data(consumers=3000, days=DAYS, replications=1)
    d["simulation"]["warmup_days"] = WARMUP
    s = Scenario.model_validate(d)
    m = TrustModel(s, seed=41)
    m.run()
    return m


def t1(pop, s: Scenario) -> np.ndarray:
    a, w = s.trust.prior, s.trust.prior_weight
    r, neg = pop.r.astype(np.float64), pop.s.astype(np.float64)
    return (r + a * w) / (r + neg + w)


def test_recorded_stocks_follow_their_definitions(model):
    s, pop = model.scenario, model.population
    ts = model.timeseries()
    last = ts[(ts["day"] == DAYS - 1) & (ts["channel"] == "all")]
    n = s.simulation.consumers
    trust_now = t1(pop, s)
    tau = DAYS - 1 + WARMUP
    for b, spec in enumerate(s.brands):
        got = last[last["brand"] == spec.name].set_index("metric")["value"].astype(float)
        flags = pop.flags[:, b]
        assert math.isclose(got["trust"], trust_now[:, b].mean(), rel_tol=1e-5)
        counts, _ = np.histogram(trust_now[:, b], bins=50, range=(0.0, 1.0))
        k = int(np.argmax(np.cumsum(counts) >= 0.1 * n))
        assert abs(got["trust_p10"] - (k + 1) / 50) <= 1 / 50 + 1e-12  # float32 bin edges
        assert got["subscribers"] == int(((flags & SUBSCRIBED) != 0).sum())
        assert got["churned"] == int(((flags & CHURNED) != 0).sum())
        assert got["records_held"] == int(((flags & ACCOUNT) != 0).sum())
        active = (
            ((flags & CUSTOMER) != 0)
            & ((flags & CHURNED) == 0)
            & (pop.last_purchase[:, b] >= tau - 180)
        )
        assert got["active_customers"] == int(active.sum())
        requests = pop.asked[:, b] & (0xFF ^ COVERT_MASK)  # (the covert bits: TOLD, 7.3 C5)
        asked = np.unpackbits(requests[:, None], axis=1).sum()
        granted = np.unpackbits((pop.consent[:, b] & requests)[:, None], axis=1).sum()
        assert math.isclose(got["consent_rate"], granted / asked, rel_tol=1e-12)
        assert got["subscribers"] > 0 and got["records_held"] > 0


def test_forgetting_discounts_all_evidence_by_the_half_life(model):
    m = copy.deepcopy(model)
    pop = m.population
    r0, s0 = pop.r.copy(), pop.s.copy()
    trust.forget(pop, m.params)
    lam = np.float32(0.5 ** (1.0 / m.scenario.trust.half_life_days))
    assert np.allclose(pop.r, r0 * lam, rtol=1e-6) and np.allclose(pop.s, s0 * lam, rtol=1e-6)
    assert (r0 > 0).any() and (s0 > 0).any()


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_forgetting_reaches_every_consumer_once_whatever_the_blocks(threads):
    """T2 over several consumer blocks (sim.core.blocks: 2,048 consumers each) and split across
    threads: every r and s of every consumer is multiplied by lambda = 0.5 ** (1 / half_life_days)
    exactly once (in float32, as the arrays), none twice or never at a block edge."""
    d = baseline_data(consumers=2 * BLOCK + 700, days=DAYS, replications=1)
    s = Scenario.model_validate(d)
    pop = create_population(s, seed=3)
    rng = np.random.default_rng(8)
    pop.r[:] = rng.exponential(3.0, size=pop.r.shape)
    pop.s[:] = rng.exponential(3.0, size=pop.s.shape)
    r0, s0 = pop.r.copy(), pop.s.copy()
    lam = np.float32(0.5 ** (1.0 / s.trust.half_life_days))
    set_threads(threads)
    try:
        trust.forget(pop, parameters(s))
    finally:
        set_threads(1)
    assert np.array_equal(pop.r, r0 * lam) and np.array_equal(pop.s, s0 * lam)


def test_one_store_touch_asks_grants_and_personalises_by_c1_to_c3(model):
    m = copy.deepcopy(model)
    s, pop, par, lev = m.scenario, m.population, m.params, m.brand_levers
    b, c = 0, CHANNELS.index("store")
    aurora = s.brands[b]
    pop.asked[:, b] = 0
    pop.consent[:, b] = 0
    pop.flags[:, b] &= np.uint8(0xFF ^ ACCOUNT)
    r0, s0 = pop.r[:, b].astype(np.float64), pop.s[:, b].astype(np.float64)
    aware0 = pop.flags[:, b] & AWARE
    t0 = t1(pop, s)[:, b]
    day = WARMUP + DAYS
    key_c = streams.stream_key(99, "consent", day)
    key_p = streams.stream_key(99, "personalization", day)
    counts = np.zeros_like(m._counts)
    n = s.simulation.consumers
    for i in range(n):
        consent.touch(
            pop,
            lev,
            par,
            i,
            b,
            c,
            day,
            np.uint64(streams.consumer_state(key_c, i)),
            np.uint64(streams.consumer_state(key_p, i)),
            0,
            counts,
        )
    scope = sum(1 << DATA_TYPES.index(d) for d in aurora.policy.data_collection)
    askable = scope & int(OBSERVES[c]) & ~COVERT_MASK
    assert askable and ((pop.asked[:, b] & (0xFF ^ COVERT_MASK)) == askable).all()
    x, q = aurora.policy.transparency, pop.concern.astype(np.float64)
    cs, ts_ = s.consent, s.trust
    cost = np.zeros(n)
    for d in range(len(DATA_TYPES)):
        bit = 1 << d
        if not askable & bit:
            continue
        sens = float(SENSITIVITY[d])
        logit = (
            cs.intercept
            + cs.trust_effect * (t0 - ts_.prior)
            + cs.transparency_effect * x
            - cs.concern_effect * q * sens
            + CONVENIENCE[d]
            + cs.unread_bonus * ((~pop.reads_terms.astype(bool)) & bool(BUNDLED_MASK & bit))
        )
        u = np.array(
            [streams.uniform(np.uint64(streams.consumer_state(key_c, i)), d) for i in range(n)]
        )
        expected = u < 1 / (1 + np.exp(-logit))  # C1, with the same counter-based draw
        got = (pop.consent[:, b] & bit) != 0
        assert (got == expected).mean() > 0.999, DATA_TYPES[d]
        assert 0.02 < expected.mean() < 0.98
        cost += ts_.negative_weight * ts_.ask_evidence * q * sens * (1 - x)  # C2
    # C3: personalization evidence from the data held after the touch
    held = np.where(
        (pop.flags[:, b] & ACCOUNT) != 0, scope & (pop.consent[:, b].astype(int) | COVERT_MASK), 0
    )
    value = np.array([sum(float(VALUE[d]) for d in range(8) if h & (1 << d)) for h in held])
    rho = (
        aurora.policy.personalization_skill
        * value
        * (0.5 + 0.5 * aurora.policy.omnichannel_integration)
    )
    assert np.allclose(pop.r[:, b] - r0, ts_.personalization_evidence * rho, rtol=1e-4, atol=1e-6)
    # C5: asked, the brand explains with probability x (AWARE); covert data held by a consumer who
    # is not AWARE may be noticed with probability p_covert * q * sigma_max(covert types held)
    u_p = [np.uint64(streams.consumer_state(key_p, i)) for i in range(n)]
    told = np.array([streams.uniform(st, 2) for st in u_p]) < x
    aware = (aware0 != 0) | told
    # TOLD (consent given knowingly, O1's relief) only by the explanation: the covert bits of asked
    assert ((pop.asked[:, b] & COVERT_MASK) != 0).tolist() == told.tolist()
    covert = held & COVERT_MASK
    sigma = np.array(
        [
            max((float(SENSITIVITY[d]) for d in range(8) if h & (1 << d)), default=0.0)
            for h in covert
        ]
    )
    p_notice = cs.covert_notice_rate * q * sigma
    noticed = (covert != 0) & ~aware & (np.array([streams.uniform(st, 4) for st in u_p]) < p_notice)
    assert noticed.any()
    cost += np.where(noticed, ts_.negative_weight * ts_.covert_evidence * sigma, 0.0)
    assert ((pop.flags[:, b] & AWARE) != 0).tolist() == (aware | noticed).tolist()
    assert (noticed & ~told).any()  # AWARE by discovery, not told: no relief (O1)
    assert np.allclose(pop.s[:, b] - s0, cost, rtol=1e-4, atol=1e-6)
    assert (rho > 0).mean() > 0.5


@pytest.mark.parametrize(("softening", "delay", "size"), [(0.0, 0, 0.1), (0.35, 12, 0.4)])
def test_disclosure_shock_news_and_contagion_follow_i6(model, softening, delay, size):
    """I6 from docs/ODD.md, computed here: severity, loudness, reach, overlap and the shocks."""
    m = copy.deepcopy(model)
    s, pop, par = m.scenario, m.population, m.params
    inc, world, t = s.incidents, s.world, s.trust
    b, n = 0, s.simulation.consumers
    breach_day = WARMUP + DAYS - delay
    exposed = np.arange(n) % 3 == 0
    pop.exposed_day[:, b] = np.where(exposed, breach_day, -1)
    kinds = ("contact", "payment_card")
    types = sum(1 << DATA_TYPES.index(d) for d in kinds)
    sens = {d: float(SENSITIVITY[DATA_TYPES.index(d)]) for d in kinds}
    severity = 0.5 + max(sens.values())
    assert math.isclose(incidents.severity_factor(types), severity, rel_tol=1e-6)
    loud = severity * (size / inc.reach_reference_share) ** inc.reach_elasticity
    assert math.isclose(incidents.loudness(severity, size, par), loud, rel_tol=1e-9)
    reach = 1 - (1 - world.media_amplification) ** loud
    assert math.isclose(incidents.reach(loud, par), reach, rel_tol=1e-9)
    contact_only = 1 << DATA_TYPES.index("contact")
    assert math.isclose(
        incidents.overlap(types, contact_only), sens["contact"] / sum(sens.values()), rel_tol=1e-6
    )
    assert math.isclose(incidents.overlap(types, types), 1.0, rel_tol=1e-9)
    late = 1 + inc.late_notice_penalty * delay
    exposed_shock = inc.disclosure_evidence * severity * (1 - softening) * late
    news_shock = inc.news_evidence * loud
    spill = np.array([0.0] + [world.contagion * (0.5 + 0.25 * k) for k in range(1, len(s.brands))])
    s0 = pop.s.astype(np.float64).copy()
    key = streams.stream_key(5, "disclosure", breach_day + delay)
    incidents.disclose(
        pop,
        par,
        key,
        b,
        breach_day,
        exposed_shock,
        news_shock,
        reach,
        spill,
        -1,
        breach_day + delay,
    )
    u = np.array([streams.uniform(np.uint64(streams.consumer_state(key, i)), b) for i in range(n)])
    shock = np.where(exposed, exposed_shock, np.where(u < reach, news_shock, 0.0))
    got = pop.s.astype(np.float64) - s0
    assert np.allclose(got[:, b], t.negative_weight * shock, rtol=1e-4, atol=1e-6)
    for k in range(1, len(s.brands)):
        expected = t.negative_weight * spill[k] * shock
        assert np.allclose(got[:, k], expected, rtol=1e-4, atol=1e-6)
    heard = (shock > 0) & ~exposed
    share = heard.sum() / (~exposed).sum()
    se = math.sqrt(reach * (1 - reach) / (~exposed).sum())
    assert abs(share - reach) < 4 * se + 1e-9  # media reach, not everyone


def test_needs_start_geometric_journeys_by_j1(model):
    m = copy.deepcopy(model)
    s, pop, par = m.scenario, m.population, m.params
    n = s.simulation.consumers
    pop.journey_left[:] = 0
    key = streams.stream_key(7, "need", 3)
    journey.arise_needs(pop, par, key)
    states = [np.uint64(streams.consumer_state(key, i)) for i in range(n)]
    u0 = np.array([streams.uniform(st, 0) for st in states])
    u1 = np.array([streams.uniform(st, 1) for st in states])
    p = 1 / s.journey.research_days
    length = np.minimum(1 + np.floor(np.log(1 - u1) / np.log(1 - p)), 60)
    expected = np.where(u0 < pop.need_rate.astype(np.float64), length, 0)
    assert (pop.journey_left == expected).mean() > 0.999
    started = expected > 0
    assert started.sum() > 50
    assert abs(expected[started].mean() - s.journey.research_days) < 0.5


def test_word_of_mouth_follows_w1_in_consumer_order(model):
    m = copy.deepcopy(model)
    s, pop, par = m.scenario, m.population, m.params
    t = s.trust
    n, nb_ = pop.r.shape
    rng = np.random.default_rng(3)
    heard = rng.random((n, nb_)) < 0.2
    pop.flags[:] = np.where(heard, pop.flags | HEARD, pop.flags & np.uint8(0xFF ^ HEARD))
    r, neg, flags = pop.r.copy(), pop.s.copy(), pop.flags.copy()
    key = streams.stream_key(11, "social", 5)
    social.talk(pop, par, key)
    a, w, wneg = t.prior, t.prior_weight, t.negative_weight
    talked = 0
    for i in range(n):  # W1, sequentially: a friend's trust may already include today's talk
        st = np.uint64(streams.consumer_state(key, i))
        if streams.uniform(st, 0) >= t.talk_rate:
            continue
        ties = pop.ties[pop.tie_start[i] : pop.tie_start[i + 1]]
        if ties.size == 0:
            continue
        j = ties[min(int(streams.uniform(st, 1) * ties.size), ties.size - 1)]
        b = min(int(streams.uniform(st, 2) * nb_), nb_ - 1)
        delta = (float(r[j, b]) + a * w) / (float(r[j, b]) + float(neg[j, b]) + w) - a
        if delta > 0:
            r[i, b] += np.float32(t.word_of_mouth * delta)
        else:
            neg[i, b] += np.float32(wneg * t.word_of_mouth * -delta)
        if flags[j, b] & HEARD and not flags[i, b] & HEARD:
            flags[i, b] |= HEARD
            neg[i, b] += np.float32(wneg * 0.5 * s.incidents.news_evidence)
        talked += 1
    assert talked > 0.5 * t.talk_rate * n
    assert np.allclose(pop.r, r, rtol=1e-5, atol=1e-7)
    assert np.allclose(pop.s, neg, rtol=1e-5, atol=1e-7)
    assert (pop.flags == flags).all()


def test_spam_share_follows_its_rule():
    """The spam part of s as a uint8 share (7.9): q' = round(255 (q/255 s + e_spam) / (s + e)),
    worked by hand on one cell; forgetting (T2) scales s and leaves the share, so the spam part
    q/255 s fades exactly as s does."""
    s = np.array([[3.0]], np.float32)
    q = np.array([[85]], np.uint8)  # 1/3 of s = 1.0 is spam
    trust.add_against(s, q, 0, 0, 2.0, 2.0)  # spam: (1 + 2) / 5 = 0.6 -> 153
    assert s[0, 0] == 5.0 and q[0, 0] == 153
    trust.add_against(s, q, 0, 0, 7.0, 0.0)  # other negative evidence: 3 / 12 = 0.25 -> 63.75 -> 64
    assert s[0, 0] == 12.0 and q[0, 0] == 64
    trust.add_against(s, q, 0, 0, 0.01, 0.0)  # too little to move the share by half a step
    assert q[0, 0] == 64
    for s0, q0, e, want in ((11.0, 1, 9.0, 1), (12.0, 4, 8.0, 2)):  # to the nearest step:
        s = np.array([[s0]], np.float32)  # 11 / 20 = 0.55 -> 1, 4 * 12 / 20 = 2.4 -> 2
        q = np.array([[q0]], np.uint8)
        trust.add_against(s, q, 0, 0, e, 0.0)
        assert q[0, 0] == want, (s0, q0, e, q[0, 0])
    z = np.array([[0.0]], np.float32)
    nothing = np.array([[0]], np.uint8)
    trust.add_against(z, nothing, 0, 0, 0.0, 0.0)
    assert nothing[0, 0] == 0  # no evidence: no share, no division


def test_newsletters_spam_evidence_and_unsubscribes_follow_o1_o3(model):
    """Skill 0 (every email is spam, O1) and half an email a day (at most one). Per subscriber,
    the negative evidence grows by w- e_spam per email, times (1 - informed_relief) if the brand
    told the consumer what it collects when it asked (TOLD, 7.3 C5, 7.4), not if the consumer only
    found out (AWARE by discovery), and by 10 w- e_spam more per complaint (O2, never relieved); a
    stale address (O4) drops off the list and gets nothing."""
    m = copy.deepcopy(model)
    s, pop, par, lev = m.scenario, m.population, m.params, m.brand_levers
    lev.personalization_skill[:] = 0.0
    lev.emails_per_day[:] = 0.5
    # subscribers tired of the brand's mail (O0): 226 remembered, 220 after a day's fading and
    # one more spam e-mail, so p_complaint = complaint_per_email (220 / 5)^2.1 ~ 0.28 (O2)
    pop.inbox[:] = 226.0
    subscribed = (pop.flags & SUBSCRIBED) != 0
    # AWARE and TOLD set independently, so that every combination is mailed: AWARE alone (found
    # out by a breach, a story or noticing) was relieved like TOLD until round 25
    rng = np.random.default_rng(5)
    pop.flags[rng.random(pop.flags.shape) < 0.5] |= AWARE
    pop.asked[:] = np.where(rng.random(pop.asked.shape) < 0.5, COVERT_MASK, 0)
    aware = (pop.flags & AWARE) != 0
    told = (pop.asked & COVERT_MASK) != 0
    s0 = pop.s.astype(np.float64).copy()
    counts = np.zeros_like(m._counts)
    # the spam part of s (7.9), a share of s in steps of 1/255: what the send adds to s is spam,
    # so the share becomes (q0/255 s0 + added) / s, within one step per addition (at most two)
    q0 = pop.spam_share.astype(np.float64).copy()
    outreach.send(pop, lev, par, streams.stream_key(13, "outreach", 2), counts)
    s1 = pop.s.astype(np.float64)
    mailed = s1 > s0
    assert mailed.sum() > 10
    want = 255.0 * (q0 / 255.0 * s0 + (s1 - s0)) / np.where(mailed, s1, 1.0)
    assert (np.abs(pop.spam_share[mailed] - want[mailed]) <= 1.0 + 1e-6).all()
    assert (pop.spam_share[~mailed] == model.population.spam_share[~mailed]).all()
    t = s.trust
    unit = t.negative_weight * t.spam_evidence
    for b in range(len(s.brands)):
        sent, complaints = counts[b, EV["emails_sent"]], counts[b, EV["spam_complaints"]]
        assert 0.4 * subscribed[:, b].sum() < sent < 0.6 * subscribed[:, b].sum()
        assert complaints >= 3
        assert (told[:, b] & subscribed[:, b]).sum() >= 10  # the relief is in play
        assert (aware[:, b] & ~told[:, b] & subscribed[:, b]).sum() >= 10  # and its absence
        # each subscriber: no email (0), one spam email (f) or one with a complaint (f + 10)
        f = np.where(told[:, b], 1.0 - t.informed_relief, 1.0)
        units = (pop.s[:, b].astype(np.float64) - s0[:, b]) / unit
        nothing = np.isclose(units, 0.0, atol=1e-4)
        spam = np.isclose(units, f, atol=1e-4)
        complained = np.isclose(units, f + 10.0, atol=1e-4)
        assert (nothing | spam | complained).all(), b
        assert nothing[~subscribed[:, b]].all(), b  # no mail to a non-subscriber
        assert (spam | complained).sum() == sent and complained.sum() == complaints, b
        assert (f > 1.0 - 1e-9)[spam | complained].any(), b  # unaware ones mailed too
        gained = (pop.s[:, b].astype(np.float64) - s0[:, b]).sum()
        expected = unit * (f[spam | complained].sum() + 10 * complaints)
        assert math.isclose(gained, expected, rel_tol=1e-4), b
        # off the list: by a complaint or an unsubscribe (O2, O3) or a stale address (O4, no mail)
        left = subscribed[:, b] & ((pop.flags[:, b] & SUBSCRIBED) == 0)
        assert left.sum() == counts[b, EV["unsubscribes"]] + counts[b, EV["stale_addresses"]]
        assert (left & nothing).sum() == counts[b, EV["stale_addresses"]], b
        assert math.isclose(counts[b, EV["marketing_cost"]], sent * s.outreach.email_cost)
