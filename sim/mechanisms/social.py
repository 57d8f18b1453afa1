"""Social influence: word of mouth over the small-world network (ODD 7.6).

Each day a consumer talks with probability ``talk_rate``; the partner j is a uniformly drawn tie,
the topic a uniformly drawn brand b. The consumer takes in evidence proportional to how far the
friend's trust sits from the base rate:

    d = t_jb - a;   r_ib += e_wom * d  if d > 0,   s_ib += w_neg * e_wom * |d|  otherwise   (W1)

News of a breach travels the same way: if j has heard of a breach at b and i has not, i hears of
it (HEARD) and takes in half the news evidence.
"""

from __future__ import annotations

import numba as nb

from ..core.streams import consumer_state, uniform
from ..state.day import Day
from ..state.population import HEARD
from .trust import add_negative, add_positive, trust_of


@nb.njit(cache=True)
def talk(pop, par, key):
    """One day of conversations (eq. W1), in consumer order (deterministic)."""
    n, nb_ = pop.r.shape
    for i in range(n):
        st = consumer_state(key, i)
        if uniform(st, 0) >= par.trust.talk_rate:
            continue
        start = pop.tie_start[i]
        degree = pop.tie_start[i + 1] - start
        if degree == 0:
            continue
        j = pop.ties[start + min(int(uniform(st, 1) * degree), degree - 1)]
        b = min(int(uniform(st, 2) * nb_), nb_ - 1)
        d = (
            trust_of(pop.r[j, b], pop.s[j, b], par.trust.prior, par.trust.prior_weight)
            - par.trust.prior
        )
        if d > 0.0:
            add_positive(pop, i, b, par.trust.word_of_mouth * d)
        else:
            add_negative(pop, par, i, b, -par.trust.word_of_mouth * d)
        if (pop.flags[j, b] & HEARD) and not (pop.flags[i, b] & HEARD):
            pop.flags[i, b] |= HEARD
            add_negative(
                pop, par, i, b, par.incidents.word_of_mouth_news_share * par.incidents.news_evidence
            )


def talk_phase(day: Day) -> None:
    """Word of mouth: consumers tell a friend what they think of a brand (W1)."""
    talk(day.population, day.params, day.key("social"))
