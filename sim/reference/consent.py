"""Consent and personalization (C1-C4), one consumer at a time: the twin of
`sim.mechanisms.consent`."""

from __future__ import annotations

import math

from ..core.catalogue import DATA_TYPES
from .catalogue import BUNDLED, CONVENIENCE, COVERT, DIRECT, OBSERVES, SENSITIVE, SENSITIVITY, VALUE


def value_of(types) -> float:
    """Personalization value V(H) of a set of data types."""
    return sum(VALUE[d] for d in types)


class ConsentRules:
    """What a brand holds on a consumer; a touch: observe, ask for consent, personalise."""

    def held(self, b: int):
        """Data types brand b holds on this consumer: none without a record."""
        rel = self.relations[b]
        if not rel.account:
            return frozenset()
        return self.model.brands[b].scope & (rel.consent | COVERT)

    def touch(self, b: int, channel: str) -> None:
        brand, rel = self.model.brands[b], self.relations[b]
        sc = self.model.scenario
        observable = brand.scope & OBSERVES[channel]
        if not observable:
            return
        askable = observable - COVERT - rel.asked
        if DIRECT[channel] and askable:
            t = self.trust(b)
            x, q = brand.transparency, self.concern
            c = sc.consent
            for d in sorted(askable, key=DATA_TYPES.index):
                rel.asked.add(d)
                brand.counts["consent_requests"] += 1
                logit = (
                    c.intercept
                    + c.trust_effect * (t - sc.trust.prior)
                    + c.transparency_effect * x
                    - c.concern_effect * q * SENSITIVITY[d]
                    + CONVENIENCE[d]
                )
                if not self.reads_terms and d in BUNDLED:
                    logit += c.unread_bonus
                if self.random.random() < 1.0 / (1.0 + math.exp(-logit)):
                    rel.consent.add(d)
                    brand.counts["consents_granted"] += 1
                self.negative(b, sc.trust.ask_evidence * q * SENSITIVITY[d] * (1.0 - x))  # C2
        if observable & (rel.consent | COVERT):
            rel.account = True
            rel.last_seen = self.model.day
        held = self.held(b)
        if not held:
            return
        rel.r += sc.trust.personalization_evidence * brand.relevance_of(held)
        if held & SENSITIVE:
            p = sc.consent.creepy_rate * self.concern * (1.0 - brand.transparency)
            if self.random.random() < p:
                brand.counts["creepy_moments"] += 1
                self.negative(b, sc.trust.creepy_evidence)
