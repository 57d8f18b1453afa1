"""Shopping journeys: needs arise, consumers research across channels, then buy (or not).

A journey is a run of research days followed by a purchase decision (ODD 7.1, 7.2, 7.5):

* Need (J1): an idle consumer starts a journey with probability need_rate_i per day; its length in
  research days is geometric with mean ``research_days``.
* Research (J2): each research day the consumer touches one channel, drawn with weights
      w_c = research_c * 2 a_i                           if c is digital
      w_c = research_c * (2 (1 - a_i) (1 - nu) + nu)     for the store
  (a_i: digital affinity; nu = ``store_touch``, the "need for touch": the share of the store's
  research weight that does not follow affinity, so that seeing a product in a store is partly
  independent of where one prefers to buy; at nu = 1 the store's weight is research_store for
  everyone, what the rule without it gives a consumer of affinity 1/2; nu = 0 is the rule
  without it; the default is fitted, docs/PARAMETERS.md). Need for touch is a trait that varies between consumers (Peck & Childers 2003):
  only a share ``touch_share`` of consumers has it, and for the others nu = 0. Consumer i has it
  when U_i < touch_share, U_i a uniform fixed over the consumer's life (`person_uniform`: a pure
  function of the run's ``touch`` key, the index i and the bits of the consumer's affinity and
  need rate, traits a newcomer redraws (ODD 7.11), so a newcomer draws the trait afresh; no
  array, no draw of another stream; at share 1 every consumer has it; the default share is
  fitted, docs/PARAMETERS.md). And one
  brand, drawn with weights presence_b * (research_brand_floor + t_ib), churned brands excluded. The touch goes through consent.touch (ask, collect, personalise).
* Purchase (J3): on the last research day the consumer chooses among brands and an outside option
  (buy nothing now) by multinomial logit:
      U_b = ln presence_b + beta_T (t_ib - a) + beta_R rho_ib,    U_0 = ln((1-p)/p sum presence)
  The purchase channel is drawn *separately* from the research channel (J4): with probability
      1 - min(1, kappa0 + kappa1 integration_b)
  the consumer stays in the last research channel (if one can buy there); otherwise the channel is
  drawn with weights purchase_c * (2 (1-a_i) for the store, 2 a_i t_ib^gamma for digital channels),
  social selling scaled by integration_b (shoppable content needs integration). A consumer wary
  of a channel of b after a breach there (ODD 7.10, I8) weighs it by its comfort: in the brand
  draw of a research touch in that channel, in staying there (kept with probability comfort) and
  in the purchase channel draw.
  Webrooming (online research, store purchase) and showrooming (store research, online purchase)
  are *recorded*, never imposed.
"""

from __future__ import annotations

import numpy as np

from ..core.blocks import (
    BLOCK,
    block_end,
    n_blocks,
    over_blocks,
    prefetch,
    prefetch1,
    reduce_blocks,
)
from ..core.catalogue import (
    CHANNEL_MARGIN,
    DIGITAL,
    DIGITAL_BITS,
    PURCHASE_WEIGHT,
    RESEARCH_WEIGHT,
    SOCIAL,
    STORE,
)
from ..core.jit import njit
from ..core.streams import consumer_state, person_uniform, stream_key, uniform
from ..state.day import Day
from ..state.population import (
    CHURNED,
    CUSTOMER,
    H_BOUGHT,
    H_SHOWROOMED,
    H_USED_DIGITAL,
    H_USED_STORE,
    H_WEBROOMED,
    SUBSCRIBED,
)
from .consent import relevance, touch
from .incidents import channel_comfort
from .metrics import Event
from .trust import add_positive, spam_part, trust_of

CONTACT_BIT = 1
_N_CHANNELS = RESEARCH_WEIGHT.size
_MAX_BRANDS = 64


def arise_needs(pop, par, key):
    """J1: idle consumers start a journey with probability need_rate; length ~ geometric."""
    over_blocks(_needs_blocks, pop.need_rate.size, pop, par, key)


@njit(cache=True, nogil=True)
def _needs_blocks(k0, k1, pop, par, key):
    """`arise_needs` for the consumers of blocks k0..k1-1 (`sim.core.blocks`)."""
    n = pop.need_rate.size
    for k in range(k0, k1):
        _needs_block(pop, par, key, k * BLOCK, block_end(k, n))


@njit(cache=True, nogil=True)
def _needs_block(pop, par, key, lo, hi):
    """`arise_needs` for consumers lo..hi-1.

    Who starts a journey is drawn first for the whole block, in a loop of hashes and
    comparisons without branches that the compiler vectorises (the draw of a consumer who is
    already on a journey is made and not used: a draw is a function of (key, consumer, slot),
    so making it changes no other); then the few who start draw their journey's length."""
    p_stop = 1.0 / par.journey.research_days
    log_q = np.log(1.0 - p_stop) if p_stop < 1.0 else 0.0
    journey_left, need_rate = pop.journey_left, pop.need_rate
    starts = np.empty(hi - lo, np.bool_)
    for i in range(lo, hi):
        starts[i - lo] = (journey_left[i] == 0) & (
            uniform(consumer_state(key, i), 0) < need_rate[i]
        )
    for i in range(lo, hi):
        if starts[i - lo]:
            st = consumer_state(key, i)
            length = 1
            if log_q < 0.0:
                length = 1 + int(np.log(1.0 - uniform(st, 1)) / log_q)
            pop.journey_left[i] = min(length, par.journey.max_days)
            pop.journey_channels[i] = 0


def touch_key(seed: int) -> np.uint64:
    """The fixed key of the need-for-touch trait of a run seeded ``seed`` (the ``touch`` stream,
    a set-up key: the same every day; U_i = `sim.core.streams.person_uniform`)."""
    return stream_key(seed, "touch")


def research(pop, brands, par, key, consent_key, personal_key, day, counts, tkey):
    """J2: every consumer in a journey touches one channel and one brand today. ``tkey`` is the
    run's `touch_key` (who has need for touch)."""
    n = pop.journey_left.size
    part = np.zeros((n_blocks(n),) + counts.shape)
    over_blocks(
        _research_blocks, n, pop, brands, par, key, consent_key, personal_key, day, part,
        np.uint64(tkey),
    )  # fmt: skip
    reduce_blocks(counts, part)


@njit(cache=True, nogil=True)
def _research_blocks(k0, k1, pop, brands, par, key, consent_key, personal_key, day, part, tkey):
    """`research` for the consumers of blocks k0..k1-1, block k counting into ``part[k]``."""
    n = pop.journey_left.size
    for k in range(k0, k1):
        _research_block(
            pop, brands, par, key, consent_key, personal_key, day, part[k], k * BLOCK,
            block_end(k, n), tkey,
        )  # fmt: skip


@njit(cache=True, nogil=True)
def _research_block(pop, brands, par, key, consent_key, personal_key, day, counts, lo, hi, tkey):
    """`research` for consumers lo..hi-1, counting into ``counts``."""
    nb_ = brands.presence.size
    weights = np.empty(_N_CHANNELS)
    bw = np.empty(nb_)
    nu_touch = par.journey.store_touch  # need for touch (J2): store weight, partly affinity-free
    share = par.journey.touch_share  # the share of consumers who have it (the others: nu = 0)
    # only when some consumers lack it is the trait drawn; at share 1 every
    # consumer has nu = store_touch, the rule before the share existed, to the last bit
    mixed = nu_touch > 0.0 and share < 1.0
    a_bits, n_bits = pop.affinity.view(np.uint32), pop.need_rate.view(np.uint32)
    # no prefetch of the rows of shoppers ahead: this pass took ~12% less time without it at
    # 20,000 and at 200,000 consumers x 3 brands (docs/PERFORMANCE.md, fifth round)
    for i in range(lo, hi):
        if pop.journey_left[i] <= 0:
            continue
        st = consumer_state(key, i)
        a = pop.affinity[i]
        nu = nu_touch
        if mixed and not person_uniform(tkey, i, a_bits[i], n_bits[i]) < share:
            nu = 0.0  # a consumer without need for touch: the rule without it
        keep = 1.0 - nu
        total = 0.0
        for c in range(_N_CHANNELS):
            # the store: 2 (1 - a) keep + nu, with keep = 1 - nu; at nu = 0 this is 2 (1 - a)
            # to the last bit (x * 1.0 + 0.0 == x), so store_touch = 0 is today's rule exactly
            w = RESEARCH_WEIGHT[c] * (2.0 * a if DIGITAL[c] else 2.0 * (1.0 - a) * keep + nu)
            weights[c] = w
            total += w
        c = _draw(weights, total, uniform(st, 0))
        total_b = 0.0
        for b in range(nb_):
            if pop.flags[i, b] & CHURNED:
                bw[b] = 0.0
            else:
                bw[b] = (
                    brands.presence[b]
                    * (
                        par.journey.research_brand_floor
                        + trust_of(
                            pop.r[i, b], pop.s[i, b], par.trust.prior, par.trust.prior_weight
                        )
                    )
                    * channel_comfort(pop, par, i, b, c, day)
                )
            total_b += bw[b]
        pop.journey_left[i] -= 1
        pop.journey_channels[i] |= np.uint8(1 << c)
        pop.last_research[i] = c
        pop.history[i] |= H_USED_DIGITAL if DIGITAL[c] else H_USED_STORE
        if total_b <= 0.0:
            continue
        b = _draw(bw, total_b, uniform(st, 1))
        touch(
            pop, brands, par, i, b, c, day, consumer_state(consent_key, i),
            consumer_state(personal_key, i), 0, counts,
        )  # fmt: skip


def purchase(pop, brands, par, key, consent_key, personal_key, day, counts, purchases, revenue):
    """J3-J4: consumers at the end of research choose a brand (or none) and a purchase channel."""
    n = pop.journey_left.size
    nk = n_blocks(n)
    part = np.zeros((nk,) + counts.shape)
    part_p = np.zeros((nk,) + purchases.shape)
    part_r = np.zeros((nk,) + revenue.shape)
    over_blocks(
        _purchase_blocks, n, pop, brands, par, key, consent_key, personal_key, day, part,
        part_p, part_r,
    )  # fmt: skip
    reduce_blocks(counts, part)
    reduce_blocks(purchases, part_p)
    reduce_blocks(revenue, part_r)


@njit(cache=True, nogil=True)
def _purchase_blocks(
    k0, k1, pop, brands, par, key, consent_key, personal_key, day, part, part_p, part_r
):
    """`purchase` for the consumers of blocks k0..k1-1, block k counting into row k of the
    partial tables."""
    n = pop.journey_left.size
    for k in range(k0, k1):
        _purchase_block(
            pop, brands, par, key, consent_key, personal_key, day, part[k], part_p[k], part_r[k],
            k * BLOCK, block_end(k, n),
        )  # fmt: skip


@njit(cache=True, nogil=True)
def _purchase_block(
    pop, brands, par, key, consent_key, personal_key, day, counts, purchases, revenue, lo, hi
):
    """`purchase` for consumers lo..hi-1, counting into ``counts``, ``purchases``, ``revenue``."""
    nb_ = brands.presence.size
    util = np.empty(nb_)
    rho = np.empty(nb_)
    tb = np.empty(nb_)
    weights = np.empty(_N_CHANNELS)
    ahead = pop.r.size >= _PREFETCH_PAIRS
    for i in range(lo, hi):
        k = (
            i + _AHEAD
        )  # a buyer _AHEAD rows on: bring its rows into the cache (no effect on results)
        if ahead and k < hi and pop.journey_left[k] == 0 and pop.journey_channels[k] != 0:
            _prefetch_rows(pop, k)
        if pop.journey_left[i] != 0 or pop.journey_channels[i] == 0:
            continue
        journey = pop.journey_channels[i]
        last = pop.last_research[i]
        pop.journey_channels[i] = 0
        pop.last_research[i] = -1
        st = consumer_state(key, i)
        # brand choice: multinomial logit with an outside option
        top = par.derived.outside_utility
        for b in range(nb_):
            if pop.flags[i, b] & CHURNED:
                util[b] = -np.inf
                rho[b] = 0.0
                continue
            t = trust_of(pop.r[i, b], pop.s[i, b], par.trust.prior, par.trust.prior_weight)
            tb[b] = t
            rho[b] = relevance(pop, brands, i, b)
            util[b] = (
                brands.log_presence[b]
                + par.journey.trust_weight * (t - par.trust.prior)
                + par.journey.relevance_weight * rho[b]
            )
            top = max(top, util[b])
        total = np.exp(par.derived.outside_utility - top)
        for b in range(nb_):
            util[b] = np.exp(util[b] - top) if util[b] > -np.inf else 0.0
            total += util[b]
        choice_total = total
        _attribute(pop, brands, par, i, util, rho, tb, total, counts)
        u = uniform(st, 0) * total
        chosen = -1
        acc = 0.0
        for b in range(nb_):
            acc += util[b]
            if u < acc and util[b] > 0.0:
                chosen = b
                break
        if chosen < 0:
            continue
        b = chosen
        # purchase channel: stay in the research channel or draw afresh (J4)
        switching = min(
            1.0,
            par.journey.channel_switching
            + par.journey.integration_switching * brands.omnichannel_integration[b],
        )
        if (
            last >= 0
            and PURCHASE_WEIGHT[last] > 0.0
            and uniform(st, 1) >= switching
            and uniform(st, 4) < channel_comfort(pop, par, i, b, last, day)
        ):
            c = last
        else:
            a = pop.affinity[i]
            t = trust_of(pop.r[i, b], pop.s[i, b], par.trust.prior, par.trust.prior_weight)
            g = par.journey.digital_trust_exponent
            tw = t if g == 1.0 else t**g  # t**1 is t: no call of pow at the default exponent
            total = 0.0
            for k in range(_N_CHANNELS):
                w = PURCHASE_WEIGHT[k]
                if DIGITAL[k]:
                    w *= 2.0 * a * tw
                    if k == SOCIAL:
                        w *= brands.omnichannel_integration[b]
                else:
                    w *= 2.0 * (1.0 - a)
                weights[k] = w * channel_comfort(pop, par, i, b, k, day)
                total += weights[k]
            c = _draw(weights, total, uniform(st, 2)) if total > 0.0 else STORE
        value = par.journey.basket_value * (1.0 + par.journey.relevance_uplift * rho[b])
        purchases[b, c] += 1.0
        revenue[b, c] += value
        margin = value * brands.gross_margin[b] * CHANNEL_MARGIN[c]
        counts[b, Event.margin] += margin
        # the part of this margin personalization made (7.9): 1 - P0 V0 / (P V), P0 and V0
        # the choice probability and basket without b's relevance
        if rho[b] > 0.0:
            e0 = util[b] * np.exp(-par.journey.relevance_weight * rho[b])
            p0_over_p = e0 / (choice_total - util[b] + e0) * choice_total / util[b]
            uplift = 1.0 + par.journey.relevance_uplift * rho[b]
            counts[b, Event.personalization_margin] += margin * (1.0 - p0_over_p / uplift)
        add_positive(pop, i, b, par.trust.purchase_evidence)
        pop.flags[i, b] |= CUSTOMER
        pop.last_purchase[i, b] = day
        touch(
            pop, brands, par, i, b, c, day, consumer_state(consent_key, i),
            consumer_state(personal_key, i), 1, counts,
        )  # fmt: skip
        if (
            (not (pop.flags[i, b] & SUBSCRIBED))
            and (pop.consent[i, b] & CONTACT_BIT)
            and uniform(st, 3) < par.outreach.subscribe_probability
        ):
            pop.flags[i, b] |= SUBSCRIBED
            pop.inbox[i, b] = 0.0  # a new subscriber remembers no mail of the brand (O0)
        h = H_BOUGHT | (H_USED_DIGITAL if DIGITAL[c] else H_USED_STORE)
        if c == STORE and (journey & DIGITAL_BITS):
            h |= H_WEBROOMED
        if DIGITAL[c] and (journey & (1 << STORE)):
            h |= H_SHOWROOMED
        pop.history[i] |= h


_AHEAD = 64  # rows between the buyer whose rows are prefetched and the one served
# `purchase` prefetches only from this many consumer-brand pairs on: at 20,000 consumers x 3
# brands the pass took ~10% less time without it, at 200,000 x 3 3-13% more (docs/PERFORMANCE.md)
_PREFETCH_PAIRS = 1 << 18


@njit(inline="always", cache=True)
def _prefetch_rows(pop, k):
    """Prefetch the rows of consumer k that a purchase touch reads."""
    prefetch(pop.r, k, 0)
    prefetch(pop.s, k, 0)
    prefetch(pop.flags, k, 0)
    prefetch(pop.asked, k, 0)
    prefetch(pop.consent, k, 0)
    prefetch(pop.last_seen, k, 0)
    prefetch(pop.last_purchase, k, 0)
    prefetch1(pop.affinity, k)
    prefetch1(pop.concern, k)
    prefetch1(pop.wary, k)


@njit(inline="always", cache=True)
def _attribute(pop, brands, par, i, util, rho, tb, total, counts):
    """Losses to spam at a purchase decision (7.9): for every brand b the consumer could choose,
    the expected margin b loses because of the spam part of s_ib (`trust.spam_part`):
    (P'_b - P_b) V_b gross_margin_b, P'_b the choice probability with trust read without it (b's
    utility alone changes), V_b the basket, at full channel margin."""
    for b in range(util.size):
        if util[b] <= 0.0:
            continue
        spam = spam_part(pop, i, b)
        if spam <= 0.0:
            continue
        clean = trust_of(
            pop.r[i, b], max(pop.s[i, b] - spam, 0.0), par.trust.prior, par.trust.prior_weight
        )
        e1 = util[b] * np.exp(par.journey.trust_weight * (clean - tb[b]))
        lost = e1 / (total - util[b] + e1) - util[b] / total
        value = par.journey.basket_value * (1.0 + par.journey.relevance_uplift * rho[b])
        counts[b, Event.spam_losses] += lost * value * brands.gross_margin[b]


@njit(inline="always", cache=True)
def _draw(weights, total, u):
    """Index drawn with probability weights[k] / total, using uniform u."""
    target = u * total
    acc = 0.0
    last = 0
    for k in range(weights.size):
        if weights[k] > 0.0:
            acc += weights[k]
            last = k
            if target < acc:
                return k
    return last


# -- phases (`sim.state.day.Day` -> the kernels above) -------------------------------------------
def needs_phase(day: Day) -> None:
    """Needs arise and journeys start (J1)."""
    arise_needs(day.population, day.params, day.key("need"))


def research_phase(day: Day) -> None:
    """Consumers on a journey touch a channel and a brand, which observes and asks (J2, C1-C4)."""
    research(
        day.population,
        day.levers,
        day.params,
        day.key("research"),
        day.key("consent"),
        day.key("personalization"),
        day.t,
        day.counts,
        touch_key(day.seed),
    )


def purchase_phase(day: Day) -> None:
    """Journeys that end choose a brand, then a channel, and buy (J3-J4, C1-C4)."""
    purchase(
        day.population,
        day.levers,
        day.params,
        day.key("purchase"),
        day.key("consent"),
        day.key("personalization"),
        day.t,
        day.counts,
        day.purchases,
        day.revenue,
    )
