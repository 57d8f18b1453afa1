"""Outreach: newsletters that land as relevant messages or as spam (ODD 7.4).

Each subscriber remembers the irrelevant e-mails of each brand it subscribes to: a count M_ib that
fades every day before the day's mail,

    M_ib <- M_ib * (1 - 1 / inbox_memory_days)                                          (O0)

and grows by one with each irrelevant e-mail read; a new subscriber remembers none (journey.py).
At a steady frequency it settles at the brand's irrelevant e-mails of the last inbox_memory_days
days; O2-O3 read it as a rate a month, R_ib = M_ib * 30.4 / inbox_memory_days (R = M at the
default memory of 30.4 days), so the memory sets how fast fatigue builds and fades, not its level
at a steady frequency. Fatigue is each subscriber's own experience: mail that is relevant to them,
or rare, does not build it.

Each subscriber of brand b receives on average emails_per_week_b / 7 emails a day (the integer part
every day, the fraction as a Bernoulli draw). An email is relevant with probability

    P(relevant) = targeting_b * skill_b * V(H_ib)                                        (O1)

(targeting needs data: V(H) is the value of the data the brand holds on the consumer).
* relevant: positive evidence e_pers * P(relevant); clicked with probability c_rel
  (``click_rate``);
* irrelevant (spam): M_ib grows by one; negative evidence e_spam, times (1 - informed_relief)
  for a subscriber who knowingly shared their data (TOLD: the brand explained what it collects
  when it asked, consent.py C5; learning it by discovery gives no relief); a spam complaint with
  probability
      p_complaint * (R_ib / 5) ** k                                                      (O2)
  (a complaint also unsubscribes and adds 10x more spam evidence, 11x in all); clicked with
  probability c_rel * ``irrelevant_click_ratio``;
* a click: an idle consumer starts a one-day journey, and the email channel is added to the
  channels of the consumer's current or new journey, so a store purchase after it counts as
  webrooming (nothing is observed or asked on it, and the research channel is unchanged);
* any email: unsubscribe with probability
      p_unsub * (relevant ? ratio_rel : 1) * (R_ib / 5) ** k_u                           (O3)
  so a subscriber tired of irrelevant mail leaves, and segmented (relevant) mail, which does not
  add to M, loses fewer subscribers.
* before any mail, a subscriber's address goes stale with probability
      1 - (1 - D) ** (1 / 365)    (D = ``list_decay_per_year``)                          (O4)
  and the consumer drops off the list (``stale_addresses``; a later purchase may subscribe again).
"""

from __future__ import annotations

import numpy as np

from ..core.blocks import BLOCK, block_end, n_blocks, over_blocks, reduce_blocks
from ..core.catalogue import EMAIL, TOLD_MASK
from ..core.constants import EMAIL_SLOTS_PER_BRAND_DAY, SLOTS_PER_EMAIL
from ..core.jit import njit
from ..core.streams import consumer_state, uniform
from ..state.day import Day
from ..state.parameters import VALUE_OF_MASK
from ..state.population import SUBSCRIBED
from .consent import held_mask
from .metrics import Event
from .trust import add_positive, add_spam

_NOT_SUBSCRIBED = np.uint8(0xFF ^ SUBSCRIBED)
# after the e-mail slots of up to 64 brands
_DECAY_SLOT = 64 * (EMAIL_SLOTS_PER_BRAND_DAY * SLOTS_PER_EMAIL + 1)


def send(pop, brands, par, key, counts):
    """Deliver today's newsletters to every subscriber (eqs. O0-O4)."""
    n = pop.flags.shape[0]
    part = np.zeros((n_blocks(n),) + counts.shape)
    over_blocks(_send_blocks, n, pop, brands, par, key, part)
    reduce_blocks(counts, part)


@njit(cache=True, nogil=True)
def _send_blocks(k0, k1, pop, brands, par, key, part):
    """`send` for the consumers of blocks k0..k1-1, block k counting into ``part[k]``."""
    n = pop.flags.shape[0]
    for k in range(k0, k1):
        _send_block(pop, brands, par, key, part[k], k * BLOCK, block_end(k, n))


@njit(cache=True, nogil=True)
def _send_block(pop, brands, par, key, counts, lo, hi):
    """`send` for consumers lo..hi-1, counting into ``counts``."""
    nb_ = pop.flags.shape[1]
    for i in range(lo, hi):
        st = np.uint64(0)
        drawn = False
        for b in range(nb_):
            if not (pop.flags[i, b] & SUBSCRIBED):
                continue
            if not drawn:
                st = consumer_state(key, i)
                drawn = True
            if uniform(st, _DECAY_SLOT + b) < par.derived.list_decay:  # O4: the address went stale
                pop.flags[i, b] &= _NOT_SUBSCRIBED
                counts[b, Event.stale_addresses] += 1
                continue
            memory = pop.inbox[i, b] * par.derived.inbox_keep  # O0: yesterday's mail fades
            pop.inbox[i, b] = memory
            base = b * (EMAIL_SLOTS_PER_BRAND_DAY * SLOTS_PER_EMAIL + 1)
            rate = brands.emails_per_day[b]
            k = int(rate)
            if uniform(st, base) < rate - k:
                k += 1
            k = min(k, par.outreach.max_emails_per_day)
            if k == 0:
                continue
            p_rel = (
                brands.email_targeting[b]
                * brands.personalization_skill[b]
                * VALUE_OF_MASK[held_mask(pop, brands, i, b)]
            )
            click_irrelevant = par.outreach.click_rate * par.outreach.irrelevant_click_ratio
            per_month = par.derived.inbox_per_month  # O2-O3 read the memory as a monthly rate
            spam = par.trust.spam_evidence
            if pop.asked[i, b] & TOLD_MASK:  # knowingly shared: told when asked (consent.py C5)
                spam *= 1.0 - par.trust.informed_relief
            counts[b, Event.emails_sent] += k
            counts[b, Event.marketing_cost] += k * par.outreach.email_cost
            for e in range(k):
                slot = base + 1 + e * SLOTS_PER_EMAIL
                relevant = uniform(st, slot) < p_rel
                if relevant:
                    add_positive(pop, i, b, par.trust.personalization_evidence * p_rel)
                else:
                    memory += 1.0
                    pop.inbox[i, b] = memory
                    add_spam(pop, par, i, b, spam)
                    tired = (memory * per_month / 5.0) ** par.outreach.fatigue_exponent
                    if uniform(st, slot + 2) < par.outreach.complaint_per_email * tired:
                        counts[b, Event.spam_complaints] += 1
                        counts[b, Event.unsubscribes] += 1
                        add_spam(
                            pop,
                            par,
                            i,
                            b,
                            par.outreach.complaint_penalty * par.trust.spam_evidence,
                        )
                        pop.flags[i, b] &= _NOT_SUBSCRIBED
                        break
                if uniform(st, slot + 1) < (
                    par.outreach.click_rate if relevant else click_irrelevant
                ):
                    counts[b, Event.email_clicks] += 1
                    if pop.journey_left[i] == 0 and pop.journey_channels[i] == 0:
                        pop.journey_left[i] = 1  # idle: the click starts a journey
                    pop.journey_channels[i] |= np.uint8(1 << EMAIL)
                p_unsub = (
                    par.outreach.unsubscribe_per_email
                    * (memory * per_month / 5.0) ** par.outreach.unsubscribe_fatigue_exponent
                )
                if uniform(st, slot + 3) < p_unsub * (
                    par.outreach.relevant_unsubscribe_ratio if relevant else 1.0
                ):
                    counts[b, Event.unsubscribes] += 1
                    pop.flags[i, b] &= _NOT_SUBSCRIBED
                    break


def send_phase(day: Day) -> None:
    """Today's newsletters land as relevant or as spam (O0-O4)."""
    send(day.population, day.levers, day.params, day.key("outreach"), day.counts)
