"""Leaving: churn, consent revocation, unsubscribes and data retention (ODD 7.8).

For each consumer i, privacy concern first drifts by ``privacy_concern_trend`` / 365 per day
(clipped to [0, 1]); then for each brand b, with t the trust after today's update, in this order:

* retention (L4, applied first): a record untouched for more than ``data_retention_days`` is
  deleted (the brand no longer holds data on the consumer; consent is kept);
* churn (L1): a customer with t < theta_churn leaves the brand with probability ``churn_rate`` per
  day (CHURNED: the brand leaves the consideration set). A churning consumer whose record was
  exposed in a breach deletes the account (and its consents) with probability
  ``account_deletion``;
* revocation (L3): a consumer with t < theta_churn who still grants consent or is subscribed
  revokes all consent and unsubscribes with probability ``revoke_rate`` per day (counted as
  ``consent_revocations``, not as ``unsubscribes``, which count email-driven unsubscribes);
* return (L2): a churned consumer whose trust is back above ``return_threshold`` (at least
  theta_churn: the schema checks it) considers the brand again;
* consent lapse (L5): a consumer whom the brand has asked for consent sees the whole consent round
  lapse with probability 1 / ``consent_refresh_days`` per day (a brand policy): nothing is asked
  any more, so the brand asks again at the next touch on a direct channel and the new answer
  replaces the old (consent.py, C1). The data granted stay usable until then. With it a refusal
  or a revocation is not forever (``consent_lapses``). What the consumer knew of the brand's
  collection (AWARE, consent.py C5) lapses with the round: the next ask explains it again.
"""

from __future__ import annotations

import numpy as np

from ..core.blocks import BLOCK, block_end, n_blocks, over_blocks, reduce_blocks
from ..core.jit import njit
from ..core.streams import consumer_state, uniform
from ..state.day import Day
from ..state.population import ACCOUNT, AWARE, CHURNED, CUSTOMER, SUBSCRIBED
from .metrics import Event
from .trust import trust_of

_KEEP_NOT_CHURNED = np.uint8(0xFF ^ CHURNED)
_KEEP_NOT_SUBSCRIBED = np.uint8(0xFF ^ SUBSCRIBED)
_KEEP_NO_ACCOUNT = np.uint8(0xFF ^ ACCOUNT)
_KEEP_NOT_AWARE = np.uint8(0xFF ^ AWARE)
_LAPSE_SLOT = 3 * 64  # after the churn slots 3 b .. 3 b + 2 of up to 64 brands


def leave(pop, brands, par, key, day, counts):
    """Churn, return, revocation, retention and consent lapse for every consumer-brand pair
    (L1-L5)."""
    n = pop.r.shape[0]
    part = np.zeros((n_blocks(n),) + counts.shape)
    over_blocks(_leave_blocks, n, pop, brands, par, key, day, part)
    reduce_blocks(counts, part)


@njit(cache=True, nogil=True)
def _leave_blocks(k0, k1, pop, brands, par, key, day, part):
    """`leave` for the consumers of blocks k0..k1-1, block k counting into ``part[k]``."""
    n = pop.r.shape[0]
    for k in range(k0, k1):
        _leave_block(pop, brands, par, key, day, part[k], k * BLOCK, block_end(k, n))


@njit(cache=True, nogil=True)
def _leave_block(pop, brands, par, key, day, counts, lo, hi):
    """`leave` for consumers lo..hi-1, counting into ``counts``.

    The block's rows are read through views indexed from 0 (row j is consumer lo + j): with an
    index known not to be negative the compiler skips the wrap-around of negative indices on
    every read. The stream state of a consumer is the same function of (key, consumer) whether
    it is worked out once for every consumer or only for those who draw.

    The lapse draws (L5) of the whole block are made first, brand by brand, in a loop of hashes
    and comparisons without branches that the compiler vectorises; the pass over the pairs then
    reads them where b asked (a draw is a function of (key, consumer, slot): one made and not
    used changes no other). The retention and lapse tests combine their conditions with ``&``,
    so each is one rarely taken branch instead of a first one that is taken at random (issue 14:
    ~15% less time at 20,000 consumers x 3 brands, same numbers)."""
    nb_ = pop.r.shape[1]
    drift = np.float32(par.derived.concern_drift)
    concern = pop.concern[lo:hi]
    r, s, flags, consent = pop.r[lo:hi], pop.s[lo:hi], pop.flags[lo:hi], pop.consent[lo:hi]
    asked, last_seen, exposed_day = pop.asked[lo:hi], pop.last_seen[lo:hi], pop.exposed_day[lo:hi]
    retention, lapse = brands.data_retention_days, brands.consent_lapse
    prior, weight = par.trust.prior, par.trust.prior_weight
    threshold, back = par.trust.churn_threshold, par.trust.return_threshold
    churn_rate, revoke_rate = par.trust.churn_rate, par.consent.revoke_rate
    deletion = par.incidents.account_deletion
    m = hi - lo
    states = np.empty(m, np.uint64)
    for j in range(m):
        states[j] = consumer_state(key, lo + j)
    lapsed = np.empty((nb_, m), np.bool_)  # L5's draw for every pair, used where b asked
    for b in range(nb_):
        p, slot = lapse[b], _LAPSE_SLOT + b
        row = lapsed[b]
        for j in range(m):
            row[j] = uniform(states[j], slot) < p
    for j in range(m):
        if drift != 0.0:
            concern[j] = min(np.float32(1.0), max(np.float32(0.0), concern[j] + drift))
        st = states[j]
        for b in range(nb_):
            f = flags[j, b]
            if ((f & ACCOUNT) != 0) & (day - last_seen[j, b] > retention[b]):
                f &= _KEEP_NO_ACCOUNT
                counts[b, Event.accounts_deleted] += 1
            t = trust_of(r[j, b], s[j, b], prior, weight)
            if t < threshold:
                if (f & CUSTOMER) and not (f & CHURNED) and uniform(st, 3 * b) < churn_rate:
                    f |= CHURNED
                    counts[b, Event.churn_events] += 1
                    if (
                        exposed_day[j, b] >= 0
                        and (f & ACCOUNT)
                        and uniform(st, 3 * b + 1) < deletion
                    ):
                        f &= _KEEP_NO_ACCOUNT
                        consent[j, b] = 0
                        counts[b, Event.accounts_deleted] += 1
                if (consent[j, b] != 0 or (f & SUBSCRIBED)) and uniform(
                    st, 3 * b + 2
                ) < revoke_rate:
                    consent[j, b] = 0
                    counts[b, Event.consent_revocations] += 1
                    f &= _KEEP_NOT_SUBSCRIBED
            elif (f & CHURNED) and t > back:
                f &= _KEEP_NOT_CHURNED
            # L5: the lapse draw (made above for every pair) is used only where b asked; its
            # slot is fixed, so the same draw whatever the other pairs do
            if (asked[j, b] != 0) & lapsed[b, j]:
                asked[j, b] = 0
                f &= _KEEP_NOT_AWARE  # what it was told belongs to the round
                counts[b, Event.consent_lapses] += 1
            flags[j, b] = f


def leave_phase(day: Day) -> None:
    """Distrust makes customers leave and consents go; records expire; consent rounds lapse
    (L1-L5)."""
    leave(day.population, day.levers, day.params, day.key("churn"), day.t, day.counts)
