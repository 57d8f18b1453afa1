"""E-mail outreach (O1-O3), one consumer at a time: the twin of `sim.mechanisms.outreach`."""

from __future__ import annotations

from ..mechanisms.outreach import MAX_EMAILS_PER_DAY
from .consent import value_of


class OutreachRules:
    """A subscriber reads the day's e-mails: relevant ones build trust, spam erodes it."""

    def read_email(self) -> None:
        sc = self.model.scenario
        o, tr = sc.outreach, sc.trust
        for b, brand in enumerate(self.model.brands):
            rel = self.relations[b]
            if not rel.subscribed:
                continue
            rate = brand.emails_per_day
            k = int(rate) + (self.random.random() < rate - int(rate))
            k = min(k, MAX_EMAILS_PER_DAY)
            if k == 0:
                continue
            p_relevant = brand.targeting * brand.skill * value_of(self.held(b))
            p_unsub = o.unsubscribe_per_email * (
                1.0 - o.targeting_unsubscribe_cut * brand.targeting
            )
            p_complaint = o.complaint_per_email * brand.complaint_multiplier
            brand.counts["emails_sent"] += k
            for _ in range(k):
                if self.random.random() < p_relevant:
                    rel.r += tr.personalization_evidence * p_relevant
                    if self.random.random() < o.click_rate:
                        brand.counts["email_clicks"] += 1
                        if self.journey_left == 0 and not self.journey_channels:
                            self.journey_left = 1  # an idle consumer starts a one-day journey
                        self.journey_channels.add("email")  # a research touch, nothing asked
                else:
                    self.negative(b, tr.spam_evidence)
                    if self.random.random() < p_complaint:
                        brand.counts["spam_complaints"] += 1
                        brand.counts["unsubscribes"] += 1
                        self.negative(b, 10.0 * tr.spam_evidence)
                        rel.subscribed = False
                        break
                if self.random.random() < p_unsub:
                    brand.counts["unsubscribes"] += 1
                    rel.subscribed = False
                    break
