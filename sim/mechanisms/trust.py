"""Trust: beta reputation with forgetting (Josang & Ismail 2002), asymmetric evidence.

Each consumer i holds, for each brand b, positive evidence r and negative evidence s. Trust is the
expected value of a beta distribution with base rate a (``prior``) and prior weight W:

    t = (r + a W) / (r + s + W)                                             (ODD 7.7, eq. T1)

so trust stays in [0, 1] by construction. Evidence arrives during the day from purchases,
personalization, outreach, consent requests, word of mouth and incidents; negative evidence is
multiplied by ``negative_weight`` >= 1 (slow to build, fast to fall; Slovic 1993). Once a day all
evidence is discounted by the forgetting factor lambda = 0.5 ** (1 / half_life_days):

    r <- lambda r,   s <- lambda s                                          (ODD 7.7, eq. T2)

so trust drifts back toward the base rate when nothing happens (slowly forgetting).
"""

from __future__ import annotations

import numpy as np

from ..core.blocks import BLOCK, block_end, over_blocks
from ..core.jit import njit
from ..state.day import Day


@njit(inline="always", cache=True)
def trust_of(r, s, prior, weight):
    """Beta-reputation trust (eq. T1)."""
    return (r + prior * weight) / (r + s + weight)


@njit(inline="always", cache=True)
def add_positive(pop, i, b, amount):
    """Add positive evidence ``amount`` >= 0 to consumer i's view of brand b."""
    pop.r[i, b] += np.float32(amount)


SHARE_STEPS = 255  # the spam share of s is kept in uint8 steps of 1/255 (7.9)


@njit(inline="always", cache=True)
def add_against(s, spam_share, i, b, e, e_spam):
    """Add weighted negative evidence ``e`` >= 0 to s[i, b], ``e_spam`` of it (``e`` or 0) from
    brand b's irrelevant mail, and keep spam_share[i, b], the spam part of s as a share of s in
    steps of 1/255 (7.9): q' = round(255 (q/255 s + e_spam) / (s + e)). Forgetting (T2) fades the
    spam part and s alike, so the share needs no update there."""
    q = spam_share[i, b]
    old = np.float64(s[i, b])
    s[i, b] += np.float32(e)
    if q == 0 and e_spam <= 0.0:
        return
    total = old + e
    if total <= 0.0:
        spam_share[i, b] = 0
        return
    x = SHARE_STEPS * (q / SHARE_STEPS * old + e_spam) / total
    spam_share[i, b] = np.uint8(min(int(x + 0.5), SHARE_STEPS))


@njit(inline="always", cache=True)
def add_negative(pop, par, i, b, amount):
    """Add negative evidence ``amount`` >= 0, weighted by the asymmetry (``negative_weight``)."""
    add_against(pop.s, pop.spam_share, i, b, par.trust.negative_weight * amount, 0.0)


@njit(inline="always", cache=True)
def spam_part(pop, i, b):
    """The part of s_ib that came from brand b's irrelevant mail (7.9): its share times s."""
    return pop.spam_share[i, b] / SHARE_STEPS * np.float64(pop.s[i, b])


@njit(inline="always", cache=True)
def add_spam(pop, par, i, b, amount):
    """Add negative evidence ``amount`` from an irrelevant e-mail (O1-O2): to s as any negative
    evidence, and to the spam part of s that the spam-loss metric reads (7.9)."""
    e = par.trust.negative_weight * amount
    add_against(pop.s, pop.spam_share, i, b, e, e)


def forget(pop, par):
    """Discount all evidence by the daily forgetting factor (eq. T2)."""
    over_blocks(_forget_blocks, pop.r.shape[0], pop.r, pop.s, np.float32(par.derived.decay))


@njit(cache=True, nogil=True)
def _forget_blocks(k0, k1, r, s, decay):
    """`forget` for the consumers of blocks k0..k1-1."""
    n = r.shape[0]
    r = r.reshape(-1)
    s = s.reshape(-1)
    width = r.size // max(n, 1)
    for j in range(k0 * BLOCK * width, block_end(k1 - 1, n) * width):
        r[j] *= decay
        s[j] *= decay


def trust_matrix(pop, par) -> np.ndarray:
    """Trust of every consumer in every brand, (N, B) float32 (vectorised, for analysis)."""
    w = np.float32(par.trust.prior_weight)
    return (pop.r + np.float32(par.trust.prior) * w) / (pop.r + pop.s + w)


def forget_phase(day: Day) -> None:
    """Evidence fades with the half-life of memory (T2)."""
    forget(day.population, day.params)
