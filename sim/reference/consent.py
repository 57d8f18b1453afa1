"""Consent and personalization (C1-C6), one consumer at a time: the twin of
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
            if self.random.random() < x:  # C5: the brand explains what it collects and why
                rel.aware = True
                rel.told = True  # consent given knowingly (O1's relief)
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
                else:  # asked again after a lapse (L5): the new answer replaces the old
                    rel.consent.discard(d)
                self.negative(b, sc.trust.ask_evidence * q * SENSITIVITY[d] * (1.0 - x))  # C2
        if observable & (rel.consent | COVERT):
            rel.account = True
            rel.last_seen = self.model.day
        held = self.held(b)
        if not held:
            return
        rel.r += sc.trust.personalization_evidence * brand.relevance_of(held)
        if held & (SENSITIVE - COVERT):  # C4: granted sensitive data used without explanation
            p = sc.consent.creepy_rate * self.concern * (1.0 - brand.transparency)
            if self.random.random() < p:
                brand.counts["creepy_moments"] += 1
                self.negative(b, sc.trust.creepy_evidence)
        covert = held & COVERT
        if covert and not rel.aware:  # C5: covert data the consumer did not know of
            sigma = max(SENSITIVITY[d] for d in covert)
            if self.random.random() < sc.consent.covert_notice_rate * self.concern * sigma:
                rel.aware = True
                brand.counts["covert_discoveries"] += 1
                self.negative(b, sc.trust.covert_evidence * sigma)
