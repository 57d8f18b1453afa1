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

import numba as nb
import numpy as np

from ..core.blocks import BLOCK, block_end, n_blocks, over_blocks, reduce_blocks
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


@nb.njit(cache=True, nogil=True)
def _leave_blocks(k0, k1, pop, brands, par, key, day, part):
    """`leave` for the consumers of blocks k0..k1-1, block k counting into ``part[k]``."""
    n = pop.r.shape[0]
    for k in range(k0, k1):
        _leave_block(pop, brands, par, key, day, part[k], k * BLOCK, block_end(k, n))


@nb.njit(cache=True, nogil=True)
def _leave_block(pop, brands, par, key, day, counts, lo, hi):
    """`leave` for consumers lo..hi-1, counting into ``counts``."""
    nb_ = pop.r.shape[1]
    drift = np.float32(par.derived.concern_drift)
    for i in range(lo, hi):
        if drift != 0.0:
            pop.concern[i] = min(np.float32(1.0), max(np.float32(0.0), pop.concern[i] + drift))
        st = np.uint64(0)
        drawn = False
        for b in range(nb_):
            f = pop.flags[i, b]
            if (f & ACCOUNT) and day - pop.last_seen[i, b] > brands.data_retention_days[b]:
                f &= _KEEP_NO_ACCOUNT
                counts[b, Event.accounts_deleted] += 1
            t = trust_of(pop.r[i, b], pop.s[i, b], par.trust.prior, par.trust.prior_weight)
            if t < par.trust.churn_threshold:
                if not drawn:
                    st = consumer_state(key, i)
                    drawn = True
                if (
                    (f & CUSTOMER)
                    and not (f & CHURNED)
                    and uniform(st, 3 * b) < par.trust.churn_rate
                ):
                    f |= CHURNED
                    counts[b, Event.churn_events] += 1
                    if (
                        pop.exposed_day[i, b] >= 0
                        and (f & ACCOUNT)
                        and uniform(st, 3 * b + 1) < par.incidents.account_deletion
                    ):
                        f &= _KEEP_NO_ACCOUNT
                        pop.consent[i, b] = 0
                        counts[b, Event.accounts_deleted] += 1
                if (pop.consent[i, b] != 0 or (f & SUBSCRIBED)) and uniform(
                    st, 3 * b + 2
                ) < par.consent.revoke_rate:
                    pop.consent[i, b] = 0
                    counts[b, Event.consent_revocations] += 1
                    f &= _KEEP_NOT_SUBSCRIBED
            elif (f & CHURNED) and t > par.trust.return_threshold:
                f &= _KEEP_NOT_CHURNED
            pop.flags[i, b] = f
            if pop.asked[i, b] != 0:
                if not drawn:
                    st = consumer_state(key, i)
                    drawn = True
                if uniform(st, _LAPSE_SLOT + b) < brands.consent_lapse[b]:
                    pop.asked[i, b] = 0
                    pop.flags[i, b] &= _KEEP_NOT_AWARE  # what it was told belongs to the round
                    counts[b, Event.consent_lapses] += 1


def leave_phase(day: Day) -> None:
    """Distrust makes customers leave and consents go; records expire; consent rounds lapse
    (L1-L5)."""
    leave(day.population, day.levers, day.params, day.key("churn"), day.t, day.counts)
