"""Social influence: word of mouth over the small-world network (ODD 7.6).

Each day a consumer talks with probability ``talk_rate``; the partner j is a uniformly drawn tie,
the topic a uniformly drawn brand b. The consumer takes in evidence proportional to how far the
friend's trust sits from the base rate:

    d = t_jb - a;   r_ib += e_wom * d  if d > 0,   s_ib += w_neg * e_wom * |d|  otherwise   (W1)

News of a breach travels the same way: if j has heard of a breach at b and i has not, i hears of
it (HEARD) and takes in half the news evidence.
"""

from __future__ import annotations

import numpy as np

from ..core.blocks import call, prefetch
from ..core.jit import njit
from ..core.streams import consumer_state, uniform
from ..state.day import Day
from ..state.population import HEARD
from .trust import add_against, trust_of


@njit(cache=True)
def talk(pop, par, key):
    """One day of conversations (eq. W1), in consumer order (deterministic).

    Who talks, to which friend j and about which brand b depend only on the draws, so the pass
    finds each talker ``_AHEAD`` talkers before it applies the conversation and prefetches the
    friend's row meanwhile (a friend is a random row: a cache miss at scale). Conversations are
    applied in consumer order, each reading the friend's trust as it is at that moment, as a plain
    loop would.
    """
    n, nb_ = pop.r.shape
    r, s, share, flags = pop.r, pop.s, pop.spam_share, pop.flags
    tp = par.trust
    news = par.incidents.word_of_mouth_news_share * par.incidents.news_evidence
    queue = np.empty((_AHEAD, 3), np.int64)  # (i, j, b) of the talkers found, not yet applied
    head = 0
    queued = 0
    talks = np.empty(_CHUNK, np.bool_)
    talkers = np.empty(_CHUNK, np.int64)
    for c0 in range(0, n, _CHUNK):
        c1 = min(n, c0 + _CHUNK)
        # who talks, for a chunk of consumers at once: a loop of hashes alone, which the
        # compiler vectorises; then the talkers' indices in order (a consumer's draws are a
        # function of (key, consumer), the same whether made here or below)
        for i in range(c0, c1):
            talks[i - c0] = uniform(consumer_state(key, i), 0) < tp.talk_rate
        m = 0
        for i in range(c0, c1):
            talkers[m] = i
            m += talks[i - c0]
        for q in range(m):
            i = talkers[q]
            st = consumer_state(key, i)
            start = pop.tie_start[i]
            degree = pop.tie_start[i + 1] - start
            if degree == 0:
                continue
            j = pop.ties[start + min(int(uniform(st, 1) * degree), degree - 1)]
            b = min(int(uniform(st, 2) * nb_), nb_ - 1)
            prefetch(r, j, b)
            prefetch(s, j, b)
            prefetch(flags, j, b)
            if queued == _AHEAD:
                _converse(
                    r, s, share, flags, tp, news, queue[head, 0], queue[head, 1], queue[head, 2]
                )
            else:
                queued += 1
            queue[head, 0], queue[head, 1], queue[head, 2] = i, j, b
            head = (head + 1) % _AHEAD
    first = (head - queued) % _AHEAD
    for k in range(queued):
        q = (first + k) % _AHEAD
        _converse(r, s, share, flags, tp, news, queue[q, 0], queue[q, 1], queue[q, 2])


_CHUNK = 512  # consumers whose talk draws are made in one vectorised loop


_AHEAD = 16  # talkers found before the first of them is applied


@njit(inline="always", cache=True)
def _converse(r, s, share, flags, tp, news, i, j, b):
    """Consumer i takes in friend j's view of brand b (W1) and j's news of a breach at b."""
    d = trust_of(r[j, b], s[j, b], tp.prior, tp.prior_weight) - tp.prior
    if d > 0.0:
        r[i, b] += np.float32(tp.word_of_mouth * d)  # add_positive
    else:
        add_against(s, share, i, b, tp.negative_weight * (-tp.word_of_mouth * d), 0.0)
    if (flags[j, b] & HEARD) and not (flags[i, b] & HEARD):
        flags[i, b] |= HEARD
        add_against(s, share, i, b, tp.negative_weight * news, 0.0)


def talk_phase(day: Day) -> None:
    """Word of mouth: consumers tell a friend what they think of a brand (W1)."""
    call(talk, day.population, day.params, day.key("social"))
