"""Consent and personalization: what a brand observes on a touch, what it asks, how it personalises.

On every touch between consumer i and brand b in channel c (ODD 7.3):

1. Observable data: O = scope_b & observes_c. Covert types in O (on-site behaviour, cross-site
   tracking, in-store cameras) are collected without asking; the others need consent.
2. Consent requests, on direct channels only, once per data type d in O not yet asked (or asked
   again after the consent round lapsed, churn.py L5; the answer replaces the old one):
       logit P(grant) = beta0 + beta_t (t_ib - a) + beta_x x_b - beta_c q_i sigma_d
                        + beta_u [i does not read terms and d is bundled in the terms]
                        + v_d                                                               (C1)
   with x_b the brand's transparency, q_i the consumer's privacy concern, sigma_d the data
   type's sensitivity and v_d its convenience (one-click sign-in or checkout). Asking without
   explaining costs trust with concerned consumers:
       s_ib += w_neg * e_ask * q_i * sigma_d * (1 - x_b)                                     (C2)
3. Collection: if any of O is covert or consented, the brand holds a record (ACCOUNT) touched today.
4. Personalization relevance, from the data held H = scope_b & (consent_ib | covert):
       rho_ib = skill_b * V(H) * (0.5 + 0.5 integration_b)                                   (C3)
   with V(H) the summed personalization value of the held types. A relevant touch adds positive
   evidence e_pers * rho_ib. If H contains sensitive types the consumer granted (sensitivity >=
   0.7 and not covert: location), the consumer may notice their use:
       P(creepy) = p_creepy * q_i * (1 - x_b)  ->  s_ib += w_neg * e_creepy                  (C4)
5. Transparency (C5, C6). When the brand asks (step 2), it explains what it collects, covert types
   included, and why with probability x_b: the consumer then knows what they share (AWARE) and
   is not surprised by its use. A consumer who is not AWARE and whose held data H includes covert
   types may notice their use on a personalised touch:
       P(notice) = p_covert * q_i * sigma_max(H & COVERT)
       ->  s_ib += w_neg * e_covert * sigma_max(H & COVERT),  AWARE                          (C5)
   so covert data does not improve relevance for free. A breach that exposes covert data of a
   consumer who is not AWARE reveals it the same way when it is disclosed (`reveal`, C6), and so
   does a media story about the brand's data practices (``reveals_covert``) for every consumer it
   reaches (`covert_surprise`, C7, called by incidents.py).
   Irrelevant email to a subscriber the brand told, when it asked, what it collects (TOLD: consent
   given knowingly) costs (1 - informed_relief) of its spam evidence (outreach.py, O1); learning
   it by discovery (C5's notice, C6, C7) makes the consumer AWARE, not TOLD: no relief.
"""

from __future__ import annotations

import numpy as np

from ..core.catalogue import (
    BUNDLED_MASK,
    CONVENIENCE,
    COVERT_MASK,
    DIRECT,
    OBSERVES,
    SENSITIVITY,
    TOLD_MASK,
)
from ..core.jit import njit
from ..core.streams import uniform
from ..state.parameters import SENSITIVE_MASK, VALUE_OF_MASK
from ..state.population import ACCOUNT, AWARE
from .metrics import Event
from .trust import add_against, add_negative, trust_of

_SENS = SENSITIVITY.astype(np.float64)
_N_TYPES = SENSITIVITY.size
# Highest sensitivity among the set bits of every 8-bit data-type mask (0 for the empty mask).
MAX_SENSITIVITY_OF_MASK = np.array(
    [
        max([float(_SENS[d]) for d in range(_N_TYPES) if m & (1 << d)], default=0.0)
        for m in range(256)
    ]
)
_GRANTED_SENSITIVE = SENSITIVE_MASK & ~COVERT_MASK


@njit(inline="always", cache=True)
def held_mask(pop, brands, i, b):
    """Data types brand b holds on consumer i (0 when it holds no record)."""
    if not (pop.flags[i, b] & ACCOUNT):
        return 0
    return brands.scope[b] & (np.int64(pop.consent[i, b]) | COVERT_MASK)


def held_masks(pop, brands, b: int) -> np.ndarray:
    """`held_mask` of every consumer for brand b, as an int64 array (for measurements outside the
    kernels, e.g. who holds a payment card when a breach strikes)."""
    held = brands.scope[b] & (pop.consent[:, b].astype(np.int64) | COVERT_MASK)
    return np.where((pop.flags[:, b] & ACCOUNT) != 0, held, 0)


@njit(inline="always", cache=True)
def relevance(pop, brands, i, b):
    """Personalization relevance rho_ib in [0, 1] (eq. C3)."""
    h = held_mask(pop, brands, i, b)
    if h == 0:
        return 0.0
    return (
        brands.personalization_skill[b]
        * VALUE_OF_MASK[h]
        * (0.5 + 0.5 * brands.omnichannel_integration[b])
    )


@njit(inline="always", cache=True)
def touch(pop, brands, par, i, b, c, day, consent_state, personal_state, slot, counts):
    """A touch between consumer i and brand b in channel c: ask, collect, personalise.

    ``slot`` offsets the draws so that several touches of one consumer on one day use distinct
    draws of the ``consent`` and ``personalization`` streams. Inlined into its caller, and so is
    `touch_row`, which reads only the arrays and numbers it needs: a compiled call that passed the
    whole population and brand tables cost more than the touch itself, and even a call of
    `touch_row` (7 arrays, two tables of parameters) cost about as much as the rest of a research
    day (issue 14: research 24 -> 13 ns per consumer-day at 10,000 x 5 brands once inlined).
    """
    touch_row(
        pop.r, pop.s, pop.spam_share, pop.consent, pop.asked, pop.flags, pop.last_seen,
        pop.concern[i], pop.reads_terms[i], brands.scope[b], brands.transparency[b],
        brands.personalization_skill[b], brands.omnichannel_integration[b], par.trust,
        par.consent, i, b, c, day, consent_state, personal_state, slot, counts,
    )  # fmt: skip


@njit(inline="always", cache=True)
def touch_row(
    r, s, spam_share, consent, asked, flags, last_seen, q, reads_terms, scope, x, skill,
    integration, tp, cp, i, b, c, day, consent_state, personal_state, slot, counts,
):  # fmt: skip
    """`touch` on the arrays it writes (``spam_share``: the spam share of s, 7.9, diluted by the
    negative evidence added here) and the numbers it reads: consumer i's privacy concern
    ``q`` and ``reads_terms``; brand b's ``scope``, transparency ``x``, personalization ``skill``
    and omnichannel ``integration``; the [trust] and [consent] tables ``tp``, ``cp``."""
    observable = scope & OBSERVES[c]
    if observable == 0:
        return
    askable = observable & ~COVERT_MASK & ~np.int64(asked[i, b])
    if DIRECT[c] and askable != 0:
        t = trust_of(r[i, b], s[i, b], tp.prior, tp.prior_weight)
        if uniform(personal_state, 2 + slot) < x:  # C5: the brand explains what it collects
            flags[i, b] |= AWARE
            asked[i, b] |= np.uint8(TOLD_MASK)  # consent given knowingly (O1 reads it)
        for d in range(_N_TYPES):
            bit = np.int64(1) << d
            if not (askable & bit):
                continue
            asked[i, b] |= np.uint8(bit)
            counts[b, Event.consent_requests] += 1
            logit = (
                cp.intercept
                + cp.trust_effect * (t - tp.prior)
                + cp.transparency_effect * x
                - cp.concern_effect * q * _SENS[d]
                + CONVENIENCE[d]
            )
            if (not reads_terms) and (BUNDLED_MASK & bit):
                logit += cp.unread_bonus
            if uniform(consent_state, slot * 8 + d) < 1.0 / (1.0 + np.exp(-logit)):
                consent[i, b] |= np.uint8(bit)
                counts[b, Event.consents_granted] += 1
            else:  # asked again after a lapse (churn.py, L5): a refusal withdraws the old grant
                consent[i, b] &= np.uint8(0xFF ^ bit)
            add_against(
                s,
                spam_share,
                i,
                b,
                tp.negative_weight * (tp.ask_evidence * q * _SENS[d] * (1.0 - x)),
                0.0,
            )
    collected = observable & (np.int64(consent[i, b]) | COVERT_MASK)
    if collected != 0:
        flags[i, b] |= ACCOUNT
        last_seen[i, b] = day
    if not (flags[i, b] & ACCOUNT):
        return
    h = scope & (np.int64(consent[i, b]) | COVERT_MASK)  # held_mask
    if h == 0:
        return
    rho = skill * VALUE_OF_MASK[h] * (0.5 + 0.5 * integration)
    r[i, b] += np.float32(tp.personalization_evidence * rho)
    if h & _GRANTED_SENSITIVE:
        p = cp.creepy_rate * q * (1.0 - x)
        if uniform(personal_state, slot) < p:
            counts[b, Event.creepy_moments] += 1
            add_against(s, spam_share, i, b, tp.negative_weight * tp.creepy_evidence, 0.0)
    covert = h & COVERT_MASK
    if covert != 0 and not (flags[i, b] & AWARE):
        sigma = MAX_SENSITIVITY_OF_MASK[covert]
        p = cp.covert_notice_rate * q * sigma
        if uniform(personal_state, 4 + slot) < p:
            flags[i, b] |= AWARE
            counts[b, Event.covert_discoveries] += 1
            add_against(s, spam_share, i, b, tp.negative_weight * (tp.covert_evidence * sigma), 0.0)


@njit(inline="always", cache=True)
def covert_surprise(pop, brands, par, i, b, counts):
    """C7: a media story about b's data practices reaches consumer i; if the relation holds
    covert types and is not AWARE, i takes w_neg * e_covert * sigma_max and knows now."""
    if pop.flags[i, b] & AWARE:
        return
    covert = held_mask(pop, brands, i, b) & COVERT_MASK
    if covert == 0:
        return
    pop.flags[i, b] |= AWARE
    counts[b, Event.covert_discoveries] += 1
    add_negative(pop, par, i, b, par.trust.covert_evidence * MAX_SENSITIVITY_OF_MASK[covert])


@njit(cache=True)
def reveal(pop, brands, par, brand, breach_day, types, counts):
    """C6: a disclosed breach exposes covert data of consumers who did not know the brand held it
    (exposed on ``breach_day``, not AWARE): they take w_neg * e_covert * sigma_max and know now."""
    for i in range(pop.flags.shape[0]):
        if pop.exposed_day[i, brand] != breach_day or (pop.flags[i, brand] & AWARE):
            continue
        covert = held_mask(pop, brands, i, brand) & types & COVERT_MASK
        if covert == 0:
            continue
        pop.flags[i, brand] |= AWARE
        counts[brand, Event.covert_discoveries] += 1
        sigma = MAX_SENSITIVITY_OF_MASK[covert]
        add_negative(pop, par, i, brand, par.trust.covert_evidence * sigma)
