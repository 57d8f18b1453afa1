"""Leaving, revoking, deleting, consent rounds lapsing (L1-L5), one consumer at a time: the twin of
`sim.mechanisms.churn`."""

from __future__ import annotations


class ChurnRules:
    """Concern drifts; records expire; distrust makes customers leave and consents go."""

    def leave(self) -> None:
        m = self.model
        sc, day = m.scenario, m.day
        tr = sc.trust
        if m.concern_drift != 0.0:
            self.concern = min(1.0, max(0.0, self.concern + m.concern_drift))
        for b, rel in enumerate(self.relations):
            brand = m.brands[b]
            if rel.account and day - rel.last_seen > brand.retention:  # L4
                rel.account = False
                brand.counts["accounts_deleted"] += 1
            t = self.trust(b)
            if t < tr.churn_threshold:
                if rel.customer and not rel.churned and self.random.random() < tr.churn_rate:
                    rel.churned = True  # L1
                    brand.counts["churn_events"] += 1
                    if (
                        rel.exposed_day >= 0
                        and rel.account
                        and self.random.random() < sc.incidents.account_deletion
                    ):
                        rel.account = False
                        rel.consent = set()
                        brand.counts["accounts_deleted"] += 1
                if (
                    rel.consent or rel.subscribed
                ) and self.random.random() < sc.consent.revoke_rate:  # L3
                    rel.consent = set()
                    brand.counts["consent_revocations"] += 1  # not an e-mail unsubscribe
                    rel.subscribed = False
            elif rel.churned and t > tr.return_threshold:  # L2
                rel.churned = False
            if rel.asked and self.random.random() < 1.0 / brand.consent_refresh_days:  # L5
                rel.asked = set()  # the consent round lapses: the brand will ask again
                rel.aware = False  # what the consumer was told belongs to the round (C5)
                rel.told = False
                brand.counts["consent_lapses"] += 1
