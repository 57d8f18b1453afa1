"""E-mail outreach (O0-O4), one consumer at a time: the twin of `sim.mechanisms.outreach`."""

from __future__ import annotations

from ..core.constants import DAYS_PER_MONTH
from .consent import value_of


class OutreachRules:
    """A subscriber reads the day's e-mails: relevant ones build trust, spam erodes it."""

    def read_email(self) -> None:
        sc = self.model.scenario
        o, tr = sc.outreach, sc.trust
        per_month = DAYS_PER_MONTH / o.inbox_memory_days  # O2-O3: remembered mail a month
        for b, brand in enumerate(self.model.brands):
            rel = self.relations[b]
            if not rel.subscribed:
                continue
            if self.random.random() < 1.0 - (1.0 - o.list_decay_per_year) ** (1.0 / 365.0):  # O4
                rel.subscribed = False
                brand.counts["stale_addresses"] += 1
                continue
            rel.inbox *= 1.0 - 1.0 / o.inbox_memory_days  # O0: yesterday's mail fades
            rate = brand.emails_per_day
            k = int(rate) + (self.random.random() < rate - int(rate))
            k = min(k, o.max_emails_per_day)
            if k == 0:
                continue
            p_relevant = brand.targeting * brand.skill * value_of(self.held(b))
            brand.counts["emails_sent"] += k
            for _ in range(k):
                relevant = self.random.random() < p_relevant
                if relevant:
                    rel.r += tr.personalization_evidence * p_relevant
                else:  # spam; a consumer who knowingly shared is less surprised (O1)
                    rel.inbox += 1.0
                    spam = tr.spam_evidence * (1.0 - tr.informed_relief * rel.told)
                    self.negative(b, spam)
                    rel.spam += tr.negative_weight * spam  # the spam part of s (7.9)
                    p_complaint = (
                        o.complaint_per_email * (rel.inbox * per_month / 5.0) ** o.fatigue_exponent
                    )
                    if self.random.random() < p_complaint:  # O2
                        brand.counts["spam_complaints"] += 1
                        brand.counts["unsubscribes"] += 1
                        self.negative(b, o.complaint_penalty * tr.spam_evidence)
                        rel.spam += tr.negative_weight * o.complaint_penalty * tr.spam_evidence
                        rel.subscribed = False
                        break
                click = o.click_rate * (1.0 if relevant else o.irrelevant_click_ratio)
                if self.random.random() < click:
                    brand.counts["email_clicks"] += 1
                    if self.journey_left == 0 and not self.journey_channels:
                        self.journey_left = 1  # an idle consumer starts a one-day journey
                    self.journey_channels.add("email")  # a research touch, nothing asked
                p_unsub = (
                    o.unsubscribe_per_email
                    * (rel.inbox * per_month / 5.0) ** o.unsubscribe_fatigue_exponent
                )
                unsub = p_unsub * (o.relevant_unsubscribe_ratio if relevant else 1.0)  # O3
                if self.random.random() < unsub:
                    brand.counts["unsubscribes"] += 1
                    rel.subscribed = False
                    break
